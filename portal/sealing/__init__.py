"""Sealing: visible marks burned into the page content, then the file is sealed."""
