"""Seal and verify timings beside pyHanko alone on the same files. Prints figures only.

For a 1-page and a 50-page document with 20 filled fields: our pipeline (burn the fields in,
seal, then validate against the portal CA and look the file up by sha256) next to the signing
library alone signing and validating the same burned-in file. The ratio is the figure to watch.

Run from the repository root: .venv/bin/python bench/seal_verify.py
"""

import hashlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402

from bench.pdf import text_pdf  # noqa: E402
from portal.sealing.burn import Mark, burn_marks  # noqa: E402
from portal.sealing.certs import ensure_portal_certificates  # noqa: E402
from portal.sealing.pades import (  # noqa: E402
    _signer_for,
    _to_asn1_cert,
    seal_pdf,
    validate_pdf,
)

RUNS = 15


def twenty_marks(pages: int) -> list[Mark]:
    """20 filled fields spread over the pages: names, dates, requisites, check marks."""
    marks = []
    for index in range(20):
        page = 1 + index % pages
        y = 0.05 + (index // pages % 10) * 0.09
        kind = "check" if index % 5 == 4 else "text"
        marks.append(Mark(page=page, x=0.1, y=y, w=0.35, h=0.05, kind=kind,
                          text=f"Field {index}: Иванов И. И., 23.11.2026"))
    return marks


def median_ms(action) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def library_sign(pdf: bytes, signer) -> bytes:
    out = io.BytesIO()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Bench"), signer=signer,
                     output=out)
    return out.getvalue()


def library_validate(pdf: bytes, roots) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf))
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    validate_pdf_signature(reader.embedded_signatures[0], context)


def measure(pages: int, certificates, signer, roots) -> None:
    """Print our seal and verify times beside pyHanko's for one document size."""
    source = text_pdf(pages)
    marks = twenty_marks(pages)
    burned = burn_marks(source, marks)
    sealed = seal_pdf(burned, certificates, reason="bench", location="bench")
    registry = {hashlib.sha256(sealed).hexdigest()}

    def ours_seal():
        seal_pdf(burn_marks(source, marks), certificates, reason="bench", location="bench")

    def ours_verify():
        validate_pdf(sealed, [certificates.ca_cert])
        assert hashlib.sha256(sealed).hexdigest() in registry

    rows = (
        ("seal", median_ms(ours_seal), median_ms(lambda: library_sign(burned, signer))),
        ("verify", median_ms(ours_verify), median_ms(lambda: library_validate(sealed, roots))),
    )
    for step, ours, library in rows:
        label = f"{pages} page(s) {step}"
        print(f"{label:<22}{ours:>10.1f}ms{library:>10.1f}ms{ours / library:>8.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        certificates = ensure_portal_certificates(Path(folder))
        signer = _signer_for(certificates)
        roots = [_to_asn1_cert(certificates.ca_cert)]
        print(f"{RUNS} runs each, median; 20 filled fields; EC P-256 seal, no timestamp")
        print(f"{'document':<22}{'ours':>12}{'pyHanko':>12}{'ratio':>8}")
        for pages in (1, 50):
            measure(pages, certificates, signer, roots)
        print("ours seal = burn-in of the 20 fields + PAdES seal; "
              "ours verify = validation + sha256 registry lookup")


if __name__ == "__main__":
    main()
