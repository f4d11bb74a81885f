"""PDFium access: one lock for every call, because PDFium is not thread-safe at all.

Only sandbox children (portal/sandbox.py) open documents: one thread each, so the lock is
never waited on there, and the web process never loads a page at all.
"""

import threading
from contextlib import contextmanager

import pypdfium2

# Not even two different documents may be used from two threads at once, so the lock is
# module-wide. Processes (gunicorn workers, RQ work-horses) each have their own PDFium.
PDFIUM_LOCK = threading.RLock()


@contextmanager
def open_document(pdf_bytes: bytes, with_forms: bool = False):
    """A PdfDocument for `pdf_bytes`, used and closed while holding PDFIUM_LOCK."""
    with PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(pdf_bytes)
        try:
            if with_forms:
                document.init_forms()
            yield document
        finally:
            document.close()
