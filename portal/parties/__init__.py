"""Our companies and the counterparties we send documents to."""
