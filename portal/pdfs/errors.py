"""The one error an upload can meet: the file is refused, with a message for its sender."""

from portal.errors import DomainError


class PdfRejected(DomainError):
    """The uploaded file cannot become a document; `message` tells the user why."""

    status = 422
