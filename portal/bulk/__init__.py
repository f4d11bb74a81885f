"""Bulk sending: one template to many clients from a spreadsheet."""
