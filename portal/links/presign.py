"""Pre-signed public links (offers): our company's signer signs once for a link.

1. `request_signature` (back office) turns the mode on: a new pre-signature is asked of the
   company's signer (any earlier one is revoked) and they get an invitation to /p/sign/<token>.
   While no pre-signature holds, the link takes no visitors (its state is "unsigned").
2. The signer's ceremony reuses the signing's rules: the agreement (`signing.agreement`), a
   one-time code (`signing.codes`, its lifetime, attempts and resend limits), the browser
   session a confirmed code opens (`signing.ceremony`) and the signature and stamp images
   (`signing.filling`, cleaned by `signing.images`). The evidence stays on the row.
3. `apply_to` (called while a visitor's document is made) fills our company's fields with the
   stored images and marks our party signed, with its own events in the document's trail.
4. `revoke` takes the signature back (the link waits for a new one); `turn_off` ends the mode.
"""

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal import unit
from portal.audit.catalogue import (
    LINK_PRESIGN_REQUESTED,
    LINK_PRESIGN_REVOKED,
    LINK_PRESIGNED,
    PARTY_CODE_CONFIRMED,
    PARTY_CONSENT,
    PARTY_PRESIGNED,
    PARTY_SIGNED,
)
from portal.audit.service import RequestMeta
from portal.config import LANGUAGES
from portal.delivery.services import dispatch, queue_email, queue_sms
from portal.documents.display import mask_contact
from portal.documents.models import Document
from portal.documents.trail import audit
from portal.errors import DomainError
from portal.extensions import db
from portal.links.models import PublicLink, PublicLinkPresign
from portal.links.services import audit_link, link_for
from portal.links.services import publish as publish_link
from portal.models_base import utcnow
from portal.signing import ceremony as sessions
from portal.signing import codes
from portal.signing.agreement import company_agreement_text, paragraphs, text_sha256
from portal.signing.ceremony import Ceremony
from portal.signing.filling import (
    AUTO_TYPES,
    FieldInput,
    auto_value,
    signature_image,
    stamp_image,
)
from portal.signing.services import resend_wait_seconds, wait_message
from portal.storage import store
from portal.tokens import hash_token, new_token

CODE_NAMESPACE = "link-presign-code"
TOKEN_MAX_LENGTH = 200
# Our signer's fields a pre-signature can fill: anything else needs the signer on each document.
PRESIGNABLE = ("signature", "initials", "stamp", *AUTO_TYPES)
PRESIGNS = PublicLinkPresign.__table__


class PresignRefused(DomainError):
    """A step of the pre-signature refused, with a message for the signer or the publisher."""

    status = 422


class PresignClosed(DomainError):
    """The invitation opens nothing now; `state` says why (invalid, revoked, signed)."""

    status = 410

    def __init__(self, state: str):
        super().__init__(_("This invitation can no longer be used."))
        self.state = state


# --- the back office ---------------------------------------------------------------------------

def company_roles(link: PublicLink) -> set[str]:
    """The field types the template's layout gives our company's signer."""
    return {entry.get("type") for entry in link.template.default_layout or []
            if isinstance(entry, dict) and entry.get("role") == "company"}


def _refuse_unless_presignable(link: PublicLink) -> None:
    company = link.company
    if not (company.signer_email or company.signer_phone):
        raise PresignRefused(_("Give this company's signer an email or a phone first: the "
                               "invitation to pre-sign goes there."))
    if not company_roles(link) <= set(PRESIGNABLE):
        raise PresignRefused(_("The template asks our company's signer for more than a "
                               "signature and a stamp: they must sign each document."))


def publish(actor, meta, **values) -> tuple[PublicLink, str | None]:
    """Publish; a pre-signed link asks our signer at once. (The link, and why the signer could
    not be asked, if so: the link then waits, taking no visitors, until asked again.)"""
    link, _raw = publish_link(actor, meta, **values)
    if not link.presigned:
        return link, None
    try:
        request_signature(actor, meta, link.id)
    except PresignRefused as refused:
        return db.session.get(PublicLink, link.id), refused.message
    return db.session.get(PublicLink, link.id), None


