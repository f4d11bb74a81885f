"""Publishing a template as a public link, and managing the links. Each service commits.

Who may: publishing makes documents in the publisher's name and sends them, so it takes the
right to create and send documents and to read templates; a link is then handled like the
documents it makes (the documents' "send" scope, the link's creator being its responsible).
"""

from datetime import datetime

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import unit
from portal.audit.catalogue import (
    LINK_DELETED,
    LINK_PAUSED,
    LINK_PUBLISHED,
    LINK_RESUMED,
    LINK_VALUES_CHANGED,
)
from portal.audit.service import record
from portal.auth.permissions import can, visible
from portal.doctemplates.models import DocumentTemplate
from portal.doctemplates.sandbox import format_money, format_number
from portal.doctemplates.variables import compute_totals, item_rows
from portal.documents.errors import DocumentRefused
from portal.documents.models import Document
from portal.documents.services.common import default_currency
from portal.documents.services.create import document_values
from portal.errors import DomainError
from portal.extensions import db
from portal.links.models import (
    LINK_CHANNELS,
    MAX_DOMAINS,
    PublicLink,
    PublicLinkPresign,
    PublicLinkSubmission,
)
from portal.models_base import as_utc, utcnow
from portal.parties.models import Company
from portal.secretbox import PUBLIC_LINK, seal, unseal
from portal.tokens import hash_token, new_token

TITLE_MAX = 300
MAX_USES_LIMIT = 1_000_000
PER_ADDRESS_MAX = 100
SIGNATURE_TYPES = ("signature", "initials")
DOMAIN_CHARACTERS = set("abcdefghijklmnopqrstuvwxyz0123456789.-")


class LinkRefused(DomainError):
    """The link cannot be published as asked; `errors` maps a field name to its message."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


class LinkNotFound(DomainError):
    status = 404

    def __init__(self):
        super().__init__(_("There is no such link."))


# --- who may ---------------------------------------------------------------------------------

def may_publish(user) -> bool:
    return all((can(user, "create", "documents"), can(user, "send", "documents"),
                can(user, "view", "templates")))


def may_manage(user, link: PublicLink) -> bool:
    return can(user, "send", "documents", link)


def links_of(user) -> list[PublicLink]:
    """The links the user may manage, newest first."""
    return list(db.session.scalars(
        select(PublicLink).where(visible(user, "documents", PublicLink, "send"))
        .order_by(PublicLink.created_at.desc(), PublicLink.id.desc())))


def link_for(user, link_id) -> PublicLink:
    """A link the user may manage, or LinkNotFound (not theirs to know of)."""
    link = db.session.get(PublicLink, link_id) if str(link_id or "").isdigit() else None
    if link is None or not may_manage(user, link):
        raise LinkNotFound()
    return link


def links_publishing(template_id: int) -> int:
    """How many links publish the template (its delete is refused while there are any)."""
    return db.session.scalar(select(func.count(PublicLink.id)).where(
        PublicLink.template_id == template_id)) or 0


RECENT_DOCUMENTS = 20


def recent_documents(user, link: PublicLink) -> list[Document]:
    """The newest documents made through the link that the user may see."""
    return list(db.session.scalars(
        select(Document).join(PublicLinkSubmission,
                              PublicLinkSubmission.document_id == Document.id)
        .where(PublicLinkSubmission.link_id == link.id, visible(user, "documents", Document))
        .order_by(Document.id.desc()).limit(RECENT_DOCUMENTS)))


# --- the URL ---------------------------------------------------------------------------------

def public_url(raw_token: str) -> str:
    return f"{current_app.config['SIGNET_BASE_URL']}/p/{raw_token}"


def url_of(link: PublicLink) -> str | None:
    """The link's URL again (its token is kept sealed); None when SECRET_KEY changed since."""
    raw = unseal(link.token_sealed, PUBLIC_LINK)
    return public_url(raw) if raw is not None and hash_token(raw) == link.token_hash else None


# --- publishing ------------------------------------------------------------------------------

def _template(template_id, errors: dict) -> DocumentTemplate | None:
    template = (db.session.get(DocumentTemplate, int(template_id))
                if str(template_id or "").isdigit() else None)
    if template is None or not template.active:
        errors["template_id"] = _("Choose one of the active templates.")
        return None
    roles = {entry.get("role") for entry in template.default_layout or []
             if isinstance(entry, dict) and entry.get("type") in SIGNATURE_TYPES}
    if not {"company", "client"} <= roles:
        # The documents a link makes are sent at once: no one could place the fields later.
        errors["template_id"] = _("This template's field layout has no signature field for "
                                  "the client and for our company. Save a layout with both "
                                  "first (from a document made from it).")
    return template


