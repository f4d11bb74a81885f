"""Factories for test data. Call inside an app context; they commit."""

from functools import lru_cache

from werkzeug.security import generate_password_hash

from portal.auth.models import Department, User
from portal.extensions import db
from portal.parties.models import Company, Counterparty
from portal.parties.search import search_text_for

DEFAULT_PASSWORD = "correct horse battery"


@lru_cache(maxsize=64)
def quick_hash(password: str) -> str:
    """A hash the login accepts at once: the portal's own (scrypt) costs ~0.2 s a call, paid
    twice by every test that logs in. Tests of hashing itself call set_password."""
    return generate_password_hash(password, "pbkdf2:sha256:1")


def make_department(name="Sales", parent=None) -> Department:
    department = Department(name=name, parent=parent)
    db.session.add(department)
    db.session.commit()
    return department


def make_user(email="user@example.com", name="Test User", password=DEFAULT_PASSWORD,
              is_admin=False, active=True, department=None) -> User:
    from portal.auth.roles import ADMINISTRATOR, EMPLOYEE, give_role

    user = User(email=email, name=name, active=active, department=department)
    give_role(user, EMPLOYEE)
    if is_admin:
        give_role(user, ADMINISTRATOR)
    user.password_hash = quick_hash(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_company(legal_name="Acme LLC", signer_name="Anna Director", **fields) -> Company:
    company = Company(legal_name=legal_name, signer_name=signer_name, **fields)
    db.session.add(company)
    db.session.commit()
    return company


def make_counterparty(name="Maria Silva", kind="person", email="maria@example.com",
                      **fields) -> Counterparty:
    counterparty = Counterparty(name=name, kind=kind, email=email, **fields)
    counterparty.search_text = search_text_for(counterparty)
    db.session.add(counterparty)
    db.session.commit()
    return counterparty


def make_document_row(user_id, company=None, title="Act of completed work", **fields):
    """A bare draft document row (no PDF), for tests of things that hang off documents."""
    import secrets

    from portal.documents.models import Document

    company = company or make_company()
    document = Document(
        number=fields.pop("number", f"DOC-{secrets.token_hex(4)}"),
        title=title,
        company_id=company.id,
        responsible_id=user_id,
        created_by_id=user_id,
        verification_code=secrets.token_hex(6),
        **fields,
    )
    db.session.add(document)
    db.session.commit()
    return document
