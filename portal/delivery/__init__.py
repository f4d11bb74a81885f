"""Outgoing messages: the outbox, its backends (SMTP, SMS gateway) and the jobs that send."""
