"""Saving, deleting and finding companies and counterparties. Each service commits."""

import re

from flask import current_app
from flask_babel import gettext as _

from portal import unit
from portal.errors import DomainError
from portal.extensions import db
from portal.parties.models import PARTY_KINDS, Company, Counterparty
from portal.parties.rules import (
    COMPANY_ONLY_FIELDS,
    COMPANY_RULES,
    COUNTERPARTY_RULES,
    RETENTION_FIELDS,
    InvalidValue,
    clean_days,
    clean_fields,
)
from portal.parties.search import fold, like_pattern, search_text_for
from portal.parties.stamps import InvalidStamp, check_stamp, read_upload
from portal.storage import store

PER_PAGE = 25


class PartyRefused(DomainError):
    """Some fields cannot be saved; `errors` maps a field (or group) name to its message.

    Groups: "contact" (a counterparty's email or phone), "signer_contact", "stamp".
    """

    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


# --- companies -----------------------------------------------------------------------------

def _stamp_from(upload) -> tuple[bytes, str]:
    data = read_upload(upload, current_app.config["SIGNET_STAMP_MAX_BYTES"])
    return data, check_stamp(data)


def save_company(data: dict, actor, company: Company | None = None, stamp_upload=None,
                 remove_stamp: bool = False) -> Company:
    """Create (company=None) or update a company; an upload replaces the stamp."""
    cleaned, errors = clean_fields(data, COMPANY_RULES)
    for name in (name for name in RETENTION_FIELDS if name in data):  # a caller may leave them
        try:
            cleaned[name] = clean_days(data.get(name))
        except InvalidValue as refused:
            errors[name] = refused.message
    if not (cleaned.get("signer_email") or cleaned.get("signer_phone")) and not (
        "signer_email" in errors or "signer_phone" in errors
    ):
        errors["signer_contact"] = _(
            "The signer needs an email or a phone: signing links are sent by email or SMS."
        )
    stamp = None
    if stamp_upload is not None:
        try:
            stamp = _stamp_from(stamp_upload)
        except InvalidStamp as refused:
            errors["stamp"] = refused.message
    if errors:
        raise PartyRefused(errors)

    stamp_sha256 = None
    if stamp is not None:
        stamp_sha256 = store(*stamp).sha256
        db.session.flush()  # the blob row exists before the company that points at it
    if company is None:
        company = Company()
        db.session.add(company)
    for name, value in cleaned.items():
        setattr(company, name, value)
    if stamp_sha256 is not None:
        company.stamp_sha256 = stamp_sha256
    elif remove_stamp:
        company.stamp_sha256 = None
    unit.commit()
    return company


def remove_company_stamp(company: Company, actor) -> None:
    """Take the stamp off a company (the stored file stays: documents may use it)."""
    company.stamp_sha256 = None
    unit.commit()


def delete_company(company: Company, actor) -> None:
    """Delete one of our companies."""
    db.session.delete(company)
    unit.commit()


def list_companies() -> list[Company]:
    return list(db.session.execute(
        db.select(Company).order_by(Company.legal_name, Company.id)
    ).scalars())


def company_for_language(language: str) -> Company | None:
    """The company a new document in `language` starts with: the first whose documents are in
    that language, else the first company."""
    companies = list_companies()
    return next((c for c in companies if c.language == language),
                companies[0] if companies else None)


# --- counterparties ------------------------------------------------------------------------

def _holder_of(column, value: str, counterparty: Counterparty | None) -> Counterparty | None:
    query = db.select(Counterparty).where(column == value)
    if counterparty is not None and counterparty.id is not None:
        query = query.where(Counterparty.id != counterparty.id)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def _duplicate_errors(cleaned: dict, counterparty: Counterparty | None) -> dict:
    errors = {}
    if cleaned.get("email"):
        other = _holder_of(Counterparty.email, cleaned["email"], counterparty)
        if other is not None:
            errors["email"] = _("%(name)s already has this email address.", name=other.name)
    if cleaned.get("tax_id"):
        other = _holder_of(Counterparty.tax_id, cleaned["tax_id"], counterparty)
        if other is not None:
            errors["tax_id"] = _("%(name)s already has this tax ID.", name=other.name)
    return errors


def _clean_counterparty(data: dict, counterparty: Counterparty | None) -> dict:
    kind = data.get("kind")
    cleaned, errors = clean_fields(data, COUNTERPARTY_RULES)
    if kind not in PARTY_KINDS:
        errors["kind"] = _("Choose whether this is a person or a company.")
    if kind == "person":
        # A person has no representative or company requisites: drop what the hidden
        # company section may still hold.
        errors = {name: message for name, message in errors.items()
                  if name not in COMPANY_ONLY_FIELDS}
        cleaned.update(dict.fromkeys(COMPANY_ONLY_FIELDS, ""))
    if not (cleaned.get("email") or cleaned.get("phone")) and not (
        "email" in errors or "phone" in errors
    ):
        errors["contact"] = _("Add an email or a phone: signing links are sent by email or SMS.")
    errors = {**_duplicate_errors(cleaned, counterparty), **errors}
    if errors:
        raise PartyRefused(errors)
    return {"kind": kind, **cleaned}


def save_counterparty(data: dict, actor, counterparty: Counterparty | None = None) -> Counterparty:
    """Create (counterparty=None) or update a counterparty, refusing duplicates."""
    cleaned = _clean_counterparty(data, counterparty)
    if counterparty is None:
        counterparty = Counterparty(created_by_id=getattr(actor, "id", None))
        db.session.add(counterparty)
    for name, value in cleaned.items():
        setattr(counterparty, name, value)
    counterparty.search_text = search_text_for(counterparty)
    unit.commit()
    return counterparty


def delete_counterparty(counterparty: Counterparty, actor) -> None:
    """Remove a counterparty from the directory."""
    db.session.delete(counterparty)
    unit.commit()


_PHONE_LIKE = re.compile(r"[\d\s()+\-.]+")


def _search_terms(query: str) -> list[str]:
    folded = fold(query)
    # "+7 (812) 333-44-55" should find "+78123334455": compare digits only.
    if _PHONE_LIKE.fullmatch(folded) and sum(ch.isdigit() for ch in folded) >= 3:
        return ["".join(ch for ch in folded if ch.isdigit())]
    return folded.split()


def search_counterparties(q: str = "", kind: str = "", page: int = 1, per_page: int = PER_PAGE):
    """One page of counterparties whose name, contacts or ids contain every word of `q`."""
    query = db.select(Counterparty)
    for term in _search_terms(q or ""):
        query = query.where(Counterparty.search_text.like(like_pattern(term), escape="\\"))
    if kind in PARTY_KINDS:
        query = query.where(Counterparty.kind == kind)
    query = query.order_by(Counterparty.name, Counterparty.id)
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def counterparties_exist() -> bool:
    return db.session.execute(db.select(Counterparty.id).limit(1)).first() is not None