def _company(company_id, errors: dict) -> Company | None:
    company = db.session.get(Company, int(company_id)) if str(company_id or "").isdigit() \
        else None
    if company is None:
        errors["company_id"] = _("Choose one of our companies.")
    elif not (company.signer_email or company.signer_phone):
        errors["company_id"] = _("Give this company's signer an email or a phone first: "
                                 "they sign every document the link makes.")
    return company


def _positive(value, key: str, high: int, errors: dict) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= high:
        errors[key] = _("Enter a whole number from 1 to %(max)d.", max=high)
        return None
    return int(text)


def clean_domains(value, errors: dict) -> list[str]:
    """Email domains from a list or a text (commas, spaces or lines), lower case, "@" dropped."""
    parts = value if isinstance(value, list | tuple) else str(value or "").replace(",", " ").split()
    domains = []
    for part in parts:
        domain = str(part).strip().lower().lstrip("@")
        if not domain:
            continue
        if (len(domain) > 253 or "." not in domain or not set(domain) <= DOMAIN_CHARACTERS
                or domain.startswith((".", "-")) or ".." in domain):
            errors["allowed_domains"] = _("“%(domain)s” is not an email domain such as "
                                          "example.com.", domain=str(part)[:100])
            return []
        if domain not in domains:
            domains.append(domain)
    if len(domains) > MAX_DOMAINS:
        errors["allowed_domains"] = _("At most %(count)d domains.", count=MAX_DOMAINS)
    return domains


def _expiry(value, errors: dict) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, datetime):
        errors["expires_at"] = _("Enter a date and time.")
        return None
    moment = as_utc(value)
    if moment <= utcnow():
        errors["expires_at"] = _("The expiry must be in the future.")
    return moment


def _document_values(values: dict | None, template: DocumentTemplate | None,
                     errors: dict) -> dict:
    """Place, items, VAT rate and currency for every document, cleaned as a new document's
    (`documents.services.create.document_values`); the currency by the template's language
    when none is given."""
    given = dict(values or {})
    if not str(given.get("currency") or "").strip():
        given["currency"] = default_currency(getattr(template, "language", None))
    try:
        return document_values(place=given.get("place", ""), items=given.get("items") or (),
                               vat_rate=given.get("vat_rate"), currency=given["currency"])
    except DocumentRefused as refused:
        errors.update(refused.errors)
        return {}


def publish(actor, meta, *, template_id, company_id, title="", channel="email",
            expires_at=None, max_uses=None, allowed_domains=(), per_address_limit=3,
            presigned=False, values=None) -> tuple[PublicLink, str]:
    """A new link for the template: (the link, its raw token, shown in its URL).

    A pre-signed link takes no visitors until our signer signed it (`presign`)."""
    if not may_publish(actor):
        raise DomainError(_("You may not publish links: it takes the right to create and "
                            "send documents."), 403)
    errors: dict = {}
    template = _template(template_id, errors)
    company = _company(company_id, errors)
    title = " ".join(str(title or "").split()) or getattr(template, "name", "")
    if len(title) > TITLE_MAX:
        errors["title"] = _("At most %(count)s characters.", count=TITLE_MAX)
    if channel not in LINK_CHANNELS:
        errors["channel"] = _("Choose email or SMS.")
    expiry = _expiry(expires_at, errors)
    uses = _positive(max_uses, "max_uses", MAX_USES_LIMIT, errors)
    per_address = _positive(per_address_limit, "per_address_limit", PER_ADDRESS_MAX, errors)
    domains = clean_domains(allowed_domains, errors)
    terms = _document_values(values, template, errors)
    if domains and channel != "email":
        errors["allowed_domains"] = _("Allowed domains need codes sent by email.")
    if errors:
        unit.rollback()
        raise LinkRefused(errors)
    raw, hashed = new_token()
    link = PublicLink(template_id=template.id, company_id=company.id, created_by_id=actor.id,
                      title=title, token_hash=hashed, token_sealed=seal(raw, PUBLIC_LINK),
                      channel=channel, expires_at=expiry, max_uses=uses,
                      allowed_domains=domains, per_address_limit=per_address or 3, uses=0,
                      active=True, presigned=bool(presigned), document_values=terms)
    db.session.add(link)
    db.session.flush()
    audit_link(LINK_PUBLISHED, link, actor, meta, channel=channel,
               expires_at=expiry.isoformat() if expiry else None, max_uses=uses,
               allowed_domains=domains, document_values=terms)
    unit.commit()
    return link, raw


