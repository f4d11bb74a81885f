"""Why a file is refused: a code from the sandboxed child, a message for its sender.

The work on an untrusted file runs in a child process with no app (portal/sandbox.py), so it
refuses with a FileRefused code and its numbers; the web process turns that into a sentence
in the sender's language (PdfRejected).
"""

from flask import current_app
from flask_babel import gettext as _

from portal.errors import DomainError
from portal.sandbox import BUSY, ExpectedError

EMPTY = "empty"
TOO_LARGE = "too_large"
NOT_SUPPORTED = "not_supported"
DAMAGED = "damaged"
ENCRYPTED = "encrypted"
NO_PAGES = "no_pages"
TOO_MANY_PAGES = "too_many_pages"
IMAGE_TOO_LARGE = "image_too_large"
PDF_IMAGE_TOO_LARGE = "pdf_image_too_large"
IMAGE_UNREADABLE = "image_unreadable"
DYNAMIC_FORM = "dynamic_form"
ALREADY_SIGNED = "already_signed"
NOT_SEALABLE = "not_sealable"
TOO_COMPLEX = "too_complex"
BUSY_NOW = "busy"


class PdfRejected(DomainError):
    """The uploaded file cannot become a document; `message` tells the user why."""

    status = 422

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class FileRefused(ExpectedError):
    """Raised in the sandbox: the file is refused for `code`, with the numbers of the message."""

    def __init__(self, code: str, **numbers):
        super().__init__(code, numbers)
        self.code = code
        self.numbers = numbers

    def __reduce__(self):
        return _refused, (self.code, self.numbers)


def _refused(code: str, numbers: dict) -> FileRefused:
    return FileRefused(code, **numbers)


def rejection(code: str, **numbers) -> PdfRejected:
    """The PdfRejected for a refusal code, its message in the current language."""
    return PdfRejected(_MESSAGES[code](numbers), code)


def rejection_for_failure(reason: str) -> PdfRejected:
    """The sandbox gave no answer: the file was too much for its bounds, or all were busy."""
    return rejection(BUSY_NOW if reason == BUSY else TOO_COMPLEX)


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


_MESSAGES = {
    EMPTY: lambda n: _("The file is empty. Choose the document again and upload it."),
    TOO_LARGE: lambda n: _(
        "This file is larger than %(limit)s MB. Choose a smaller file.",
        limit=_megabytes(current_app.config["SIGNET_UPLOAD_MAX_BYTES"])),
    NOT_SUPPORTED: lambda n: _(
        "This file is not a PDF, PNG or JPEG. Save the document as a PDF and upload it."),
    DAMAGED: lambda n: _(
        "This PDF is damaged and cannot be opened. Open it on your computer, save or "
        "export it as a new PDF, and upload that file."),
    ENCRYPTED: lambda n: _(
        "This PDF is protected with a password or encryption. Remove the protection "
        "(for example, print it to a new PDF) and upload it again."),
    NO_PAGES: lambda n: _("This PDF has no pages. Choose another file."),
    TOO_MANY_PAGES: lambda n: _(
        "This PDF has %(count)d pages; the limit is %(limit)d. Split it into "
        "smaller documents.", count=n["count"], limit=n["limit"]),
    IMAGE_TOO_LARGE: lambda n: _(
        "This image is too large (%(size)s megapixels; the limit is %(limit)s). Reduce "
        "its size and upload it again.",
        size=f"{n['pixels'] / 1_000_000:.0f}", limit=f"{n['limit'] / 1_000_000:.0f}"),
    PDF_IMAGE_TOO_LARGE: lambda n: _(
        "This PDF contains an image too large to process safely (%(size)s megapixels; the "
        "limit is %(limit)s). Export the PDF with smaller images and upload it again.",
        size=f"{n['pixels'] / 1_000_000:.0f}", limit=f"{n['limit'] / 1_000_000:.0f}"),
    IMAGE_UNREADABLE: lambda n: _(
        "This image is damaged and cannot be read. Save it again, or upload a PDF instead."),
    DYNAMIC_FORM: lambda n: _(
        "This PDF is a dynamic form whose pages are drawn by the viewer program, so what "
        "signers would see cannot be fixed. Print it to a new PDF and upload that file."),
    ALREADY_SIGNED: lambda n: _(
        "This PDF already carries a digital signature. Signing it here would break that "
        "signature, and the portal's seal must be the document's first. Upload the document "
        "as it was before it was signed, or print it to a new PDF and upload that file."),
    NOT_SEALABLE: lambda n: _(
        "This PDF's inner structure could not be sealed in a test run (it is nested too "
        "deeply or inconsistent), so it could never become a signed document. Print or "
        "export it to a new PDF and upload that file."),
    TOO_COMPLEX: lambda n: _(
        "This file is too complex to process safely: opening it needs more time or memory "
        "than the portal allows. Print or export it to a new PDF and upload that file."),
    BUSY_NOW: lambda n: _(
        "The portal is busy processing other files right now. Try again in a minute."),
}
