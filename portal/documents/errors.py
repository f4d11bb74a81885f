"""Refusals of the documents domain; each carries a message for the user."""

from flask_babel import gettext as _

from portal.documents.display import format_moment
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


class FilesPurged(DomainError):
    """The company's retention deleted the document's PDFs: the download is gone for good."""

    status = 410

    def __init__(self, purged_at):
        super().__init__(_(
            "The portal no longer stores this file: it was deleted on %(moment)s, when the "
            "company's retention period ended. The document's record stays, and a kept copy "
            "can still be checked on the verify page.", moment=format_moment(purged_at)))


def require_files_kept(document) -> None:
    """FilesPurged (410) when retention deleted this document's PDFs."""
    if document.files_purged_at is not None:
        raise FilesPurged(document.files_purged_at)
