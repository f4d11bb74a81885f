"""Can this source be sealed? A dry run of the final assembly, in the sandbox, at upload.

An upload that passes every other check may still break the seal at the very end, after
everyone signed: structure nested deeper than pypdf or pyHanko can follow, a certification
that is not the first signature. The dry run composes the pages with a footer and certifies
the result with a throw-away certificate, so a file that would fail is refused while its
sender is still there. Runs only in the sandbox (portal/pdfs/bounded.run_bounded).
"""

import functools
import logging

from portal.pdfs.bounded import run_bounded
from portal.pdfs.errors import NOT_SEALABLE, rejection
from portal.sandbox import ExpectedError, preload
from portal.sealing.burn import PAGE_PLACEHOLDER, TOTAL_PLACEHOLDER, compose
from portal.sealing.certs import PortalCertificates, new_certificates
from portal.sealing.pades import seal_pdf

preload(__name__)
log = logging.getLogger(__name__)

TRIAL_FOOTER = f"Trial · {PAGE_PLACEHOLDER} / {TOTAL_PLACEHOLDER}"


class NotSealable(ExpectedError):
    """The dry run failed; the one argument says how (untranslated, for the log)."""


@functools.cache
def _throwaway_certificates() -> PortalCertificates:
    # In memory: each dry run is a fresh child, and a folder per upload would stay behind.
    return new_certificates("Signet trial")


def ensure_sealable(pdf_bytes: bytes) -> None:
    """PdfRejected, with its message, unless a dry run in the sandbox seals this source."""
    try:
        run_bounded(check_sealable, pdf_bytes)
    except NotSealable as failed:
        log.info("An upload could not be sealed in a dry run: %s", failed.args[0])
        raise rejection(NOT_SEALABLE) from None


def check_sealable(pdf_bytes: bytes) -> None:
    """NotSealable unless the source makes a final PDF that can be certified."""
    # pyHanko logs every oddity of a hostile file, thousands of lines of them; this process
    # is thrown away after the answer, and the answer says enough.
    logging.disable(logging.CRITICAL)
    try:
        composed = compose(pdf_bytes, [], None, TRIAL_FOOTER)
        seal_pdf(composed, _throwaway_certificates(), reason="trial", location="trial")
    except MemoryError:
        raise  # the sandbox reports it as too complex
    # pypdf and pyHanko fail in many ways on structure they cannot follow: all mean "no".
    except Exception as error:
        raise NotSealable(f"{type(error).__name__}: {error}"[:300]) from error
