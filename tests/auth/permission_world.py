"""A small company for the permission matrix: a department tree, an actor per role and
department, documents of every owner, and the expected answer of every cell.

Departments: Head office (parent) > Branch (child), and Elsewhere (other). Each role has one
actor in each department; each actor acts on documents whose responsible is themselves ("own")
or a colleague in each department ("parent", "child", "other"). The expectations are written
out here from the issue's rules, independently of portal/auth/permissions.py.
"""

import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta

from werkzeug.security import generate_password_hash

from portal import create_app
from portal.api import tokens
from portal.auth.models import Department, Role, RoleGrant, User
from portal.auth.roles import role_by_key
from portal.documents.models import Document, Field, Party
from portal.extensions import db
from portal.models_base import utcnow
from portal.storage import store
from tests.conftest import base_config
from tests.documents.support import signet_company
from tests.fixtures import fixture_bytes

DEPARTMENTS = ("parent", "child", "other")
TARGETS = ("own", "parent", "child", "other")
# The departments a "subtree" scope adds to the actor's own.
SUBDEPARTMENTS = {"parent": {"child"}, "child": set(), "other": set()}
DOCUMENT_ACTIONS = ("view", "edit", "delete", "send")
BUILT_IN = ("employee", "supervisor", "administrator")


def _same(scope: str) -> dict[str, str]:
    return dict.fromkeys(DOCUMENT_ACTIONS, scope)


# role -> (documents scope per action, vault view scope). The built-in roles as the issue
# describes them; a custom role per scope; and "reader", whose actions and vault are narrower
# than what it sees (the cells where a visible document still answers 403).
ROLES = {
    "employee": (_same("own"), "own"),
    "supervisor": (_same("all"), "all"),
    "administrator": (_same("all"), "all"),
    "scope-none": (_same("none"), "none"),
    "scope-own": (_same("own"), "own"),
    "scope-department": (_same("department"), "department"),
    "scope-subtree": (_same("subtree"), "subtree"),
    "scope-all": (_same("all"), "all"),
    "reader": ({"view": "all", "edit": "own", "delete": "own", "send": "own"}, "department"),
}
# What each cell does: (action, channel); "source" and "final" are the two PDF downloads.
CELLS = (
    ("view", "page"), ("view", "fragment"), ("view", "api"),
    ("edit", "page"), ("edit", "fragment"), ("edit", "api"),
    ("delete", "page"),
    ("send", "page"), ("send", "fragment"), ("send", "api"),
    ("source", "page"), ("source", "api"),
    ("final", "page"), ("final", "api"),
)
PASSWORD = "correct horse battery"
# One pbkdf2 round: logging in 30 actors should not cost 30 slow password hashes.
FAST_HASH = generate_password_hash(PASSWORD, "pbkdf2:sha256:1")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_numbers = itertools.count(1)


def reaches(scope: str, department: str, target: str) -> bool:
    """Does `scope`, held by someone in `department`, reach a document of `target`?"""
    if scope == "none":
        return False
    if scope == "all" or target == "own":
        return True
    if scope == "own":
        return False
    return target == department or (scope == "subtree" and target in SUBDEPARTMENTS[department])


def expected_refusal(role: str, department: str, target: str, action: str) -> int | None:
    """The status that refuses the cell, or None when it must succeed."""
    scopes, vault = ROLES[role]
    if action == "final":
        if vault == "none":
            return 403
        if reaches(vault, department, target):
            return None
        return 403 if reaches(scopes["view"], department, target) else 404
    action = "view" if action == "source" else action
    if scopes[action] == "none":
        return 403  # the screen itself is closed to the user, whatever the document
    if not reaches(scopes["view"], department, target):
        return 404  # a document they must not know exists
    return None if reaches(scopes[action], department, target) else 403


@dataclass
class Actor:
    role: str
    department: str
    user_id: int
    client: object
    csrf: str
    api_headers: dict

    @property
    def name(self) -> str:
        return f"{self.role}@{self.department}"


@dataclass
class World:
    app: object
    company_id: int
    source_sha256: str
    final_sha256: str
    department_ids: dict[str, int]
    colleagues: dict[str, int] = field(default_factory=dict)
    actors: dict[tuple[str, str], Actor] = field(default_factory=dict)
    drafts: dict[int, tuple[int, int]] = field(default_factory=dict)  # owner -> (doc, field)
    signed: dict[int, int] = field(default_factory=dict)  # owner -> completed document

    def owner(self, actor: Actor, target: str) -> int:
        return actor.user_id if target == "own" else self.colleagues[target]

    def fresh_draft(self, owner_id: int) -> int:
        """A new ready-to-send draft of `owner_id`, for a cell that sends or deletes it."""
        with self.app.app_context():
            return add_document(self, owner_id).id