def audit_link(event_type, link: PublicLink, actor, meta, **details) -> None:
    """A link's own event (no document): who changed it, and how."""
    record(event_type, None, actor, meta, via_api=bool(getattr(meta, "via_api", False)),
           link_id=link.id, title=link.title, template_id=link.template_id, **details)


class ValuesLocked(DomainError):
    status = 409

    def __init__(self):
        super().__init__(_("Our signer pre-signed these terms: revoke the pre-signature or stop "
                           "pre-signing before changing them."))


def set_values(actor, meta, link_id, *, title="", values=None) -> PublicLink:
    """New title and document values for the documents the link makes from now on (those made
    keep theirs). Not while a pre-signature holds: our signer signed the terms as they are."""
    link = link_for(actor, link_id)
    if valid_presign(link) is not None:
        unit.rollback()
        raise ValuesLocked()
    errors: dict = {}
    title = " ".join(str(title or "").split()) or link.template.name
    if len(title) > TITLE_MAX:
        errors["title"] = _("At most %(count)s characters.", count=TITLE_MAX)
    terms = _document_values(values, link.template, errors)
    if errors:
        unit.rollback()
        raise LinkRefused(errors)
    previous = dict(link.document_values or {})
    link.title, link.document_values = title, terms
    audit_link(LINK_VALUES_CHANGED, link, actor, meta, document_values=terms, previous=previous)
    unit.commit()
    return link


def terms_of(link: PublicLink) -> dict:
    """What the link's documents say besides the client, for its pages: the items with their
    amounts, the totals, the currency and place, and the total written out."""
    values = link.document_values or {}
    rows = item_rows(values.get("items") or ())
    totals = compute_totals(rows, values.get("vat_rate"))
    currency = values.get("currency") or default_currency(link.template.language)
    language = str(get_locale() or "en")
    for row in rows:
        row["text"] = "{name}: {quantity}{unit} × {price}".format(
            name=row["name"], quantity=format_number(row["quantity"], language),
            unit=f" {row['unit']}" if row["unit"] else "",
            price=format_money(row["price"], language, currency))
    return {"rows": rows, "totals": totals, "currency": currency,
            "place": values.get("place", ""), "vat_rate": values.get("vat_rate"),
            "total_text": format_money(totals["gross"], language, currency)}


# --- pause, resume, delete -------------------------------------------------------------------

def set_active(actor, meta, link_id, active: bool) -> PublicLink:
    link = link_for(actor, link_id)
    if link.active != active:
        link.active = active
        if active:
            audit_link(LINK_RESUMED, link, actor, meta)
        else:
            audit_link(LINK_PAUSED, link, actor, meta)
    unit.commit()
    return link


def delete_link(actor, meta, link_id) -> None:
    """The link stops working at once; the documents it made stay as they are."""
    link = link_for(actor, link_id)
    audit_link(LINK_DELETED, link, actor, meta, uses=link.uses)
    db.session.delete(link)
    unit.commit()


def link_json(link: PublicLink) -> dict:
    """A link as the API shows it (the URL only while its token can still be opened)."""
    return {
        "id": link.id, "title": link.title, "url": url_of(link),
        "template_id": link.template_id, "company_id": link.company_id,
        "created_by_id": link.created_by_id, "channel": link.channel,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "max_uses": link.max_uses, "uses": link.uses,
        "allowed_domains": list(link.allowed_domains or []),
        "per_address_limit": link.per_address_limit, "active": link.active,
        "presigned": link.presigned, "document_values": dict(link.document_values or {}),
        "state": state_of(link), "created_at": link.created_at.isoformat(),
    }


# --- whether it takes visitors ----------------------------------------------------------------

LINK_STATES = ("open", "paused", "expired", "used_up", "unsigned")


def valid_presign(link: PublicLink) -> PublicLinkPresign | None:
    """The pre-signature that holds for a pre-signed link: signed and not revoked."""
    if not link.presigned:
        return None
    return db.session.scalar(
        select(PublicLinkPresign).where(PublicLinkPresign.link_id == link.id,
                                        PublicLinkPresign.revoked_at.is_(None),
                                        PublicLinkPresign.signed_at.is_not(None))
        .order_by(PublicLinkPresign.id.desc()).limit(1))


def state_of(link: PublicLink, now: datetime | None = None) -> str:
    """One of LINK_STATES: whether a visitor can use the link now.

    A link whose creator was deactivated is paused too: its documents would have nobody
    responsible for them."""
    if not link.active or not link.created_by.active:
        return "paused"
    if link.expires_at is not None and link.expires_at <= (now or utcnow()):
        return "expired"
    if link.used_up():
        return "used_up"
    if link.presigned and valid_presign(link) is None:
        return "unsigned"  # waits for our signer's pre-signature
    return "open"
