"""A visitor on a public link: details, a one-time code, then their own document to sign.

1. `start`: the visitor's details are checked (the link open, the address in an allowed
   domain and under the per-address limit) and a submission is kept with a code sent to the
   address; the browser holds the submission's key (a cookie on the link's path).
2. `confirm`: the code proves the address. One use of the link is taken by a conditional
   update (of two visitors on the last use, one gets it), the document is made from the
   template for the visitor and sent in the name of the link's creator: the client signs first,
   our company after. The client party is then marked as having confirmed its contact just now
   (the evidence goes into the document's trail), so the ceremony goes on without a second code.
   On a pre-signed link our company's party is signed already, with the pre-signature
   (`presign.apply_to`): the document completes when the visitor signed.
"""

import hmac
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal import unit
from portal.audit.catalogue import PARTY_CODE_CONFIRMED
from portal.auth.models import User
from portal.config import LANGUAGES
from portal.delivery.services import dispatch, queue_email, queue_sms
from portal.doctemplates.rendering import printed_requisites
from portal.documents.display import mask_contact
from portal.documents.errors import DocumentRefused
from portal.documents.links import current_link_token
from portal.documents.models import ROLE_ORDER, Document, Party
from portal.documents.services import SendRefused, create_from_template
from portal.documents.services import send as send_document
from portal.documents.services.parties import clean_new_client
from portal.documents.trail import audit
from portal.errors import DomainError
from portal.extensions import db
from portal.links import presign as presigning
from portal.links.models import PublicLink, PublicLinkSubmission
from portal.links.services import state_of, valid_presign
from portal.models_base import utcnow
from portal.signing import ceremony as sessions
from portal.signing import codes
from portal.signing.services import resend_wait_seconds, wait_message
from portal.tokens import hash_token, new_token

TOKEN_MAX_LENGTH = 200
ADDRESS_WINDOW = timedelta(days=1)
SUBMISSIONS = PublicLinkSubmission.__table__
LINKS = PublicLink.__table__
# The visitor signs first, our company after (ROLE_ORDER puts the company first otherwise).
CLIENT_FIRST = ROLE_ORDER["company"] - 1


class LinkUnavailable(DomainError):
    """The link does not exist, or takes no visitors now; `state` says why."""

    status = 410

    def __init__(self, state: str):
        super().__init__(_("This link can no longer be used."))
        self.state = state


class VisitorRefused(DomainError):
    """The visitor's input or step was refused; `errors` maps a form field to its message."""

    status = 422

    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__(next(iter(errors.values())), status)
        self.errors = errors


@dataclass(frozen=True)
class Entered:
    """What confirming hands the page: the client's signing link and the session it opens."""

    document_id: int
    party_token: str
    ceremony: sessions.Ceremony


# --- the link --------------------------------------------------------------------------------

def open_link(token: str) -> PublicLink:
    """The link this token opens, if it takes visitors now; else LinkUnavailable."""
    token = str(token or "")
    link = None
    if token and len(token) <= TOKEN_MAX_LENGTH:
        link = db.session.scalar(select(PublicLink).where(
            PublicLink.token_hash == hash_token(token)))
    if link is None:
        raise LinkUnavailable("invalid")
    state = state_of(link)
    if state != "open":
        raise LinkUnavailable(state)
    return link