def request_signature(actor, meta, link_id) -> PublicLinkPresign:
    """Turn the pre-signed mode on (or ask again): revoke what held, invite the signer."""
    link = link_for(actor, link_id)
    try:
        _refuse_unless_presignable(link)
    except PresignRefused:
        unit.rollback()
        raise
    _revoke_current(link)
    company = link.company
    channel = "email" if company.signer_email else "sms"
    raw, hashed = new_token()
    language = company.language if company.language in LANGUAGES else \
        (link.template.language if link.template.language in LANGUAGES else "en")
    presign = PublicLinkPresign(
        link_id=link.id, requested_by_id=actor.id, token_hash=hashed,
        name=company.signer_name or "", position=company.signer_position or "",
        email=company.signer_email or "", phone=company.signer_phone or "", channel=channel,
        language=language, code_attempts=0, codes_sent=0, recent_code_sends=[],
        agreement_sha256="", session_tag="", signature_method="", stamp_method="", ip="",
        user_agent="")
    db.session.add(presign)
    link.presigned = True
    db.session.flush()
    with force_locale(language):
        message = _invite(presign, link, raw)
    db.session.flush()
    audit_link(LINK_PRESIGN_REQUESTED, link, actor, meta,
               signer=f"{presign.name} <{mask_contact(presign.contact)}>",
               message_id=message.id)
    unit.commit()
    dispatch([message.id])
    return presign


def _invite(presign: PublicLinkPresign, link: PublicLink, raw: str):
    url = f"{current_app.config['SIGNET_BASE_URL']}/p/sign/{raw}"
    subject = _("Sign once for the link “%(title)s”", title=link.title)
    if presign.channel == "sms":
        return queue_sms(presign.phone, _("Signet: sign once for the link “%(title)s”: "
                                          "%(url)s", title=link.title, url=url),
                         kind="link_presign", secrets=[raw])
    lines = [_("%(company)s publishes “%(title)s” as a public link. Your signature, given "
               "once, will be on every document a visitor signs through it.",
               company=link.company.display_name, title=link.title),
             _("Open this link to read the agreement, confirm a code and sign:"), url]
    return queue_email(presign.email, subject, "notice", kind="link_presign", secrets=[raw],
                       heading=subject, lines=lines)


def _revoke_current(link: PublicLink) -> bool:
    now = utcnow()
    return bool(db.session.execute(
        update(PRESIGNS).where(PRESIGNS.c.link_id == link.id, PRESIGNS.c.revoked_at.is_(None))
        .values(revoked_at=now, updated_at=now)).rowcount)


def revoke(actor, meta, link_id) -> PublicLink:
    """Take the signature back: the link takes no visitors until the signer signs again."""
    link = link_for(actor, link_id)
    if _revoke_current(link):
        audit_link(LINK_PRESIGN_REVOKED, link, actor, meta, presigning=True)
    unit.commit()
    return link


def turn_off(actor, meta, link_id) -> PublicLink:
    """End the mode: our company's signer signs each document after the visitor again."""
    link = link_for(actor, link_id)
    if link.presigned:
        _revoke_current(link)
        link.presigned = False
        audit_link(LINK_PRESIGN_REVOKED, link, actor, meta, presigning=False)
    unit.commit()
    return link


def pending_of(link: PublicLink) -> PublicLinkPresign | None:
    """The pre-signature asked for and not revoked (signed or not), for the link's page."""
    return db.session.scalar(
        select(PublicLinkPresign).where(PublicLinkPresign.link_id == link.id,
                                        PublicLinkPresign.revoked_at.is_(None))
        .order_by(PublicLinkPresign.id.desc()).limit(1))


# --- the signer's ceremony ---------------------------------------------------------------------

def state_of(presign: PublicLinkPresign) -> str:
    if presign.revoked_at is not None or not presign.link.presigned:
        return "revoked"
    return "signed" if presign.signed_at is not None else "active"


def find(token: str) -> PublicLinkPresign:
    """The pre-signature this invitation names, or PresignClosed("invalid")."""
    token = str(token or "")
    presign = None
    if token and len(token) <= TOKEN_MAX_LENGTH:
        presign = db.session.scalar(select(PublicLinkPresign).where(
            PublicLinkPresign.token_hash == hash_token(token)))
    if presign is None:
        raise PresignClosed("invalid")
    return presign


