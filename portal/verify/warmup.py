"""Imported only by the sandbox's forkserver: run one check there so every child starts warm.

pyHanko, asn1crypto and OpenSSL fill caches on first use; done once in the forkserver, every
forked child shares them instead of paying ~15 ms each (see the report of issue 5).
"""

import gc
import io
import logging
import tempfile

from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from portal.sealing.certs import ensure_portal_certificates
from portal.sealing.pades import seal_pdf
from portal.verify.inspection import inspect_pdf

log = logging.getLogger(__name__)


def _one_page_pdf() -> bytes:
    writer = PdfFileWriter()
    contents = writer.add_object(generic.StreamObject(stream_data=b"0 0 m 10 10 l S"))
    writer.insert_page(PageObject(contents=contents, media_box=[0, 0, 595, 842]))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def warm_up() -> None:
    """Seal a throw-away page with a throw-away CA and inspect it, unchanged and changed."""
    with tempfile.TemporaryDirectory(prefix="signet-warm-up-") as folder:
        certificates = ensure_portal_certificates(folder, "Warm-up")
    sealed = seal_pdf(_one_page_pdf(), certificates, reason="warm-up", location="here")
    roots = (certificates.ca_cert.public_bytes(serialization.Encoding.DER),)
    inspect_pdf(sealed, roots)
    inspect_pdf(sealed + b"\n", roots)


try:
    warm_up()
# Only a speed-up: a forkserver that could not warm up still checks files correctly.
except Exception:
    log.exception("The verification sandbox could not warm up")
# Children share the forkserver's objects copy-on-write; the collector must not walk (and so
# copy) them all in every child.
gc.freeze()
