"""The pipeline board at 1,000 and 10,000 documents in PostgreSQL, through the Flask test client.

Seeds a fresh database with bulk inserts (documents spread over every stage, two signers each,
a few hundred counterparties, people in three departments), then times the board page, a
filtered board, a "load more" of one column and the list view. Prints figures only.

Run from the repository root:
    .venv/bin/python bench/board.py [--sizes 1000,10000] [--runs 30]
SIGNET_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) must allow
CREATE DATABASE; the database is dropped at the end.
"""

import argparse
import gc
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench import goals  # noqa: E402
from portal import create_app  # noqa: E402
from portal.audit.models import AuditEvent  # noqa: E402
from portal.auth.models import Department, User  # noqa: E402
from portal.auth.roles import ADMINISTRATOR, EMPLOYEE, give_role  # noqa: E402
from portal.documents.models import Document, Party  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models_base import utcnow  # noqa: E402
from portal.parties.models import Company, Counterparty  # noqa: E402
from portal.parties.search import search_text_for  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "SIGNET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench horse battery"
# Roughly what a working portal holds: most documents done, a tenth in flight.
STAGE_WEIGHTS = {"draft": 6, "company_signing": 4, "client_signing": 5, "completed": 70,
                 "declined": 5, "stopped": 4, "expired": 6}
WORDS = ("Act of completed work", "Supply contract", "Акт сверки", "Invoice", "Договор поставки",
         "Service agreement", "Addendum", "Счёт-оферта")


def create_database() -> tuple[str, callable]:
    import psycopg

    name = f"signet_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", drop


def seed_people() -> dict:
    """A company, 300 counterparties, an administrator and 20 employees in 3 departments."""
    company = Company(legal_name="Signet Bench LLC", signer_name="Anna Petrova",
                      signer_email="director@bench.example")
    departments = [Department(name=name) for name in ("Sales", "Support", "Legal")]
    db.session.add_all([company, *departments])
    db.session.flush()
    admin = User(email="admin@bench.example", name="Ada Admin", department=departments[0])
    give_role(admin, ADMINISTRATOR)
    admin.set_password(PASSWORD)
    people = [admin]
    for index in range(20):
        person = User(email=f"emp{index}@bench.example", name=f"Employee {index}",
                      department=departments[index % 3])
        give_role(person, EMPLOYEE)
        person.password_hash = admin.password_hash
        people.append(person)
    counterparties = []
    for index in range(300):
        counterparty = Counterparty(kind="company", name=f"ООО Клиент {index}",
                                    email=f"client{index}@bench.example")
        counterparty.search_text = search_text_for(counterparty)
        counterparties.append(counterparty)
    db.session.add_all(people + counterparties)
    db.session.commit()
    return {"company": company.id, "users": [person.id for person in people],
            "counterparties": [(c.id, c.name, c.email) for c in counterparties]}


def seed_documents(world: dict, count: int, start: int) -> None:
    """`count` documents numbered from `start`, with their two signers, in bulk."""
    rng = random.Random(start)
    now = utcnow()
    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    documents, parties = [], []
    for number in range(start, start + count):
        stage = rng.choices(stages, weights)[0]
        created = now - timedelta(days=rng.uniform(0, 400))
        changed = created + (now - created) * rng.random()
        counterparty_id, client_name, client_email = rng.choice(world["counterparties"])
        responsible = rng.choice(world["users"])
        documents.append({
            "id": number, "number": f"ACT-{number:06d}", "title": rng.choice(WORDS),
            "company_id": world["company"], "counterparty_id": counterparty_id,
            "responsible_id": responsible, "created_by_id": responsible, "language": "en",
            "stage": stage, "stage_changed_at": changed, "variables": {},
            "deadline_at": created + timedelta(days=30),
            "sent_at": None if stage == "draft" else created,
            "verification_code": secrets.token_hex(8), "created_at": created,
            "updated_at": changed})
        parties += signers_of(number, stage, client_name, client_email)
    db.session.execute(insert(Document), documents)
    db.session.execute(insert(Party), parties)
    db.session.execute(insert(AuditEvent), history_of(documents))
    db.session.commit()


def history_of(documents: list[dict]) -> list[dict]:
    """Two audit events per document (created, then sent unless a draft): what the home page's
    latest activity reads. The hashes are placeholders: nothing here checks the chain."""
    events = []
    for document in documents:
        kinds = ["document.created"] + ([] if document["stage"] == "draft" else ["document.sent"])
        for kind in kinds:
            events.append({"document_id": document["id"], "type": kind, "actor_type": "user",
                           "actor_id": document["responsible_id"], "details": {},
                           "created_at": document["updated_at"], "hash": secrets.token_hex(32)})
    return events


def signers_of(document_id: int, stage: str, client_name: str, client_email: str) -> list[dict]:
    company_status, client_status = {
        "draft": ("waiting", "waiting"), "company_signing": ("sent", "waiting"),
        "client_signing": ("signed", "sent"), "completed": ("signed", "signed"),
        "declined": ("signed", "declined"), "stopped": ("sent", "waiting"),
        "expired": ("signed", "opened"),
    }[stage]

    def party(order, role, name, email, status):
        return {"document_id": document_id, "order": order, "role": role, "name": name,
                "email": email, "status": status, "requisites": {},
                "token_hash": secrets.token_hex(32) if status != "waiting" else None}

    return [party(2, "company", "Anna Petrova", "director@bench.example", company_status),
            party(3, "client", client_name, client_email, client_status)]


