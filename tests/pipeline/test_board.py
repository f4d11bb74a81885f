"""The board: counts from real transitions, cards, filters, permissions, load more, refresh."""

import re
from datetime import timedelta

from portal.auth.models import User
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from tests.documents.support import signet_company
from tests.factories import (
    make_counterparty,
    make_department,
    make_document_row,
    make_user,
)
from tests.helpers import sign_in, text_of
from tests.pipeline.support import (
    at_client_signing,
    card_ids,
    counts_in,
    declined,
    draft,
    expired,
    stopped,
)
from tests.progress.support import sent_document

HTMX = {"HX-Request": "true"}


def test_counts_follow_real_signing_events(app, admin_client, admin):
    with app.app_context():
        ids = {"draft": draft(admin["id"]), "company_signing": sent_document(admin["id"]),
               "client_signing": at_client_signing(admin["id"]),
               "stopped": stopped(admin["id"]), "declined": declined(admin["id"]),
               "expired": expired(admin["id"])}
    response = admin_client.get("/pipeline")
    assert response.status_code == 200
    counts = counts_in(text_of(response))
    assert counts == {"draft": 1, "company_signing": 1, "client_signing": 1, "completed": 0,
                      "declined": 1, "stopped": 1, "expired": 1}
    html = text_of(response)
    for stage, document_id in ids.items():
        column = html.split(f'id="cards-{stage}"', 1)[1].split("</section>", 1)[0]
        assert card_ids(column) == [document_id], stage


def test_approval_column_only_when_approvals_are_used(app, admin_client, admin):
    with app.app_context():
        sent_document(admin["id"])
    assert "approval" not in counts_in(text_of(admin_client.get("/pipeline")))
    with app.app_context():
        sent_document(admin["id"], approver=True)
    assert counts_in(text_of(admin_client.get("/pipeline")))["approval"] == 1


def test_card_shows_who_it_waits_for_and_highlights_stuck_and_due(make_app, admin):
    app = make_app(SIGNET_STUCK_DAYS=2)
    with app.app_context():
        boss = make_user(email="boss@example.com", name="Bea Boss", is_admin=True)
        document_id = sent_document(boss.id)
        db.session.execute(db.update(Document).where(Document.id == document_id).values(
            stage_changed_at=utcnow() - timedelta(days=3),
            deadline_at=utcnow() + timedelta(hours=5)))
        db.session.commit()
    client = app.test_client()
    sign_in(client, "boss@example.com")
    html = text_of(client.get("/pipeline"))
    card = html.split(f'id="card-{document_id}"', 1)[1].split("</article>", 1)[0]
    assert "Anna Petrova" in card  # our signer, invited first
    assert "Maria Silva" in card  # the counterparty
    assert "3 days" in card
    assert "is-stuck" in html.split(f'id="card-{document_id}"', 1)[0][-200:]
    assert "is-due" in html.split(f'id="card-{document_id}"', 1)[0][-200:]


def test_employee_sees_only_their_own_and_admin_sees_all(app, admin, employee,
                                                        employee_client, admin_client):
    with app.app_context():
        theirs = sent_document(employee["id"])
        others = sent_document(admin["id"])
    employee_html = text_of(employee_client.get("/pipeline"))
    assert card_ids(employee_html) == [theirs]
    assert 'name="whose"' not in employee_html  # nothing wider to choose
    assert sorted(card_ids(text_of(admin_client.get("/pipeline")))) == sorted([theirs, others])
    assert employee_client.get(f"/pipeline/documents/{others}").status_code == 404
    # A forged filter does not widen what an employee sees.
    assert card_ids(text_of(employee_client.get("/pipeline?whose=all"))) == [theirs]


def test_mine_and_my_department(app, admin, admin_client):
    with app.app_context():
        sales = make_department("Sales")
        me = db.session.get(User, admin["id"])
        me.department_id = sales.id
        colleague = make_user(email="col@example.com", name="Cole League", department=sales)
        stranger = make_user(email="str@example.com", name="Stan Ranger")
        db.session.commit()
        mine = sent_document(admin["id"])
        colleagues = sent_document(colleague.id)
        strangers, stranger_id = sent_document(stranger.id), stranger.id
    assert card_ids(text_of(admin_client.get("/pipeline?whose=mine"))) == [mine]
    assert sorted(card_ids(text_of(admin_client.get("/pipeline?whose=department")))) == \
        sorted([mine, colleagues])
    assert len(card_ids(text_of(admin_client.get("/pipeline?whose=all")))) == 3
    assert strangers in card_ids(text_of(admin_client.get(f"/pipeline?responsible={stranger_id}")))


def test_text_search_folds_cyrillic_and_filters_counterparty_and_period(app, admin,
                                                                        admin_client):
    with app.app_context():
        acme = make_counterparty(name="ООО Ромашка", email="romashka@example.com")
        company = signet_company()
        flower = draft(admin["id"], title="Акт сверки ПРИЁМКИ", counterparty=acme,
                       company=company)
        other = draft(admin["id"], title="Invoice", company=company)
        number = db.session.get(Document, other).number
    assert card_ids(text_of(admin_client.get("/pipeline?q=приёмки"))) == [flower]
    assert card_ids(text_of(admin_client.get("/pipeline?q=РОМАШКА"))) == [flower]
    assert card_ids(text_of(admin_client.get(f"/pipeline?q={number.lower()}"))) == [other]
    assert card_ids(text_of(admin_client.get("/pipeline?counterparty=ромашка"))) == [flower]
    assert card_ids(text_of(admin_client.get("/pipeline?q=100%25"))) == []
    today = utcnow().date()
    tomorrow = today + timedelta(days=1)
    assert len(card_ids(text_of(admin_client.get(f"/pipeline?from={today}&to={today}")))) == 2
    assert card_ids(text_of(admin_client.get(f"/pipeline?from={tomorrow}"))) == []
    bad = admin_client.get("/pipeline?from=yesterday&to=2020-13-45&company=x&sort=evil")
    assert bad.status_code == 200
    assert "Enter a date like 2025-01-31." in text_of(bad)
    assert len(card_ids(text_of(bad))) == 2


