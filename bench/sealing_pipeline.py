"""The work of bench/seal_verify.py (kept out of the script so verification's child processes,
which import the main script, do not import all of this again).

Seal and verify timings beside the work they cannot avoid, measured in the same run.

For a 1-page and a 50-page document with 20 filled fields and two signed parties:
- ours seal = what the job does: burn the fields in, certificate pages, footers, the archival
  layer and the attached trail (in the sandbox), the PAdES seal at the portal's level;
  its limit = the same pages drawn in this process + pyHanko signing at that level;
- ours verify = the verify page's check: header checks, validation in an isolated child
  process with time and memory limits, the sha256 registry lookup, the audit chain, the
  attached trail; its limit = pyHanko's validation of the same file in-process + sha256.
The ratio is the figure to watch; the goals print as bench/goals.py lines.

Run from the repository root: .venv/bin/python bench/seal_verify.py
"""

import hashlib
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import current_app  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402

from bench import goals, timing  # noqa: E402
from bench.pdf import text_pdf  # noqa: E402
from portal import create_app  # noqa: E402
from portal.audit.service import RequestMeta, events_for, record  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.documents.models import Document, Field, Party  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models_base import utcnow  # noqa: E402
from portal.parties.models import Company  # noqa: E402
from portal.sealing.burn import compose  # noqa: E402
from portal.sealing.certificate import (  # noqa: E402
    certificate_pages,
    describe,
    footer_pattern,
    language_of,
)
from portal.sealing.finalize import marks_for, seal, verify_url  # noqa: E402
from portal.sealing.pades import seal_pdf, to_asn1_cert  # noqa: E402
from portal.sealing.store import long_term, portal_certificates  # noqa: E402
from portal.storage import read, store  # noqa: E402
from portal.verify.report import build_report  # noqa: E402

RUNS = 11
# The goals (issue 20): our pipeline costs at most twice the work it cannot avoid.
SEAL_GOAL = 2.0
VERIFY_GOAL = 2.0


def median_ms(action) -> float:
    return timing.median_ms(action, RUNS)


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


def library_validate(pdf: bytes, roots) -> None:
    reader = PdfFileReader(io.BytesIO(pdf))
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    validate_pdf_signature(reader.embedded_signatures[0], context)


def measure(document: Document) -> dict[str, float]:
    """Print our seal and verify times beside their limits for one document; the ratios."""
    certificates = portal_certificates()
    roots = [to_asn1_cert(certificates.ca_cert)]
    source = read(document.source_sha256)
    marks = marks_for(document)
    sealed = seal(document, source, marks)
    document.final_sha256 = store(sealed, "application/pdf").sha256
    db.session.commit()
    assert build_report(sealed).verdict == "authentic"
    events = events_for(document.id)

    def render() -> bytes:
        """The pages we add, drawn in this process: burn-in, certificate, footers."""
        certificate = certificate_pages(document, original_sha256=document.source_sha256,
                                        events=events, chain_head=events[-1].hash,
                                        verify_url=verify_url(document.verification_code))
        return compose(source, marks, certificate,
                       footer_pattern(document.id, document.verification_code,
                                      language_of(document)), describe(document))

    rendered = render()
    config = current_app.config

    def sign() -> bytes:
        """pyHanko's signing at the level the portal seals at (time stamps, DSS)."""
        return seal_pdf(rendered, certificates, reason="Bench",
                        location=config["SIGNET_BASE_URL"],
                        timestamp_urls=config["SIGNET_TSA_URLS"], long_term=long_term())

    seal_limit = median_ms(render) + median_ms(sign)
    rows = (
        ("seal", median_ms(lambda: seal(document, source, marks)), seal_limit),
        ("verify", median_ms(lambda: build_report(sealed)),
         median_ms(lambda: (library_validate(sealed, roots), hashlib.sha256(sealed)))),
    )
    ratios = {}
    for step, ours, limit in rows:
        label = f"{document.page_count} page(s) {step}"
        ratios[step] = ours / limit
        print(f"{label:<22}{ours:>10.1f}ms{limit:>10.1f}ms{ours / limit:>8.2f}")
    return ratios


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
            print("limits: seal = the pages drawn in-process + pyHanko signing at the same "
                  "level; verify = pyHanko's validation in-process + sha256")
            print(f"{'document':<22}{'ours':>12}{'limit':>12}{'ratio':>8}")
            one_page = measure(completed_document(1, user, company))
            fifty_pages = measure(completed_document(50, user, company))
            goals.at_most("seal of a 1-page act / (its pages drawn + pyHanko signing, B-LTA)",
                          one_page["seal"], SEAL_GOAL)
            goals.at_most("`/verify` of a sealed 50-page PDF / pyHanko validation + sha256",
                          fifty_pages["verify"], VERIFY_GOAL)

