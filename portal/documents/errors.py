"""Refusals of the documents domain; each carries a message for the user."""

from flask_babel import gettext as _

from portal.errors import DomainError


class DocumentRefused(DomainError):
    """Some values cannot be saved; `errors` maps a field name (or group) to its message."""

    status = 422

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        super().__init__(next(iter(errors.values())))
        self.errors = errors


class DocumentLocked(DomainError):
    """The document left the draft stage: its content is frozen."""

    status = 409

    def __init__(self, message: str | None = None):
        super().__init__(message or _(
            "This document was sent and can no longer be edited. Stop it and create a new one."
        ))


class AlreadySent(DomainError):
    """A second send of the same document (a double click, two tabs)."""

    status = 409

    def __init__(self):
        super().__init__(_("This document was already sent; nothing was sent twice."))


class NumberPatternInvalid(DomainError):
    """A company's number pattern cannot produce numbers."""

    status = 422