def _lock(token: str) -> PublicLinkPresign:
    """The pre-signature, row-locked and still to be signed (else PresignClosed)."""
    presign_id = find(token).id
    unit.commit()  # a fresh transaction that writes first (see signing.access.lock_party)
    if db.engine.dialect.name == "sqlite":
        db.session.execute(update(PRESIGNS).where(PRESIGNS.c.id == presign_id)
                           .values(id=PRESIGNS.c.id))
    presign = db.session.scalar(
        select(PublicLinkPresign).where(PublicLinkPresign.id == presign_id).with_for_update()
        .execution_options(populate_existing=True))
    state = state_of(presign)
    if state != "active":
        unit.rollback()
        raise PresignClosed(state)
    return presign


def agreement_of(presign: PublicLinkPresign) -> list[str]:
    return paragraphs(company_agreement_text(presign.link.company, presign.language))


def accept(token: str, meta) -> PublicLinkPresign:
    """Record the consent (which text, hashed), then send the first code."""
    presign = _lock(token)
    if presign.consent_at is None:
        presign.consent_at = utcnow()
        presign.agreement_sha256 = text_sha256(
            company_agreement_text(presign.link.company, presign.language))
    unit.commit()
    if presign.code_hash is None and presign.code_confirmed_at is None:
        return send_code(token)
    return presign


def send_code(token: str) -> PublicLinkPresign:
    """A one-time code to the signer (the signing's limits: 1 a minute, 5 an hour)."""
    presign = _lock(token)
    if presign.consent_at is None:
        unit.rollback()
        raise PresignRefused(_("First read and accept the agreement."))
    now = utcnow()
    wait = resend_wait_seconds(presign, now)
    if wait:
        unit.rollback()
        raise PresignRefused(wait_message(wait), 429)
    code = codes.new_code()
    presign.code_hash = codes.code_hash(presign.id, code, CODE_NAMESPACE)
    presign.code_expires_at = now + codes.CODE_LIFETIME
    presign.code_attempts = 0
    codes.record_send(presign, now)
    with force_locale(presign.language):
        message = _queue_code(presign, code)
    db.session.flush()
    unit.commit()
    dispatch([message.id])
    return presign


