"""Certificate pages and footer timings. Prints figures only.

- certificate_pages for a document with 3 signers, a copy recipient and 20 or 200 events;
- add_footer on a 1-page and a 50-page document (one overlay canvas for all pages);
- assemble_final: a 50-page document + certificate (20 events) + footer on every page.

Run from the repository root: .venv/bin/python bench/certificate.py
"""

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader  # noqa: E402

from bench.pdf import text_pdf  # noqa: E402
from portal import create_app  # noqa: E402
from portal.audit.models import AuditEvent  # noqa: E402
from portal.documents.models import Document, Party  # noqa: E402
from portal.parties.models import Company  # noqa: E402
from portal.sealing.burn import register_font  # noqa: E402
from portal.sealing.certificate import add_footer, assemble_final, certificate_pages  # noqa: E402

RUNS = 7
START = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0.0.0 Safari/537.36")
EVENT_TYPES = ("document.created", "document.sent", "party.invited", "party.opened",
               "party.consent", "party.code_sent", "party.code_confirmed", "party.signed")


def timed(action) -> tuple[float, object]:
    """(median seconds, last result)."""
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def report(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:52} {seconds * 1000:8.1f} ms  {extra}")


def a_document(language: str) -> Document:
    def signer(role, order, name, contact):
        moment = START + timedelta(hours=order)
        return Party(role=role, order=order, name=name, email=contact, channel="email",
                     organization="Acme Industrial Services Ltd", position="Director",
                     consent_at=moment, code_confirmed_at=moment, signed_at=moment,
                     ip="198.51.100.7", user_agent=USER_AGENT)

    parties = [signer("approver", 1, "Boris Approver", "boris@example.com"),
               signer("company", 2, "Anna Petrova", "anna@example.com"),
               signer("client", 3, "Maria Silva", "maria@example.com"),
               Party(role="cc", order=4, name="Carl Copy", email="copy@example.com",
                     channel="email")]
    company = Company(legal_name="Signet Demo LLC", signer_name="Anna Petrova")
    return Document(id=1, number="ACT-2026-00001", title="Act of completed work",
                    company=company, language=language, page_count=50, sent_at=START,
                    completed_at=START + timedelta(hours=4), verification_code="ABCD-EFGH-JKMN",
                    parties=parties)


def events(count: int) -> list[AuditEvent]:
    return [AuditEvent(type=EVENT_TYPES[i % len(EVENT_TYPES)], created_at=START,
                       actor_label="Maria Silva <maria@example.com>", ip="198.51.100.7",
                       details={"name": "Maria Silva"}, hash=f"{i:064x}")
            for i in range(count)]


def pages_of(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="signet-bench-certificate-"))
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": ""})
    one, fifty = text_pdf(1), text_pdf(50)
    register_font()  # once per process; not part of any figure below
    arguments = {"original_sha256": "0" * 64, "chain_head": "f" * 64,
                 "verify_url": "https://sign.example.com/verify?code=ABCD-EFGH-JKMN"}
    with app.app_context():
        for language in ("en", "ru"):
            for count in (20, 200):
                document, history = a_document(language), events(count)
                seconds, pdf = timed(lambda document=document, history=history: (
                    certificate_pages(document, events=history, **arguments)))
                report(f"certificate_pages, {count} events ({language})", seconds,
                       f"{pages_of(pdf)} pages, {len(pdf) / 1024:.0f} KB")
        for label, data in (("1 page", one), ("50 pages", fifty)):
            seconds, pdf = timed(lambda data=data: add_footer(
                data, document_id=1, verification_code="ABCD-EFGH-JKMN"))
            report(f"add_footer, {label}", seconds,
                   f"{len(data) / 1024:.0f} KB -> {len(pdf) / 1024:.0f} KB")
        document, history = a_document("en"), events(20)
        seconds, pdf = timed(lambda: assemble_final(fifty, document, events=history,
                                                    **arguments))
        report("assemble_final, 50 pages + certificate (20 events)", seconds,
               f"{pages_of(pdf)} pages, {len(pdf) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
