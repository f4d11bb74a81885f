"""The director's batch signing: N documents of a bulk batch signed in one ceremony.

Two bulk batches of N rows each are created and sent the way the portal does it (in-process
jobs). The first batch's company signer signs all of it in the batch ceremony
(portal/signing/bundles.py): the sign step's time in all and per document is printed. The
second batch's documents are then signed one by one through the individual ceremony's
services (agree, code, signature field, sign), the limit the batch ceremony must beat: the
ratio batch / individual is printed (below 1.0: the batch is cheaper per document). Both paths
put the same typed signature into the same kind of document, and each document records and
commits its own signing (the client's invitation included). Prints figures only.

Run from the repository root:
    .venv/bin/python bench/batch_sign.py [--count 100] [--database sqlite|postgresql]
"""

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.board import create_database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.audit.service import RequestMeta  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.auth.roles import ADMINISTRATOR, give_role  # noqa: E402
from portal.bulk import services as bulk  # noqa: E402
from portal.delivery.models import Message  # noqa: E402
from portal.delivery.redaction import as_sent  # noqa: E402
from portal.doctemplates.models import DocumentTemplate  # noqa: E402
from portal.documents.links import current_link_token  # noqa: E402
from portal.documents.models import Party  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.parties.models import Company  # noqa: E402
from portal.signing import bundles, services  # noqa: E402
from portal.signing.filling import FieldInput, fields_of  # noqa: E402
from portal.signing.models import SigningBundle  # noqa: E402
from portal.tokens import new_token  # noqa: E402

DIRECTOR = "director@bench.example"
META = RequestMeta(ip="198.51.100.7", user_agent="bench/batch-sign")
CODE = re.compile(r"\b(\d{6})\b")
SIGNATURE = FieldInput(method="type", typed="Anna Petrova")
TEMPLATE_HTML = """
<h1>{{ document.title }} № {{ document.number }}</h1>
<p>{{ company.legal_name }} — {{ counterparty.name }}, {{ document.place }}</p>
<table>{% for item in items %}<tr><td>{{ item.name }}</td><td>{{ item.amount }}</td></tr>
{% endfor %}</table>
<table><tr><td>{{ anchor("company.signature") }}</td><td>{{ anchor("client.signature") }}</td>
</tr></table>
"""
LAYOUT = [
    {"role": "company", "type": "signature", "anchor": "company.signature"},
    {"role": "client", "type": "signature", "anchor": "client.signature"},
    {"role": "company", "type": "date", "page": 1, "x": 0.1, "y": 0.9, "w": 0.2, "h": 0.03},
]


def seed() -> tuple[int, int, int]:
    company = Company(legal_name="Signet Bench LLC", signer_name="Anna Petrova",
                      signer_position="Director", signer_email=DIRECTOR, tax_id="7707083893")
    admin = User(email="admin@bench.example", name="Ada Admin")
    give_role(admin, ADMINISTRATOR)
    admin.set_password("bench horse battery")
    template = DocumentTemplate(name="Act of completed work", kind="act", language="en",
                                body_html=TEMPLATE_HTML, default_layout=LAYOUT, active=True)
    db.session.add_all([company, admin, template])
    db.session.commit()
    return company.id, admin.id, template.id


def run_batch(world: tuple[int, int, int], count: int, first: int) -> int:
    company_id, admin_id, template_id = world
    rows = "".join(f"Client {n},client{n}@example.com,,{n}00,Lisboa\n"
                   for n in range(first, first + count))
    sheet = ("Name,Email,Phone,Amount,Place\n" + rows).encode()
    batch = bulk.start_batch(db.session.get(User, admin_id), template_id, company_id, sheet,
                             "clients.csv")
    return bulk.confirm(db.session.get(User, admin_id), batch.id, skip_invalid=False).id


def last_code() -> str:
    db.session.commit()
    message = db.session.scalars(select(Message).where(
        Message.recipient == DIRECTOR, Message.kind == "signing_code")
        .order_by(Message.id.desc())).first()
    return CODE.search(as_sent(message).body_text).group(1)


def batch_ceremony(batch_id: int) -> tuple[float, int]:
    """The ceremony up to the code, then the timed sign step; (seconds, documents signed)."""
    bundle = db.session.scalar(select(SigningBundle).where(SigningBundle.batch_id == batch_id))
    raw, bundle.token_hash = new_token()  # the invitation's raw token is only in its message
    db.session.commit()
    bundles.accept_agreement(raw, META)
    _bundle, ceremony = bundles.verify_code(raw, META, last_code())
    party_ids = [member.party_id for member in _bundle.members]
    started = time.perf_counter()
    outcome = bundles.sign(raw, META, ceremony, party_ids, SIGNATURE, FieldInput())
    return time.perf_counter() - started, len(outcome.signed)


def individual_ceremonies(batch_id: int) -> tuple[float, float]:
    """Each document on its own: (seconds in all, seconds of the sign steps alone)."""
    bundle = db.session.scalar(select(SigningBundle).where(SigningBundle.batch_id == batch_id))
    tokens = [current_link_token(member.party) for member in bundle.members]
    db.session.commit()
    total = sign_steps = 0.0
    for token in tokens:
        started = time.perf_counter()
        party = services.accept_agreement(token, META)
        party, ceremony = services.verify_code(token, META, last_code())
        field = next(own for own in fields_of(party) if own.type == "signature")
        services.fill_field(token, META, field.id, SIGNATURE, ceremony)
        signing = time.perf_counter()
        services.sign(token, META, ceremony)
        ended = time.perf_counter()
        total += ended - started
        sign_steps += ended - signing
        db.session.execute(  # the next document's code may go out at once (the limit is 1/min)
            Party.__table__.update().values(code_sent_at=None, recent_code_sends=None))
        db.session.commit()
    return total, sign_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="signet-bench-")
    drop = None
    if args.database == "postgresql":
        url, drop = create_database()
    else:
        url = f"sqlite:///{folder}/bench.sqlite"
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": folder, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "REDIS_URL": "", "SMTP_HOST": "",
                      "SIGNET_BASE_URL": "http://localhost", "SIGNET_SWEEP_SECONDS": 0})
    count = args.count
    try:
        with app.app_context():
            db.create_all()
            world = seed()
            started = time.perf_counter()
            batched = run_batch(world, count, 1)
            alone = run_batch(world, count, count + 1)
            print(f"{args.database}: 2 bulk batches of {count} documents created and sent in "
                  f"{time.perf_counter() - started:.1f} s")
            seconds, signed = batch_ceremony(batched)
            total, sign_steps = individual_ceremonies(alone)
        print(f"batch ceremony, sign step for {signed} documents   {seconds:8.2f} s"
              f"  {seconds / max(signed, 1) * 1000:7.1f} ms/document")
        print(f"individual ceremonies, {count} documents (agree..sign) {total:8.2f} s"
              f"  {total / count * 1000:7.1f} ms/document")
        print(f"  of which the sign steps alone                  {sign_steps:8.2f} s"
              f"  {sign_steps / count * 1000:7.1f} ms/document")
        print(f"ratio batch sign step / individual ceremonies: {seconds / total:.2f} "
              f"(limit 1.0)")
        print(f"ratio batch sign step / individual sign steps alone: "
              f"{seconds / sign_steps:.2f} (the batch also fills and records each document's "
              f"ceremony)")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if drop:
            drop()


if __name__ == "__main__":
    main()
