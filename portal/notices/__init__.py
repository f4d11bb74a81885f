"""What people are told as a document moves: invitations, reminders and the endings' notices.

`texts.py` writes the messages (one text per occasion, in the reader's language); the
reactions in `reactions.py` send them when the workflow publishes a change.
"""