def settle(engine) -> None:
    """What autovacuum does to a table soon after thousands of inserts: statistics for the
    planner and a visibility map, without which counting a stage's documents reads the table
    instead of its index."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def timed(client, url: str, runs: int) -> tuple[float, float, int]:
    """Median and p95 in milliseconds, and the size of the answer."""
    response = client.get(url)  # warm the caches and the connection pool
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _run in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(response.data)


def log_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def measure(app, world: dict, size: int, runs: int) -> dict[str, float]:
    """The median of each case at this size, printed and returned by label."""
    admin = log_in(app, "admin@bench.example")
    employee = log_in(app, "emp1@bench.example")
    with app.app_context():
        column = admin.get("/pipeline").get_data(as_text=True)
    more = column.split('hx-get="/pipeline/columns/completed', 1)[1].split('"', 1)[0]
    cases = [
        ("home dashboard (admin, all)", admin, "/"),
        ("home dashboard (employee, own)", employee, "/"),
        ("board (admin, all)", admin, "/pipeline"),
        ("filtered board (department, text)", admin,
         "/pipeline?whose=department&q=%D0%B0%D0%BA%D1%82"),
        ("filtered board (counterparty, period)", admin,
         "/pipeline?counterparty=%D0%BA%D0%BB%D0%B8%D0%B5%D0%BD%D1%82+12&from=2020-01-01"),
        ("board (employee, own)", employee, "/pipeline"),
        ("load more (completed)", admin,
         "/pipeline/columns/completed" + more.replace("&amp;", "&")),
        ("list view, page 1 by deadline", admin, "/pipeline?view=list&sort=deadline"),
        ("list view, last page by deadline", admin, last_list_page(app, "deadline")),
    ]
    figures = {}
    for label, client, url in cases:
        median, p95, size_bytes = timed(client, url, runs)
        figures[label] = (median, p95)
        print(f"{size:>6} docs  {label:<40} median {median:7.1f} ms  p95 {p95:7.1f} ms"
              f"  ({size_bytes / 1024:.0f} KiB)")
    return figures


def last_list_page(app, sort: str) -> str:
    """The list's last page as its Next link reaches it: the cursor of the row before it."""
    from portal.pipeline import keyset
    from portal.pipeline.queries import LIST_PAGE_SIZE, SORT_COLUMNS

    column = SORT_COLUMNS[sort.lstrip("-")]
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Document))
        pages = (total + LIST_PAGE_SIZE - 1) // LIST_PAGE_SIZE
        row = db.session.execute(
            select(column, Document.id)
            .order_by(*keyset.ordering(column, Document.id, sort.startswith("-")))
            .offset((pages - 1) * LIST_PAGE_SIZE - 1).limit(1)).one()
    cursor = keyset.cursor_of(row[0], row[1])
    return "/pipeline?" + urlencode({"view": "list", "sort": sort, "page": pages, "after": cursor})


def print_growth(smallest: int, largest: int, first: dict, last: dict) -> None:
    """How each case's median grew from the smallest to the largest size: flat is 1.0."""
    print(f"growth {largest // smallest}x documents: median at {largest} / median at {smallest}")
    for label, (median, _p95) in first.items():
        print(f"  {label:<40} {last[label][0] / median:5.2f}")


# The goals of the board (issue 20): absolute for its p95, relative for how it grows.
BOARD_P95_LIMIT_MS = 60
GROWTH_LIMIT = 1.2


def print_goals(smallest: int, largest: int, first: dict, last: dict) -> None:
    board = "board (admin, all)"
    first_page, last_page = "list view, page 1 by deadline", "list view, last page by deadline"
    goals.at_most(f"board p95 at {largest:,} documents", last[board][1], BOARD_P95_LIMIT_MS,
                  " ms")
    goals.at_most(f"board median, {largest:,} / {smallest:,} documents",
                  last[board][0] / first[board][0], GROWTH_LIMIT)
    goals.at_most(f"list, last page / page 1 at {largest:,} documents",
                  last[last_page][0] / last[first_page][0], GROWTH_LIMIT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    url, drop = create_database()
    folder = tempfile.mkdtemp(prefix="signet-bench-")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": folder, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "REDIS_URL": "",
                      # no sweep: it would expire the seeded documents mid-measure
                      "SIGNET_SWEEP_SECONDS": 0})
    try:
        with app.app_context():
            db.create_all()
            world = seed_people()
        seeded = 0
        medians = {}
        for size in sizes:
            with app.app_context():
                started = time.perf_counter()
                seed_documents(world, size - seeded, seeded + 1)
                settle(db.engine)
                print(f"seeded {size - seeded} documents in "
                      f"{time.perf_counter() - started:.1f} s")
            seeded = size
            # As app.py does for the served app: start-up objects out of the collector's way.
            gc.collect()
            gc.freeze()
            medians[size] = measure(app, world, size, args.runs)
        if len(sizes) > 1:
            print_growth(sizes[0], sizes[-1], medians[sizes[0]], medians[sizes[-1]])
            print_goals(sizes[0], sizes[-1], medians[sizes[0]], medians[sizes[-1]])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


if __name__ == "__main__":
    main()