def test_filters_answer_htmx_with_the_results_only(app, admin, admin_client):
    with app.app_context():
        draft(admin["id"])
    response = admin_client.get("/pipeline?q=act", headers=HTMX)
    html = text_of(response)
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_columns_load_more_on_scroll(app, admin, admin_client):
    with app.app_context():
        for index in range(23):
            document_row(admin["id"], index)
    html = text_of(admin_client.get("/pipeline"))
    assert counts_in(html)["draft"] == 23
    shown = card_ids(html)
    assert len(shown) == 20
    more_url = html.split('hx-get="/pipeline/columns/draft', 1)[1].split('"', 1)[0]
    more = text_of(admin_client.get("/pipeline/columns/draft" + more_url.replace("&amp;", "&"),
                                    headers=HTMX))
    rest = card_ids(more)
    assert len(rest) == 3 and not set(rest) & set(shown)
    assert "column-more" not in more  # nothing left to load
    assert admin_client.get("/pipeline/columns/nonsense").status_code == 404
    garbage = admin_client.get("/pipeline/columns/draft?after=garbage", headers=HTMX)
    assert len(card_ids(text_of(garbage))) == 20


def document_row(user_id, index):
    return make_document_row(user_id, title=f"Row {index}",
                             updated_at=utcnow() - timedelta(minutes=index))


def test_list_view_sorts_and_pages(app, admin, admin_client):
    with app.app_context():
        for index in range(27):
            document_row(admin["id"], index)
    html = text_of(admin_client.get("/pipeline?view=list&sort=title"))
    assert "Page 1 of 2" in html
    rows = [int(value) for value in re.findall(r'id="row-(\d+)"', html)]
    assert len(rows) == 25
    titles = re.findall(r"<strong>(Row \d+)</strong>", html)
    assert titles == sorted(titles)
    second = text_of(admin_client.get("/pipeline?view=list&sort=title&page=2", headers=HTMX))
    assert len(re.findall(r'id="row-(\d+)"', second)) == 2


def test_refresh_sends_only_cards_changed_since_the_last_render(app, admin, admin_client):
    with app.app_context():
        quiet = draft(admin["id"])
        busy = sent_document(admin["id"])
        db.session.execute(db.update(Document).values(updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    since = utcnow().isoformat()
    url = "/pipeline/changes"
    assert admin_client.get(url, query_string={"since": since}, headers=HTMX).status_code == 204
    with app.app_context():
        from tests.progress.support import sign

        sign(busy, "company")
    response = admin_client.get(url, query_string={"since": since}, headers=HTMX)
    html = text_of(response)
    assert card_ids(html) == [busy] and quiet not in card_ids(html)
    assert 'data-update-stage="client_signing"' in html
    assert 'id="board-poll" hidden hx-swap-oob="true"' in html
    assert counts_in(html)["client_signing"] == 1
    assert admin_client.get(url, query_string={"since": "nonsense"}).status_code == 400


def _walk(client, url: str, link: str) -> list[list[int]]:
    """Row ids page by page, following the list's `link` (rel=next or rel=prev) to its end."""
    pages = []
    while url:
        html = text_of(client.get(url, headers=HTMX))
        pages.append([int(value) for value in re.findall(r'id="row-(\d+)"', html)])
        found = re.search(rf'rel="{link}" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    return pages


def test_list_pages_by_cursor_forwards_and_back_with_null_deadlines_and_ties(
        app, admin, admin_client):
    """Every document once, in the sorted order, walking Next to the end and Previous back;
    ties and documents without a deadline (sorted last either way) included."""
    with app.app_context():
        moment = utcnow()
        expected = {}
        for index in range(57):
            deadline = None if index % 4 == 0 else moment + timedelta(days=index % 5)
            document = make_document_row(admin["id"], title=f"Row {index % 7}",
                                         deadline_at=deadline,
                                         updated_at=moment - timedelta(minutes=index))
            expected[document.id] = (deadline, f"Row {index % 7}")
    for sort in ("deadline", "-deadline", "title", "-title", "-updated"):
        forward = _walk(admin_client, f"/pipeline?view=list&sort={sort}", "next")
        assert [len(page) for page in forward] == [25, 25, 7], sort
        order = [row for page in forward for row in page]
        assert sorted(order) == sorted(expected), sort
        last_page = f"/pipeline?view=list&sort={sort}&page=3"
        backward = _walk(admin_client, last_page, "prev")
        assert backward == list(reversed(forward)), sort
        if sort.endswith("deadline"):
            dated = [row for row in order if expected[row][0] is not None]
            assert order[len(dated):] == sorted(set(order) - set(dated),
                                                reverse=sort.startswith("-")), sort
            values = [expected[row][0] for row in dated]
            assert values == sorted(values, reverse=sort.startswith("-")), sort
    garbage = text_of(admin_client.get("/pipeline?view=list&after=x~y&page=2", headers=HTMX))
    assert len(re.findall(r'id="row-(\d+)"', garbage)) == 25
