"""Document numbers: the company's pattern, a sequence per scope, no duplicates under load."""

import threading
from datetime import date

import pytest

from portal.documents.errors import NumberPatternInvalid
from portal.documents.models import Document
from portal.documents.numbering import check_pattern, next_number
from portal.extensions import db
from tests.documents.support import upload_draft
from tests.factories import make_company, make_counterparty
from tests.fixtures import fixture_bytes


def test_numbers_follow_the_pattern_and_count_per_type_and_year(app):
    with app.app_context():
        company = make_company(number_pattern="{type}-{year}-{seq:05d}")
        day = date(2026, 3, 1)
        assert next_number(company, "ACT", day) == "ACT-2026-00001"
        assert next_number(company, "ACT", day) == "ACT-2026-00002"
        assert next_number(company, "INV", day) == "INV-2026-00001"
        assert next_number(company, "ACT", date(2027, 1, 2)) == "ACT-2027-00001"
        db.session.commit()


def test_each_company_has_its_own_sequence_and_months_can_reset_it(app):
    with app.app_context():
        first = make_company(legal_name="One LLC", number_pattern="{seq}/{month:02d}.{year}")
        second = make_company(legal_name="Two LLC", number_pattern="{seq}/{month:02d}.{year}")
        assert next_number(first, "ACT", date(2026, 2, 5)) == "1/02.2026"
        assert next_number(first, "ACT", date(2026, 2, 6)) == "2/02.2026"
        assert next_number(second, "ACT", date(2026, 2, 6)) == "1/02.2026"
        assert next_number(first, "ACT", date(2026, 3, 1)) == "1/03.2026"
        db.session.commit()


@pytest.mark.parametrize("pattern, words", [
    ("{type}-{yaer}-{seq}", "unknown placeholder {yaer}"),
    ("{type}-{year}", "{seq} exactly once"),
    ("{seq}-{seq}", "{seq} exactly once"),
    ("{type:05d}-{seq}", "does not fit"),
    ("{type}-{seq", "unmatched"),
    ("{seq!r}", "conversions"),
])
def test_a_bad_pattern_is_refused_with_a_clear_message(app, pattern, words):
    with app.app_context(), pytest.raises(NumberPatternInvalid) as refused:
        check_pattern(pattern)
    assert words in refused.value.message


def test_a_company_with_a_bad_pattern_cannot_create_documents(app, admin):
    with app.app_context():
        company = make_company(number_pattern="{type}-{jahr}-{seq}")
        with pytest.raises(NumberPatternInvalid):
            upload_draft(admin["id"], company=company)
        assert db.session.execute(db.select(Document)).first() is None


@pytest.mark.postgres
def test_documents_created_at_the_same_moment_get_distinct_consecutive_numbers(app, admin):
    """Several threads (each its own connection) create documents of one company at once."""
    with app.app_context():
        company_id = make_company(number_pattern="{type}-{year}-{seq:04d}").id
        counterparty_id = make_counterparty().id
    start, failures = threading.Barrier(6), []

    def create(index: int):
        with app.app_context():
            from portal.documents import services
            from portal.parties.models import Company, Counterparty
            from tests.documents.support import META, user

            try:
                start.wait()
                # Distinct bytes per thread: each upload is its own file.
                data = fixture_bytes("plain.pdf") + f"\n% thread {index}\n".encode()
                services.create_from_upload(
                    user(admin["id"]), META, company_id=db.session.get(Company, company_id).id,
                    data=data, filename="plain.pdf", title=f"Act {index}",
                    counterparty_id=db.session.get(Counterparty, counterparty_id).id)
            except Exception as error:  # reported below, with the thread's error
                failures.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    with app.app_context():
        numbers = sorted(db.session.execute(db.select(Document.number)).scalars())
    year = date.today().year
    assert numbers == [f"DOC-{year}-{seq:04d}" for seq in range(1, 7)]
