"""Documents, their parties (signers) and fields: create, edit, place fields, send, stop."""
