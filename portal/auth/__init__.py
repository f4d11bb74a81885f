"""Employees: accounts, departments, login, and the permission authority."""
