"""The home dashboard: counts by scope, each a link to exactly its documents on the board,
the latest activity, the empty state, and a query count that does not grow with documents."""

import html
import re
from datetime import timedelta

from sqlalchemy import event

from portal.auth.models import Role, RoleGrant, User
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.pipeline.dashboard import dashboard_for
from tests.factories import make_user
from tests.helpers import post_form, sign_in, text_of
from tests.pipeline.support import at_client_signing, card_ids, draft
from tests.progress.support import sent_document

COUNT_LINK = re.compile(r'id="count-(\w+)" href="([^"]+)">\s*<span class="stat-number">(\d+)<')


def counts_and_links(page: str) -> dict[str, tuple[int, str]]:
    return {focus: (int(count), html.unescape(href))
            for focus, href, count in COUNT_LINK.findall(page)}


def _set(document_id: int, **values) -> None:
    db.session.execute(db.update(Document).where(Document.id == document_id).values(**values))
    db.session.commit()


def office(admin_id: int, employee_id: int) -> dict[str, set[int]]:
    """Documents in every state of attention, the admin's and the employee's; what each focus
    holds for the admin (who sees all) and for the employee (who sees their own)."""
    now = utcnow()
    admin_draft = draft(admin_id)
    employee_draft = draft(employee_id)
    # The admin is our company's signer on this one, and it is their turn.
    admin_signs = sent_document(employee_id)
    db.session.execute(db.update(Party).where(Party.document_id == admin_signs,
                                              Party.role == "company")
                       .values(email="Admin@Example.com"))
    at_client = at_client_signing(admin_id)
    employee_at_client = at_client_signing(employee_id)
    stuck = sent_document(admin_id)
    _set(stuck, stage_changed_at=now - timedelta(days=5))
    due = sent_document(employee_id)
    _set(due, deadline_at=now + timedelta(hours=3))
    done = sent_document(admin_id)
    _set(done, stage="completed", completed_at=now)
    done_long_ago = sent_document(admin_id)
    _set(done_long_ago, stage="completed", completed_at=now - timedelta(days=9))
    return {
        "admin.waiting_for_me": {admin_draft, admin_signs},
        "employee.waiting_for_me": {employee_draft},
        "admin.waiting_for_client": {at_client, employee_at_client},
        "employee.waiting_for_client": {employee_at_client},
        "admin.stuck": {stuck},
        "employee.stuck": set(),
        "admin.due_soon": {due},
        "employee.due_soon": {due},
        "admin.completed_this_week": {done},
        "employee.completed_this_week": set(),
    }


def test_counts_follow_scope_and_each_links_to_exactly_its_documents(
        app, admin, employee, admin_client, employee_client):
    with app.app_context():
        expected = office(admin["id"], employee["id"])
    for who, client in (("admin", admin_client), ("employee", employee_client)):
        page = text_of(client.get("/"))
        found = counts_and_links(page)
        assert set(found) == {"waiting_for_me", "waiting_for_client", "stuck", "due_soon",
                              "completed_this_week"}
        for focus, (count, link) in found.items():
            wanted = expected[f"{who}.{focus}"]
            assert count == len(wanted), (who, focus)
            assert link.startswith("/pipeline?") and f"focus={focus}" in link
            board = text_of(client.get(link))
            assert sorted(card_ids(board)) == sorted(wanted), (who, focus, link)
            assert f'<option value="{focus}" selected>' in board  # the filter says so
    # The employee's list never names the admin's documents, even through a forged filter.
    with app.app_context():
        theirs = set(db.session.scalars(db.select(Document.id).where(
            Document.responsible_id == employee["id"])))
    forged = text_of(employee_client.get("/pipeline?whose=all&focus=waiting_for_client"))
    assert set(card_ids(forged)) <= theirs


def test_activity_lists_the_newest_visible_events_with_their_labels(
        app, admin, employee, employee_client):
    with app.app_context():
        others = sent_document(admin["id"])
        mine = sent_document(employee["id"])
        number = db.session.get(Document, mine).number
    page = text_of(employee_client.get("/"))
    activity = page.split('id="dashboard-activity"', 1)[1].split("</section>", 1)[0]
    assert f'href="/documents/{mine}"' in activity and number in activity
    assert f'href="/documents/{others}"' not in activity
    assert "Sent for signing" in activity
    assert len(re.findall(r"<li>", activity)) <= 8
    post_form(employee_client, "/language", {"locale": "pt"})
    assert "Enviado para assinatura" in text_of(employee_client.get("/"))


def test_a_fresh_install_teaches_the_first_step(app, admin, admin_client):
    page = text_of(admin_client.get("/"))
    assert 'id="dashboard-empty"' in page
    assert "Create your first document" in page and 'href="/documents/new"' in page
    assert 'id="dashboard-counts"' not in page
    assert 'href="/pipeline"' in page  # the shortcuts stay


def test_query_count_does_not_grow_with_documents(app, admin):
    with app.app_context():
        sent_document(admin["id"])
    few = _queries_of(app, admin["id"])
    with app.app_context():
        for _ in range(4):
            sent_document(admin["id"])
            at_client_signing(admin["id"])
    many = _queries_of(app, admin["id"])
    # The user and their grants, the counts, the activity.
    assert many == few and few <= 8


def _queries_of(app, user_id: int) -> int:
    statements = []

    def count(*_args):
        statements.append(1)

    with app.test_request_context():
        user = db.session.get(User, user_id)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            dashboard = dashboard_for(user)
            assert dashboard is not None and dashboard.total and dashboard.activity
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_without_documents_the_home_keeps_only_the_shortcuts_and_odd_focus_is_ignored(
        app, admin, admin_client):
    with app.app_context():
        sent_document(admin["id"])
        reader = make_user(email="contacts@example.com", name="Cora Contacts")
        reader.roles.clear()
        role = Role(name="Contacts only")
        role.grants = [RoleGrant(section="contacts", action="view", scope="all")]
        reader.roles.append(role)
        db.session.commit()
    client = app.test_client()
    sign_in(client, "contacts@example.com")
    page = text_of(client.get("/"))
    assert 'id="dashboard-counts"' not in page and 'id="dashboard-empty"' not in page
    assert 'href="/counterparties"' in page and 'href="/pipeline"' not in page
    odd = admin_client.get("/pipeline?focus=%3Cscript%3E")
    assert odd.status_code == 200 and len(card_ids(text_of(odd))) == 1
