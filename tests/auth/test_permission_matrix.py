"""The permission matrix (issue 6): every role and scope, actors across a department tree,
documents of four owners, through the pages, the htmx fragments and the JSON API.

Allowed cells must succeed and show their effect; refused cells must answer exactly 404 (a
document the user must not know exists) or 403 (a screen or action closed to them) and change
nothing. The full matrix runs on a SQLite database of its own, built once for the module; a
slice of it runs on PostgreSQL.
"""

import itertools

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.documents.models import Document
from portal.extensions import db
from tests.auth.permission_world import (
    ALL_ACTORS,
    CELLS,
    ROLES,
    TARGETS,
    build_world,
    department_key,
    expected_refusal,
    make_world_app,
    reaches,
)
from tests.conftest import _empty_all_tables
from tests.fixtures import fixture_bytes

# PostgreSQL: one actor per interesting shape (built-in, department, subtree, narrower
# actions than sight, nothing at all), every target and every cell.
SLICE_ACTORS = (("employee", "child"), ("scope-department", "parent"),
                ("scope-subtree", "parent"), ("reader", "other"), ("scope-none", "parent"))


def _cases(actors):
    return [pytest.param(role, department, target, action, channel,
                         id=f"{role}@{department}-{target}-{action}-{channel}")
            for (role, department), target, (action, channel)
            in itertools.product(actors, TARGETS, CELLS)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("matrix")
    app = make_world_app(folder, f"sqlite:///{folder / 'matrix.db'}")
    with app.app_context():
        db.create_all()
    yield build_world(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def pg_world(database_url, tmp_path_factory):
    app = make_world_app(tmp_path_factory.mktemp("matrix-pg"), database_url)
    yield build_world(app, SLICE_ACTORS)
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


# --- one cell ----------------------------------------------------------------------------------

def _send(actor, method: str, url: str, **kwargs):
    return actor.client.open(url, method=method, **kwargs)


def _request(actor, action: str, channel: str, document_id: int, field_id: int, owner_id: int):
    page, api = f"/documents/{document_id}", f"/api/v1/documents/{document_id}"
    form = {"csrf_token": actor.csrf}
    token, csrf = actor.api_headers, {"X-CSRFToken": actor.csrf}
    requests = {
        ("view", "page"): ("GET", page, {}),
        ("view", "fragment"): ("GET", f"{page}/pages/1.img?w=400", {}),
        ("view", "api"): ("GET", api, {"headers": token}),
        ("edit", "page"): ("POST", f"{page}/edit", {"data": {
            **form, "title": "Checked by the matrix", "responsible_id": owner_id,
            "language": "en"}}),
        ("edit", "fragment"): ("PATCH", f"{page}/fields/{field_id}",
                               {"json": {"label": "checked"}, "headers": csrf}),
        ("edit", "api"): ("PATCH", api, {"json": {"responsible_id": owner_id},
                                         "headers": token}),
        ("delete", "page"): ("POST", f"{page}/delete", {"data": form}),
        ("send", "page"): ("POST", f"{page}/send", {"data": form}),
        ("send", "fragment"): ("POST", f"{page}/send", {"headers": {**csrf,
                                                                    "HX-Request": "true"}}),
        ("send", "api"): ("POST", f"{api}/send", {"headers": token}),
        ("source", "page"): ("GET", f"{page}/source.pdf", {}),
        ("source", "api"): ("GET", f"{api}/source.pdf", {"headers": token}),
        ("final", "page"): ("GET", f"{page}/final.pdf", {}),
        ("final", "api"): ("GET", f"{api}/final.pdf", {"headers": token}),
    }
    method, url, kwargs = requests[action, channel]
    return _send(actor, method, url, **kwargs)


def _stored(world, document_id: int) -> Document | None:
    with world.app.app_context():
        document = db.session.get(Document, document_id)
        if document is not None:
            db.session.expunge(document)
        return document


def _assert_succeeded(world, action, channel, response, document_id, owner_id):
    status, location = response.status_code, response.headers.get("Location", "")
    if action == "view":
        assert status == 200
        if channel == "page":
            assert f"/documents/{document_id}/source.pdf" in response.get_data(as_text=True)
        elif channel == "fragment":
            assert response.mimetype == "image/jpeg"
        else:
            assert response.get_json()["id"] == document_id
    elif action == "edit":
        if channel == "page":
            assert status == 302 and location.endswith(f"/documents/{document_id}")
        elif channel == "fragment":
            assert status == 200 and response.get_json()["field"]["label"] == "checked"
        else:
            assert status == 200 and response.get_json()["responsible_id"] == owner_id
    elif action == "delete":
        assert status == 302 and location.endswith("/documents")
        assert _stored(world, document_id) is None
    elif action == "send":
        expected_status = {"page": 302, "fragment": 204, "api": 200}[channel]
        assert status == expected_status
        if channel == "fragment":
            assert response.headers["HX-Redirect"].endswith(f"/documents/{document_id}")
        assert _stored(world, document_id).stage == "company_signing"
    else:
        wanted = "plain.pdf" if action == "source" else "three-pages.pdf"
        assert status == 200 and response.mimetype == "application/pdf"
        assert response.get_data() == fixture_bytes(wanted)


def _assert_refused(world, action, channel, response, refusal, document_id):
    assert response.status_code == refusal
    if channel == "api":
        assert response.get_json()["error"]["code"] == {403: "forbidden",
                                                        404: "not_found"}[refusal]
    if action in ("edit", "delete", "send"):
        unchanged = _stored(world, document_id)
        assert unchanged is not None and unchanged.stage == "draft"


def _run_cell(world, role, department, target, action, channel):
    actor = world.actors[role, department]
    owner_id = world.owner(actor, target)
    refusal = expected_refusal(role, department, target, action)
    draft_id, field_id = world.drafts[owner_id]
    if action == "final":
        document_id = world.signed[owner_id]
    elif action in ("delete", "send") and refusal is None:
        document_id = world.fresh_draft(owner_id)  # the shared draft stays for other cells
    else:
        document_id = draft_id
    response = _request(actor, action, channel, document_id, field_id, owner_id)
    if refusal is None:
        _assert_succeeded(world, action, channel, response, document_id, owner_id)
    else:
        _assert_refused(world, action, channel, response, refusal, document_id)


@pytest.mark.parametrize(("role", "department", "target", "action", "channel"),
                         _cases(ALL_ACTORS))
def test_cell(world, role, department, target, action, channel):
    _run_cell(world, role, department, target, action, channel)


@pytest.mark.postgres
@pytest.mark.parametrize(("role", "department", "target", "action", "channel"),
                         _cases(SLICE_ACTORS))
def test_cell_on_postgresql(pg_world, role, department, target, action, channel):
    _run_cell(pg_world, role, department, target, action, channel)


# --- lists, counts and the "mine" filter -------------------------------------------------------

def _expected_list(world, actor) -> tuple[set[int], set[int]]:
    """(every document the actor may see, those they are responsible for), from the rows."""
    scope = ROLES[actor.role][0]["view"]
    with world.app.app_context():
        rows = db.session.execute(select(Document.id, Document.responsible_id)).all()
        departments = dict(db.session.execute(select(User.id, User.department_id)).all())
    assert departments  # the owners' departments decide below
    seen = {document_id for document_id, owner_id in rows
            if reaches(scope, actor.department, department_key(world, owner_id, actor))}
    mine = {document_id for document_id, owner_id in rows if owner_id == actor.user_id}
    return seen, mine & seen


def _api_list(actor) -> tuple[set[int], int]:
    ids, page, total = set(), 1, 0
    while True:
        body = actor.client.get(f"/api/v1/documents?per_page=100&page={page}",
                                headers=actor.api_headers).get_json()
        ids |= {item["id"] for item in body["items"]}
        total = body["total"]
        if page >= body["pages"]:
            return ids, total
        page += 1


def _fragment_list(actor, mine: bool = False) -> set[int]:
    import re

    ids, page = set(), 1
    while True:
        response = actor.client.get(f"/documents?page={page}{'&mine=1' if mine else ''}",
                                    headers={"HX-Request": "true"})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and html.lstrip().startswith('<div id="document-list">')
        ids |= {int(found) for found in re.findall(r'<tr id="document-(\d+)"', html)}
        if 'rel="next"' not in html:
            return ids
        page += 1


def _check_lists(world, role, department):
    actor = world.actors[role, department]
    if ROLES[role][0]["view"] == "none":
        assert actor.client.get("/documents").status_code == 403
        assert actor.client.get("/documents", headers={"HX-Request": "true"}).status_code == 403
        assert actor.client.get("/api/v1/documents", headers=actor.api_headers).status_code == 403
        return
    seen, mine = _expected_list(world, actor)
    assert _api_list(actor) == (seen, len(seen))
    assert _fragment_list(actor) == seen
    assert _fragment_list(actor, mine=True) == mine


@pytest.mark.parametrize(("role", "department"), ALL_ACTORS, ids=lambda value: value)
def test_lists_and_counts_hold_exactly_what_the_role_reaches(world, role, department):
    _check_lists(world, role, department)


@pytest.mark.postgres
@pytest.mark.parametrize(("role", "department"), SLICE_ACTORS, ids=lambda value: value)
def test_lists_on_postgresql(pg_world, role, department):
    _check_lists(pg_world, role, department)


def test_the_signed_pdf_button_shows_only_where_the_vault_reaches(world):
    reader = world.actors["reader", "parent"]
    inside = world.signed[world.colleagues["child"]]  # reader's vault: own department only
    outside = world.signed[world.colleagues["other"]]
    assert f"/documents/{outside}/final.pdf" not in reader.client.get(
        f"/documents/{outside}").get_data(as_text=True)
    assert reader.client.get(f"/documents/{outside}/final.pdf").status_code == 403
    page = reader.client.get(f"/documents/{inside}").get_data(as_text=True)
    assert f"/documents/{inside}/final.pdf" not in page  # Branch is not Head office
    parent_doc = world.signed[world.colleagues["parent"]]
    assert f"/documents/{parent_doc}/final.pdf" in reader.client.get(
        f"/documents/{parent_doc}").get_data(as_text=True)