def add_document(world: World, owner_id: int, stage: str = "draft") -> Document:
    """A document row with our signer and a client, each with a signature field (commits)."""
    number = next(_numbers)
    now = utcnow()
    document = Document(
        number=f"M-{number:05d}", title=f"Matrix document {number}",
        company_id=world.company_id, responsible_id=owner_id, created_by_id=owner_id,
        verification_code=f"MTRX-{number:06d}", source_sha256=world.source_sha256,
        source_filename="plain.pdf", page_count=1, language="en", stage=stage,
        deadline_at=now + timedelta(days=30))
    ours = Party(order=2, role="company", name="Anna Petrova", email="director@signet.example")
    theirs = Party(order=3, role="client", name="Maria Silva", email="maria@example.com")
    document.parties = [ours, theirs]
    document.fields = [
        Field(party=ours, type="signature", page=1, x=0.1, y=0.8, w=0.25, h=0.06),
        Field(party=theirs, type="signature", page=1, x=0.6, y=0.8, w=0.25, h=0.06),
    ]
    if stage == "completed":
        document.sent_at = document.completed_at = document.stage_changed_at = now
        document.final_sha256 = world.final_sha256
        for party in document.parties:
            party.status, party.signed_at = "signed", now
    db.session.add(document)
    db.session.commit()
    return document


def make_world_app(folder, database_url: str):
    """An app of its own for a module: no rate limits (one address logs in thirty times)."""
    return create_app({**base_config(folder, database_url), "RATELIMIT_ENABLED": False})


ALL_ACTORS = tuple(itertools.product(ROLES, DEPARTMENTS))


def build_world(app, actors=ALL_ACTORS) -> World:
    """Departments, roles, the (role, department) actors (logged in, with API tokens) and
    every owner's documents."""
    with app.app_context():
        world = _build_rows(app, actors)
    for actor in world.actors.values():
        _log_in(actor)
    return world


def _build_rows(app, actors) -> World:
    head = Department(name="Head office")
    tree = {"parent": head, "child": Department(name="Branch", parent=head),
            "other": Department(name="Elsewhere")}
    db.session.add_all(tree.values())
    company = signet_company()
    source = store(fixture_bytes("plain.pdf"), "application/pdf")
    final = store(fixture_bytes("three-pages.pdf"), "application/pdf")
    db.session.commit()
    world = World(app=app, company_id=company.id, source_sha256=source.sha256,
                  final_sha256=final.sha256,
                  department_ids={key: department.id for key, department in tree.items()})
    role_rows = {key: _role(key) for key in dict.fromkeys(key for key, _unused in actors)}
    for department in DEPARTMENTS:
        world.colleagues[department] = _user(f"colleague-{department}", tree[department]).id
    for key, department in actors:
        user = _user(f"{key}-{department}", tree[department], role_rows[key])
        secret = tokens.create_token(user, "matrix")[1]
        world.actors[key, department] = Actor(
            role=key, department=department, user_id=user.id, client=app.test_client(),
            csrf="", api_headers={"Authorization": f"Bearer {secret}"})
    for owner_id in [*world.colleagues.values(), *(a.user_id for a in world.actors.values())]:
        draft = add_document(world, owner_id)
        world.drafts[owner_id] = (draft.id, draft.fields[0].id)
        world.signed[owner_id] = add_document(world, owner_id, stage="completed").id
    return world


def _role(key: str) -> Role:
    if key in BUILT_IN:
        return role_by_key(key)
    scopes, vault = ROLES[key]
    role = Role(name=f"Matrix {key}")
    role.grants = [RoleGrant(section="documents", action=action, scope=scope)
                   for action, scope in scopes.items()]
    role.grants.append(RoleGrant(section="documents", action="create", scope=scopes["edit"]))
    role.grants.append(RoleGrant(section="vault", action="view", scope=vault))
    db.session.add(role)
    return role


def _user(handle: str, department: Department, role: Role | None = None) -> User:
    user = User(email=f"{handle}@example.com", name=handle.replace("-", " ").title(),
                department=department, password_hash=FAST_HASH)
    if role is not None:
        user.roles.append(role)
    db.session.add(user)
    db.session.commit()
    return user


def _log_in(actor: Actor) -> None:
    """Through the real login form; then the CSRF token the pages would carry."""
    client = actor.client
    login_page = client.get("/login").get_data(as_text=True)
    with actor.client.application.app_context():
        email = db.session.get(User, actor.user_id).email
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": CSRF_META.search(login_page).group(1)})
    assert response.status_code == 302, actor.name
    actor.csrf = CSRF_META.search(client.get("/").get_data(as_text=True)).group(1)


def department_key(world: World, user_id: int, actor: Actor) -> str:
    """How `actor` relates to a document of `user_id`: own, or the owner's department."""
    if user_id == actor.user_id:
        return "own"
    with world.app.app_context():
        department_id = db.session.get(User, user_id).department_id
    names = {value: key for key, value in world.department_ids.items()}
    return names.get(department_id, "elsewhere")