def _queue_code(presign: PublicLinkPresign, code: str):
    # The code is a secret of the message: the outbox keeps only a masked copy of it.
    if presign.channel == "sms":
        return queue_sms(presign.phone, _("Signet code: %(code)s. Do not share it.", code=code),
                         kind="signing_code", secrets=[code])
    return queue_email(presign.email, _("Your signing code: %(code)s", code=code),
                       "signing_code", kind="signing_code", secrets=[code], code=code,
                       name=presign.name, title=presign.link.title, number="",
                       minutes=int(codes.CODE_LIFETIME.total_seconds() // 60))


def confirm_code(token: str, typed: str) -> tuple[PublicLinkPresign, Ceremony]:
    """The right code opens this browser's session (5 attempts per code)."""
    presign = _lock(token)
    typed = "".join(str(typed or "").split())
    refusal = None
    if presign.consent_at is None:
        refusal = _("First read and accept the agreement.")
    elif len(typed) != codes.CODE_DIGITS or not typed.isdigit():
        refusal = _("Enter the 6 digits from the message.")
    elif presign.code_hash is None or (presign.code_attempts or 0) >= codes.MAX_ATTEMPTS:
        refusal = _("Too many wrong codes. Ask for a new code.")
    elif presign.code_expires_at <= utcnow():
        refusal = _("This code has expired. Ask for a new code.")
    if refusal:
        unit.rollback()
        raise PresignRefused(refusal)
    presign.code_attempts = (presign.code_attempts or 0) + 1  # under the row lock
    if not codes.code_matches(presign, typed, CODE_NAMESPACE):
        left = codes.MAX_ATTEMPTS - presign.code_attempts
        unit.commit()
        raise PresignRefused(
            _("Wrong code, and that was the last attempt. Ask for a new code.") if left == 0
            else _("Wrong code. %(count)d attempts left.", count=left))
    presign.code_confirmed_at = utcnow()
    presign.code_hash = None
    presign.code_expires_at = None
    # The signing's session, bound to this pre-signature's id, invitation and confirmation
    # (the invitation's hash is its own: a party's cookie can never match it).
    opened = sessions.open_for(presign)
    presign.session_tag = opened.tag
    unit.commit()
    return presign, opened


def holds(presign: PublicLinkPresign, ceremony: Ceremony | None) -> bool:
    return sessions.holds(presign, ceremony)


def stamp_asked(presign: PublicLinkPresign) -> bool:
    return "stamp" in company_roles(presign.link)


def sign(token: str, meta, ceremony: Ceremony | None, signature: FieldInput,
         stamp: FieldInput | None) -> PublicLinkPresign:
    """Keep the signature (and the stamp, when the template places one) for the link."""
    presign = _lock(token)
    if not sessions.holds(presign, ceremony):
        unit.rollback()
        raise PresignRefused(_("Your signing session in this browser has ended. Ask for a "
                               "new code to go on here."))
    try:
        image, content_type, method = signature_image(signature)
        stamped = None
        if stamp_asked(presign):
            stamped = stamp_image(stamp or FieldInput(), presign.link.company.stamp_sha256)
    except DomainError as refused:
        unit.rollback()
        raise PresignRefused(refused.message) from None
    now = utcnow()
    presign.signature_sha256 = store(image, content_type).sha256
    presign.signature_method = method
    if stamped is not None:
        presign.stamp_sha256 = store(stamped[0], stamped[1]).sha256
        presign.stamp_method = stamped[2]
    presign.signed_at = now
    presign.ip = (meta.ip or "")[:64]
    presign.user_agent = (meta.user_agent or "")[:400]
    details = {"stamp_method": presign.stamp_method} if presign.stamp_method else {}
    audit_link(LINK_PRESIGNED, presign.link, None, meta,
               signer=f"{presign.name} <{mask_contact(presign.contact)}>",
               agreement_sha256=presign.agreement_sha256,
               signature_method=presign.signature_method, **details)
    unit.commit()
    return presign


# --- every document the link makes -------------------------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def apply_to(document: Document, link_id: int, presign_id: int) -> None:
    """In the document's creation: our company's fields get the pre-signature's images and
    our party is signed, each step its own event in the document's trail."""
    presign = db.session.get(PublicLinkPresign, presign_id)
    link = db.session.get(PublicLink, link_id)
    party = next(party for party in document.parties if party.role == "company")
    fields = [field for field in document.fields if field.party_id == party.id]
    for field in fields:
        if field.type in ("signature", "initials"):
            field.value_sha256, field.value = presign.signature_sha256, ""
        elif field.type == "stamp" and presign.stamp_sha256:
            field.value_sha256, field.value = presign.stamp_sha256, ""
        elif field.type in AUTO_TYPES:
            field.value = auto_value(field, party, presign.signed_at)
        field.filled_at = presign.signed_at
    party.consent_at = presign.consent_at
    party.code_confirmed_at = presign.code_confirmed_at
    party.signed_at = presign.signed_at
    party.status = "signed"
    party.ip, party.user_agent = presign.ip, presign.user_agent
    # The events name the signer's own IP and browser, from the pre-signing.
    meta = RequestMeta(ip=presign.ip, user_agent=presign.user_agent)
    audit(PARTY_CONSENT, document, party, meta, agreement_sha256=presign.agreement_sha256,
          language=presign.language)
    audit(PARTY_CODE_CONFIRMED, document, party, meta, attempt=presign.code_attempts or 1,
          session=presign.session_tag, public_link_id=link.id, channel=presign.channel,
          contact=mask_contact(presign.contact), code_sent_at=_iso(presign.code_sent_at),
          confirmed_at=_iso(presign.code_confirmed_at))
    details = {"stamp_method": presign.stamp_method} if presign.stamp_method else {}
    audit(PARTY_PRESIGNED, document, party, meta, public_link_id=link.id, title=link.title,
          presigned_at=_iso(presign.signed_at), signature_method=presign.signature_method,
          **details)
    audit(PARTY_SIGNED, document, party, meta, fields=len(fields), session=presign.session_tag)

