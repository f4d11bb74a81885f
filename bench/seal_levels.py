"""The cost of each PAdES level of the portal's seal on a 1-page act, and of verifying it.

Each figure is printed beside the limit measured in the same run, pyHanko's bare B-B signature
of the same file (an EC P-256 key, no time stamp, no validation data), as a ratio:
- B-B: the certifying seal alone;
- B-T: plus a signature time stamp from the portal's own time-stamping certificate;
- B-LT: plus the chain's revocation data (DSS) from the CRL made in-process;
- B-LTA: plus a document time stamp (what finalizing does without an outside authority);
- verify: the verify page's inspection of that file (in-process, without the sandbox's child).

Run from the repository root: .venv/bin/python bench/seal_verify.py
"""

import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402

from bench import timing  # noqa: E402
from bench.pdf import text_pdf  # noqa: E402
from portal.sealing import certs  # noqa: E402
from portal.sealing.pades import (  # noqa: E402
    LongTerm,
    own_timestamper,
    seal_pdf,
    signer_for,
    signing_context,
)
from portal.verify.inspection import inspect_pdf  # noqa: E402

RUNS = 15


def median_ms(action) -> float:
    return timing.median_ms(action, RUNS)


def bare_sign(pdf: bytes, signer) -> bytes:
    """The limit: pyHanko's plain B-B signature of the same file."""
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                     signers.PdfSignatureMetadata(field_name="Bench"), signer=signer, output=out)
    return out.getvalue()


def sealed_at(level: str, pdf: bytes, certificates, long_term: LongTerm) -> bytes:
    if level == "B-B":
        return seal_pdf(pdf, certificates, reason="Bench", location="Bench")
    if level == "B-LTA":
        return seal_pdf(pdf, certificates, reason="Bench", location="Bench",
                        long_term=long_term)
    # B-T and B-LT are steps the portal never stops at on its own: signed here the same way.
    metadata = signers.PdfSignatureMetadata(
        field_name="SignetSeal", md_algorithm="sha256", reason="Bench", location="Bench",
        certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=level == "B-LT",
        validation_context=signing_context(certificates, long_term, external=False)
        if level == "B-LT" else None)
    out = io.BytesIO()
    signers.PdfSigner(metadata, signer=signer_for(certificates),
                      timestamper=own_timestamper(certificates)).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), output=out)
    return out.getvalue()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        certificates = certs.ensure_portal_certificates(folder, "Bench", "https://bench.test")
        crls = (certs.current_crl(folder),)
        long_term = LongTerm(crls=crls, own_url_prefix="https://bench.test")
        roots = (certificates.ca_cert.public_bytes(serialization.Encoding.DER),)
        pdf = text_pdf(1)
        signer = signer_for(certificates)
        for _warm_up in range(5):  # imports, key loading and caches out of the first figure
            bare_sign(pdf, signer)
            sealed_at("B-LTA", pdf, certificates, long_term)
        print(f"\n{RUNS} runs each, median; a 1-page act; EC P-256 seal; the portal's own time "
              "stamps; limit: pyHanko's bare B-B sign of the same file")
        print(f"{'level':<16}{'ours':>10}{'limit':>10}{'ratio':>8}{'size':>10}")
        for level in ("B-B", "B-T", "B-LT", "B-LTA"):
            sealed = sealed_at(level, pdf, certificates, long_term)
            found = inspect_pdf(sealed, roots, (), crls).seal
            assert found.trusted and found.level == level, (level, found.level)
            limit = median_ms(lambda: bare_sign(pdf, signer))
            seal_ms = median_ms(
                lambda level=level: sealed_at(level, pdf, certificates, long_term))
            verify_ms = median_ms(lambda sealed=sealed: inspect_pdf(sealed, roots, (), crls))
            for step, ours in (("seal", seal_ms), ("verify", verify_ms)):
                print(f"{level + ' ' + step:<16}{ours:>8.1f}ms{limit:>8.1f}ms"
                      f"{ours / limit:>8.2f}{len(sealed):>10}")


if __name__ == "__main__":
    main()
