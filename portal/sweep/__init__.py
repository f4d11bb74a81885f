"""The periodic sweep: reminders, expiry, stuck sealing and mail, old vault bundles.

Everything it decides comes from stored times (the database is the source of truth), so a
sweep that runs twice, late, or at the same moment as another sends nothing twice.
"""
