"""The work of bench/seal_verify.py (kept out of the script so verification's child processes,
which import the main script, do not import all of this again).

Seal and verify timings beside pyHanko alone on the same files. Prints figures only.

For a 1-page and a 50-page document with 20 filled fields and two signed parties, our whole
pipeline next to the signing library alone on the same burned-in file:
- ours seal = burn the fields in + certificate pages + footers + PAdES seal (what the job does);
- ours verify = the verify page's check: header checks, validation in an isolated child
  process with time and memory limits, the sha256 registry lookup, the audit chain.
The ratio is the figure to watch.

Run from the repository root: .venv/bin/python bench/seal_verify.py
"""

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402

from bench.pdf import text_pdf  # noqa: E402
from portal import create_app  # noqa: E402
from portal.audit.service import RequestMeta, record  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.documents.models import Document, Field, Party  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models_base import utcnow  # noqa: E402
from portal.parties.models import Company  # noqa: E402
from portal.sealing.burn import burn_marks  # noqa: E402
from portal.sealing.finalize import marks_for, seal  # noqa: E402
from portal.sealing.pades import signer_for, to_asn1_cert  # noqa: E402
from portal.sealing.store import portal_certificates  # noqa: E402
from portal.storage import read, store  # noqa: E402
from portal.verify.report import build_report  # noqa: E402

RUNS = 11


def median_ms(action) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def completed_document(pages: int, user: User, company: Company) -> Document:
    """A completed document: 20 filled text fields, both parties signed, a dozen audit events."""
    now = utcnow()
    source = store(text_pdf(pages), "application/pdf")
    document = Document(number=f"ACT-{pages:03d}", title="Акт выполненных работ / Act",
                        company_id=company.id, responsible_id=user.id, created_by_id=user.id,
                        source_sha256=source.sha256, page_count=pages, stage="completed",
                        language="ru", sent_at=now, completed_at=now,
                        verification_code=f"BNCH-{pages:04d}-CODE")
    for order, (role, name, email) in enumerate(
            [("company", "Анна Директор", "anna@example.com"),
             ("client", "Maria Conceição", "maria@example.com")], start=1):
        document.parties.append(Party(order=order, role=role, name=name, email=email,
                                      status="signed", signed_at=now, consent_at=now,
                                      code_confirmed_at=now, ip="203.0.113.7",
                                      user_agent="Mozilla/5.0 (iPhone) Bench"))
    for index in range(20):
        document.fields.append(Field(type="text", page=1 + index % pages, x=0.1,
                                     y=0.05 + (index // pages % 10) * 0.09, w=0.35, h=0.05,
                                     value=f"Поле {index}: Иванов И. И., 23.11.2026"))
    db.session.add(document)
    db.session.flush()
    for kind, details in _history(document):
        record(kind, document.id, None, RequestMeta("203.0.113.7", "Bench"), **details)
    db.session.commit()
    return document


def _history(document: Document) -> list[tuple[str, dict]]:
    """The events of a document signed by both parties, with the details each one carries."""
    events = [
        ("document.created", {"source": "upload", "number": document.number,
                              "title": document.title, "sha256": document.source_sha256,
                              "page_count": document.page_count}),
        ("document.sent", {"stage": "company_signing", "source_sha256": document.source_sha256,
                           "page_count": document.page_count, "parties": [], "fields": 20}),
    ]
    for party in document.parties:
        events += [
            ("party.invited", {"party_id": party.id, "name": party.name, "channel": "email",
                               "contact": party.email, "role": party.role, "message_id": 1}),
            ("party.opened", {}),
            ("party.consent", {"agreement_sha256": "0" * 64, "language": "ru"}),
            ("party.code_confirmed", {"attempt": 1, "session": "bench"}),
            ("party.signed", {"fields": 10, "session": "bench"}),
        ]
    return events + [("document.completed", {"previous_stage": "client_signing"})]


def library_sign(pdf: bytes, signer) -> bytes:
    out = io.BytesIO()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Bench"), signer=signer,
                     output=out)
    return out.getvalue()


def library_validate(pdf: bytes, roots) -> None:
    reader = PdfFileReader(io.BytesIO(pdf))
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    validate_pdf_signature(reader.embedded_signatures[0], context)


def measure(document: Document) -> None:
    """Print our seal and verify times beside pyHanko's for one document."""
    certificates = portal_certificates()
    signer = signer_for(certificates)
    roots = [to_asn1_cert(certificates.ca_cert)]
    source = read(document.source_sha256)
    burned = burn_marks(source, marks_for(document))
    sealed = seal(document, source, marks_for(document))
    document.final_sha256 = store(sealed, "application/pdf").sha256
    db.session.commit()
    assert build_report(sealed).verdict == "authentic"

    rows = (
        ("seal", median_ms(lambda: seal(document, source, marks_for(document))),
         median_ms(lambda: library_sign(burned, signer))),
        ("verify", median_ms(lambda: build_report(sealed)),
         median_ms(lambda: library_validate(sealed, roots))),
    )
    for step, ours, library in rows:
        label = f"{document.page_count} page(s) {step}"
        print(f"{label:<22}{ours:>10.1f}ms{library:>10.1f}ms{ours / library:>8.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                          "INSTANCE_PATH": folder, "SECRET_KEY": "bench",
                          "REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://"})
        with app.app_context():
            db.create_all()
            user = User(email="bench@example.com", name="Bench", password_hash="-")
            company = Company(legal_name="ООО «Бенч»", short_name="Бенч",
                              signer_name="Анна Директор")
            db.session.add_all([user, company])
            db.session.commit()
            print(f"{RUNS} runs each, median; 20 filled fields, 2 parties, 13 audit events; "
                  "EC P-256 seal, B-LTA with the portal's own time stamps")
            print(f"{'document':<22}{'ours':>12}{'pyHanko':>12}{'ratio':>8}")
            for pages in (1, 50):
                measure(completed_document(pages, user, company))