def _submission(link: PublicLink, key: str | None, lock: bool = False) -> PublicLinkSubmission:
    """The submission this browser's key names on this link (row-locked when asked)."""
    key = str(key or "")
    if not key or len(key) > TOKEN_MAX_LENGTH:
        raise VisitorRefused({"code": _("Enter your details first.")}, 409)
    key_hash = hash_token(key)
    if lock and db.engine.dialect.name == "sqlite":
        # No row locks in SQLite: write first to take the database's lock (see workflow.lock).
        db.session.execute(update(SUBMISSIONS).where(SUBMISSIONS.c.key_hash == key_hash)
                           .values(id=SUBMISSIONS.c.id))
    query = select(PublicLinkSubmission).where(PublicLinkSubmission.key_hash == key_hash,
                                               PublicLinkSubmission.link_id == link.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    submission = db.session.scalar(query)
    if submission is None:
        raise VisitorRefused({"code": _("Enter your details first.")}, 409)
    return submission


# --- details ---------------------------------------------------------------------------------

CLIENT_KEYS = ("kind", "name", "representative_name", "representative_position", "email",
               "phone")


# Requisites only Russian companies have: a template in another language asks nobody for them.
RUSSIAN_ONLY = ("kpp", "correspondent_account")


def asked(link: PublicLink) -> tuple[str, ...]:
    """The company requisites a visitor is asked for: those the link's template prints (a
    form on a phone stays short)."""
    template = link.template
    return tuple(name for name in printed_requisites(template)
                 if template.language == "ru" or name not in RUSSIAN_ONLY)


def _clean_details(link: PublicLink, form: dict) -> tuple[dict, str]:
    """The client as create_from_template takes it, and the address the code goes to.

    The checks are the documents' own (`clean_new_client`: a company's requisites by the
    directory's rules, a person has none); what a visitor left out is said in words meant for
    them rather than for a sender. Requisites the template does not print are not taken."""
    typed = {key: str(form.get(key) or "").strip() for key in (*CLIENT_KEYS, *asked(link))}
    contact_key = "phone" if link.channel == "sms" else "email"
    errors = {}
    if not typed["name"]:
        errors["name"] = _("Enter your name, or your company's name.")
    if not typed[contact_key]:
        errors[contact_key] = (_("Enter your phone number: the code comes by SMS.")
                               if link.channel == "sms" else
                               _("Enter your email address: the code comes by email."))
    if typed["kind"] == "company" and not typed["representative_name"]:
        errors["representative_name"] = _("Enter the name of the person who signs.")
    client = None
    try:
        client = clean_new_client(typed)
    except DocumentRefused as refused:
        for key, message in refused.errors.items():
            field = key.removeprefix("client_")
            if field in typed and typed[field]:  # a value typed but refused (a bad email)
                errors.setdefault(field, message)
            elif field == "kind":
                errors.setdefault("kind", message)
    contact = (client or {}).get(contact_key, "")
    domains = link.allowed_domains or []
    if contact and link.channel == "email" and domains \
            and contact.rsplit("@", 1)[-1] not in domains:
        errors["email"] = _("This link is only for addresses at %(domains)s.",
                            domains=", ".join(domains))
    if errors or client is None:
        raise VisitorRefused(errors or {"name": _("Enter your name, or your company's name.")})
    return client, contact


def _refuse_if_over_limit(link: PublicLink, contact: str) -> None:
    started = db.session.scalar(
        select(func.count(PublicLinkSubmission.id)).where(
            PublicLinkSubmission.link_id == link.id, PublicLinkSubmission.contact == contact,
            PublicLinkSubmission.created_at > utcnow() - ADDRESS_WINDOW))
    if started >= link.per_address_limit:
        raise VisitorRefused({"email" if link.channel == "email" else "phone": _(
            "This address was used on this link too often today. Try again tomorrow.")}, 429)


def start(token: str, form: dict, meta) -> tuple[PublicLinkSubmission, str]:
    """Check the visitor's details and send them a code: (the submission, the browser's key)."""
    link = open_link(token)
    client, contact = _clean_details(link, form)
    _refuse_if_over_limit(link, contact)
    key, key_hash = new_token()
    submission = PublicLinkSubmission(
        link_id=link.id, key_hash=key_hash, details=client, contact=contact,
        channel=link.channel, code_attempts=0, codes_sent=0, recent_code_sends=[],
        ip=(meta.ip or "")[:64], user_agent=(meta.user_agent or "")[:400])
    db.session.add(submission)
    db.session.flush()
    message_id = _new_code(submission, link)
    unit.commit()
    dispatch([message_id])
    return submission, key


# --- the code --------------------------------------------------------------------------------

def _code_hash(submission_id: int, code: str) -> str:
    """signing.codes.code_hash in a namespace of its own (a submission is not a party)."""
    return codes.code_hash(submission_id, code, "public-link-code")


def _new_code(submission: PublicLinkSubmission, link: PublicLink) -> int:
    """A fresh code for the submission, queued to its address; the message's id."""
    now = utcnow()
    code = codes.new_code()
    submission.code_hash = _code_hash(submission.id, code)
    submission.code_expires_at = now + codes.CODE_LIFETIME
    submission.code_attempts = 0
    codes.record_send(submission, now)
    # The code is a secret of the message: the outbox keeps only a masked copy of it.
    if submission.channel == "sms":
        message = queue_sms(submission.contact,
                            _("Signet code: %(code)s. Do not share it.", code=code),
                            kind="signing_code", secrets=[code])
    else:
        message = queue_email(submission.contact, _("Your signing code: %(code)s", code=code),
                              "signing_code", kind="signing_code", secrets=[code], code=code,
                              name=submission.details.get("name", ""), title=link.title,
                              number="", minutes=int(codes.CODE_LIFETIME.total_seconds() // 60))
    db.session.flush()
    return message.id


def resend(token: str, key: str) -> PublicLinkSubmission:
    """Another code for the same submission (the signing's limits: 1 a minute, 5 an hour)."""
    link = open_link(token)
    submission = _submission(link, key, lock=True)
    if submission.confirmed_at is not None:
        unit.rollback()
        raise VisitorRefused({"code": _("Your address is already confirmed.")}, 409)
    wait = resend_wait_seconds(submission)
    if wait:
        unit.rollback()
        raise VisitorRefused({"code": wait_message(wait)}, 429)
    message_id = _new_code(submission, link)
    unit.commit()
    dispatch([message_id])
    return submission


def _check_code(submission: PublicLinkSubmission, typed: str) -> int:
    """The attempt's number when the code is right; else VisitorRefused (attempt counted)."""
    typed = "".join(str(typed or "").split())
    if len(typed) != codes.CODE_DIGITS or not typed.isdigit():
        raise VisitorRefused({"code": _("Enter the 6 digits from the message.")})
    if submission.code_hash is None or (submission.code_attempts or 0) >= codes.MAX_ATTEMPTS:
        raise VisitorRefused({"code": _("Too many wrong codes. Ask for a new code.")})
    if submission.code_expires_at <= utcnow():
        raise VisitorRefused({"code": _("This code has expired. Ask for a new code.")})
    used = (submission.code_attempts or 0) + 1
    submission.code_attempts = used  # under the row lock: parallel guesses take turns
    if hmac.compare_digest(submission.code_hash, _code_hash(submission.id, typed)):
        return used
    left = codes.MAX_ATTEMPTS - used
    unit.commit()
    if left == 0:
        raise VisitorRefused({"code": _("Wrong code, and that was the last attempt. Ask for "
                                        "a new code.")})
    raise VisitorRefused({"code": _("Wrong code. %(count)d attempts left.", count=left)})


def confirm(token: str, key: str, typed: str, meta) -> Entered:
    """Check the code; then make and send the visitor's document and open their ceremony."""
    link = open_link(token)
    submission = _submission(link, key, lock=True)
    if submission.document_id is not None:
        unit.rollback()
        raise VisitorRefused({"code": _("Your document was already made: open it from the "
                                        "message we sent you.")}, 409)
    if submission.confirmed_at is None:  # else: confirmed, but the document failed before
        try:
            _check_code(submission, typed)
        except VisitorRefused:
            unit.rollback()
            raise
        submission.confirmed_at = utcnow()
        submission.code_hash = None
    unit.commit()
    _take_use(link.id)
    try:
        document = _make_document(link, submission)
    except Exception:
        _give_back_use(link.id)
        raise
    _send(link, document.id)
    return _enter(document.id, submission, meta)


# --- one use, atomically ----------------------------------------------------------------------

def _take_use(link_id: int) -> None:
    """Count a use if the link is still open: one conditional update, so of two visitors on
    the last use exactly one gets it (the other is told the link is used up)."""
    now = utcnow()
    taken = db.session.execute(
        update(LINKS).where(
            LINKS.c.id == link_id, LINKS.c.active.is_(True),
            (LINKS.c.expires_at.is_(None)) | (LINKS.c.expires_at > now),
            (LINKS.c.max_uses.is_(None)) | (LINKS.c.uses < LINKS.c.max_uses))
        .values(uses=LINKS.c.uses + 1, updated_at=now)).rowcount
    if taken != 1:
        unit.rollback()
        link = db.session.get(PublicLink, link_id)
        raise LinkUnavailable(state_of(link) if link is not None else "invalid")
    unit.commit()


def _give_back_use(link_id: int) -> None:
    unit.rollback()
    db.session.execute(update(LINKS).where(LINKS.c.id == link_id, LINKS.c.uses > 0)
                       .values(uses=LINKS.c.uses - 1))
    unit.commit()


# --- the document ----------------------------------------------------------------------------

def _make_document(link: PublicLink, submission: PublicLinkSubmission) -> Document:
    """The template made for the visitor and sent in the name of the link's creator."""
    creator = db.session.get(User, link.created_by_id)
    submission_id, link_id = submission.id, link.id
    presign = valid_presign(link)
    if link.presigned and presign is None:  # revoked since the visitor opened the link
        raise LinkUnavailable("unsigned")
    presign_id = presign.id if presign is not None else None

    speaks = str(get_locale() or "")

    def client_first(document: Document) -> None:
        for party in document.parties:
            if party.role == "client":
                party.order = CLIENT_FIRST
                party.channel = link.channel  # the address the visitor just confirmed
                # The page's language: the ceremony and the messages speak it too.
                party.language = speaks if speaks in LANGUAGES else None
                # A company's stamp only where the template places one: nobody could add the
                # field to a document that is sent at once.
                party.stamp_required = party.stamp_required and any(
                    field.party_id == party.id and field.type == "stamp"
                    for field in document.fields)
        if presign_id is not None:
            presigning.apply_to(document, link_id, presign_id)
        db.session.execute(update(SUBMISSIONS).where(SUBMISSIONS.c.id == submission_id)
                           .values(document_id=document.id))

    # In the template's language: its text is written in one.
    return create_from_template(
        creator, None, company_id=link.company_id, template_id=link.template_id,
        client=submission.details, title=link.title, before_commit=client_first,
        origin={"public_link_id": link_id}, **_document_arguments(link))


def _document_arguments(link: PublicLink) -> dict:
    """The link's document values as create_from_template takes them (a link published before
    it had any makes the documents it always made)."""
    values = link.document_values or {}
    arguments = {"place": values.get("place", ""), "items": values.get("items") or ()}
    for key in ("vat_rate", "currency"):
        if key in values:
            arguments[key] = values[key]
    return arguments


def _send(link: PublicLink, document_id: int) -> None:
    """Out for signing at once; a document the checks keep back stays a draft for its
    responsible (the visitor is told the sender will finish it)."""
    try:
        send_document(db.session.get(User, link.created_by_id), None, document_id)
    except SendRefused:
        raise VisitorRefused({"code": _("Your details are confirmed, but the sender must "
                                        "finish this document first. They will send it to "
                                        "you.")}, 409) from None


def _enter(document_id: int, submission: PublicLinkSubmission, meta) -> Entered:
    """The client party confirmed its contact just now: its ceremony opens without a new code.

    Its link was issued by the invitation (the message also lets the visitor come back)."""
    party = db.session.scalar(
        select(Party).where(Party.document_id == document_id, Party.role == "client")
        .with_for_update())
    raw = current_link_token(party)
    now = utcnow()
    party.code_confirmed_at = now
    opened = sessions.open_for(party)
    audit(PARTY_CODE_CONFIRMED, party.document, party, meta, attempt=submission.code_attempts,
          session=opened.tag, public_link_id=submission.link_id, channel=submission.channel,
          contact=mask_contact(submission.contact),
          code_sent_at=submission.code_sent_at.isoformat() if submission.code_sent_at else None,
          confirmed_at=submission.confirmed_at.isoformat())
    unit.commit()
    return Entered(document_id, raw, opened)
