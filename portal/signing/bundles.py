"""The batch ceremony: our company's signer signs a bulk batch's documents at once.

When a bulk batch's document reaches our company's signer, that party is not invited on its
own: it joins the batch's open bundle (`take_invitation`, registered with the invitations).
The bundle's one invitation goes out when the batch's run has finished (`invite_batch`, called
by the bulk run), or at once when the batch is already finished; a document arriving later
joins the open bundle (the signer finds it on the same page). Every party still gets its own
link, so a document can be signed on its own too.

The ceremony (pages at /b/<token>): the list, the agreement accepted once, one code confirmed
once (the same limits as a party's, portal/signing/codes.py), then one signature (and stamp)
put into every chosen document. Each document is then signed in a transaction of its own,
under its own lock, through the individual signing's path (`services.sign_locked`), with its
trail recording its own consent, code and fields plus a note naming this ceremony: a document
stopped or signed meanwhile is skipped with its reason while the others are signed.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal import unit
from portal.audit.catalogue import (
    PARTY_CODE_CONFIRMED,
    PARTY_CODE_SENT,
    PARTY_INVITED_ALONE,
    PARTY_OPENED,
    PARTY_SIGNED_IN_BATCH,
)
from portal.audit.service import record
from portal.automation.conditions import document_amount
from portal.bulk.models import QUEUED_OR_RUNNING, BulkBatch, BulkRow
from portal.config import LANGUAGES
from portal.delivery.services import InvalidRecipient, dispatch, queue_email, queue_sms
from portal.documents.display import mask_contact
from portal.documents.links import current_link_token, issue_link, signing_link
from portal.documents.models import Document, Party
from portal.documents.trail import audit
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.pipeline.controls import reminder_allowed_at
from portal.secretbox import BATCH_LINK, seal
from portal.signing import ceremony as sessions
from portal.signing import codes, services
from portal.signing.access import (
    LinkInvalid,
    StepRefused,
    lock_party_by_id,
    state_of,
)
from portal.signing.ceremony import Ceremony
from portal.signing.filling import (
    AUTO_TYPES,
    FieldInput,
    StoredImage,
    company_stamp_of,
    fields_of,
    is_filled,
    put_image,
    stored_image,
)
from portal.signing.invitations import invite, mark_invited
from portal.signing.models import SigningBundle, SigningBundleParty
from portal.tokens import hash_token, new_token
from portal.unit import fresh_transaction

log = logging.getLogger(__name__)

COOKIE_NAME = "signet_batch_ceremony"
SALT = "batch-ceremony"
# The image fields one signature and one stamp fill; any other required field still empty
# needs the document's own ceremony.
BATCH_TYPES = ("signature", "stamp")
TOKEN_MAX_LENGTH = 200
BUNDLES = SigningBundle.__table__


class BundleClosed(DomainError):
    """The batch link cannot be used now; `state` says why ("expired", "used", "waiting")."""

    status = 410

    def __init__(self, state: str):
        super().__init__(_("This signing link can no longer be used."))
        self.state = state


def lifetime() -> timedelta:
    return timedelta(days=int(current_app.config.get("SIGNET_BUNDLE_DAYS", 30)))


# --- joining and inviting -------------------------------------------------------------------

def take_invitation(document: Document, party: Party) -> bool:
    """Put our company's signer of a bulk batch's document in the batch's bundle instead of
    inviting them on their own; False for any other party (invited as usual)."""
    if party.role != "company":
        return False
    found = db.session.execute(
        select(BulkBatch.id, BulkBatch.status).join(BulkRow, BulkRow.batch_id == BulkBatch.id)
        .where(BulkRow.document_id == document.id)).first()
    if found is None:
        return False
    batch_id, batch_status = found
    member = db.session.scalar(
        select(SigningBundleParty).where(SigningBundleParty.party_id == party.id))
    if member is not None:  # a later turn of the same party: already in
        return True
    bundle = _open_bundle(batch_id, party)
    db.session.add(SigningBundleParty(bundle=bundle, party_id=party.id))
    db.session.flush()
    if bundle.invited_at is not None:  # the signer has the link: the document is on its page
        issue_link(party)
        mark_invited(document, party, bundle.invitation_message_id or 0)
    elif batch_status not in QUEUED_OR_RUNNING:  # no run will finish later to invite it
        message_ids = _invite(bundle)
        unit.after_commit(lambda: dispatch(message_ids))
    return True


def _open_bundle(batch_id: int, party: Party) -> SigningBundle:
    """The batch's open bundle for this signer, row-locked (an invitation going out meanwhile
    is seen), or a new one. Two runs opening one at once: the unique index on open bundles
    refuses the second, which then joins the first's."""
    for _attempt in range(2):
        bundle = _open_bundle_of(batch_id, party)
        if bundle is not None and bundle_state(bundle) == "expired":
            bundle.closed_at = utcnow()  # its link is dead: later documents go to a new one
            db.session.flush()
            bundle = None
        if bundle is not None:
            return bundle
        try:
            with db.session.begin_nested():
                return _new_bundle(batch_id, party)
        except IntegrityError:
            log.info("Another run opened the bundle of batch %s first: joining it", batch_id)
    raise RuntimeError(f"No open bundle for batch {batch_id} after a conflict")


def _open_bundle_of(batch_id: int, party: Party) -> SigningBundle | None:
    return db.session.scalar(
        select(SigningBundle).where(
            SigningBundle.batch_id == batch_id, SigningBundle.channel == party.channel,
            SigningBundle.email == party.email, SigningBundle.phone == party.phone,
            SigningBundle.closed_at.is_(None))
        .with_for_update().execution_options(populate_existing=True))


def _new_bundle(batch_id: int, party: Party) -> SigningBundle:
    bundle = SigningBundle(batch_id=batch_id, name=party.name, email=party.email,
                           phone=party.phone, channel=party.channel, language=party.speaks,
                           code_attempts=0, codes_sent=0, fallback_reason="", reminders_sent=0)
    db.session.add(bundle)
    db.session.flush()
    return bundle


def invite_batch(batch_id: int) -> int:
    """The bulk run finished: invite every bundle of the batch not invited yet; the count of
    bundles handled (invited, or fallen back to inviting their documents one by one)."""
    bundles = db.session.scalars(select(SigningBundle).where(
        SigningBundle.batch_id == batch_id, SigningBundle.invited_at.is_(None),
        SigningBundle.closed_at.is_(None)).with_for_update()).all()
    handled = [bundle for bundle in bundles if bundle.members]
    message_ids = [message_id for bundle in handled for message_id in _invite(bundle)]
    unit.commit()
    dispatch(message_ids)
    return len(handled)


# Why a bundle's one invitation could not go (its documents were invited one by one).
FALLBACK_REASONS = {
    "contact": _l("the signer's address was refused"),
    "error": _l("the invitation could not be queued"),
}


def _invite(bundle: SigningBundle) -> list[int]:
    """One message with the bundle's link; each waiting party gets its own link too. When that
    message cannot be queued, each party is invited on its own instead (the usual way): the
    message ids to dispatch after commit."""
    raw, hashed = new_token()
    parties = [member.party for member in bundle.members]
    try:
        with db.session.begin_nested(), force_locale(bundle.speaks):
            message = _queue_invitation(bundle, parties, raw)
            db.session.flush()
    except InvalidRecipient as refused:
        return _invite_one_by_one(bundle, parties, "contact", refused.message)
    except Exception as error:  # a template or data fault: the documents must still go out
        log.exception("Queueing the invitation of bundle %s failed", bundle.id)
        return _invite_one_by_one(bundle, parties, "error", type(error).__name__)
    now = utcnow()
    bundle.token_hash, bundle.invited_at = hashed, now
    bundle.link_sealed = seal(raw, BATCH_LINK)
    bundle.expires_at = now + lifetime()
    bundle.invitation_message_id = message.id
    for party in parties:
        if party.status == "waiting" and party.token_hash is None:
            issue_link(party)
            mark_invited(party.document, party, message.id)
    return [message.id]


def _invite_one_by_one(bundle: SigningBundle, parties: list[Party], reason: str,
                       detail: str) -> list[int]:
    """The bundle closes and lets its documents go; each waiting party is invited through the
    usual path, its trail saying why (a refusal there too is logged as the usual path does)."""
    log.warning("Bundle %s of batch %s could not be invited (%s: %s): inviting its %s "
                "documents one by one", bundle.id, bundle.batch_id, reason, detail, len(parties))
    bundle.closed_at, bundle.fallback_reason = utcnow(), reason
    for member in list(bundle.members):
        db.session.delete(member)
    db.session.flush()
    message_ids = []
    for party in parties:
        if party.status != "waiting" or party.token_hash is not None:
            continue
        audit(PARTY_INVITED_ALONE, party.document, None, None, party_id=party.id,
              bundle_id=bundle.id, reason=reason, detail=detail[:300])
        try:
            with db.session.begin_nested():
                message_ids.append(invite(party.document, party))
        except Exception:
            log.exception("Inviting party %s of document %s failed", party.id,
                          party.document_id)
    return message_ids


def bundle_link(raw_token: str) -> str:
    return f"{current_app.config['SIGNET_BASE_URL']}/b/{raw_token}"


def _queue_invitation(bundle: SigningBundle, parties: list[Party], raw: str):
    link = bundle_link(raw)
    company = parties[0].document.company.display_name
    count = len(parties)
    if bundle.channel == "sms":
        text = ngettext("%(company)s asks you to sign %(num)d document at once: %(link)s",
                        "%(company)s asks you to sign %(num)d documents at once: %(link)s",
                        count, company=company, link=link)
        return queue_sms(bundle.phone, text, "batch-signing-invitation", secrets=[raw])
    subject = ngettext("Please sign %(num)d document", "Please sign %(num)d documents", count)
    return queue_email(
        bundle.email, subject, "batch_invitation", "batch-signing-invitation", secrets=[raw],
        name=bundle.name, company=company, count=count,
        documents=[party.document for party in parties[:10]], more=max(0, count - 10),
        action_url=link, action_label=_("Review and sign"))


# --- the ceremony's steps -------------------------------------------------------------------

def find_bundle(token: str) -> SigningBundle:
    """The bundle whose link carries `token`, or LinkInvalid."""
    token = str(token or "")
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LinkInvalid()
    bundle = db.session.scalar(
        select(SigningBundle).where(SigningBundle.token_hash == hash_token(token)))
    if bundle is None:
        raise LinkInvalid()
    return bundle


def bundle_state(bundle: SigningBundle) -> str:
    """"active", "expired" or "used" (nothing left to sign in it)."""
    if bundle.used_at is not None:
        return "used"
    if bundle.expires_at is not None and bundle.expires_at <= utcnow():
        return "expired"
    return "active"


def _lock(token: str) -> SigningBundle:
    """The bundle, fresh and row-locked, still usable; one step of one tab at a time."""
    fresh_transaction()
    hashed = hash_token(str(token or "")[:TOKEN_MAX_LENGTH])
    # A write first: on SQLite it takes the write lock with the newest snapshot.
    db.session.execute(update(BUNDLES).where(BUNDLES.c.token_hash == hashed)
                       .values(code_attempts=BUNDLES.c.code_attempts))
    bundle = db.session.execute(
        select(SigningBundle).where(SigningBundle.token_hash == hashed).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if bundle is None:
        unit.rollback()
        raise LinkInvalid()
    state = bundle_state(bundle)
    if state != "active":
        unit.rollback()
        raise BundleClosed(state)
    return bundle


def choose_language(token: str, language: str) -> SigningBundle:
    if language not in LANGUAGES:
        raise StepRefused(_("This language is not available."), 400)
    bundle = _lock(token)
    bundle.language = language
    unit.commit()
    return bundle


def accept_agreement(token: str, meta, ceremony: Ceremony | None = None) -> SigningBundle:
    """Accept the agreement once for the whole batch; the first code goes out at once."""
    bundle = _lock(token)
    if bundle.consent_at is None:
        bundle.consent_at = utcnow()
    unit.commit()
    if not sessions.holds(bundle, ceremony) and bundle.code_hash is None:
        return send_code(token, meta, ceremony)
    return bundle


def send_code(token: str, meta, ceremony: Ceremony | None = None) -> SigningBundle:
    """A new one-time code to the signer (the limits of a party's codes)."""
    bundle = _lock(token)
    services.require_consent(bundle)
    if sessions.holds(bundle, ceremony):
        unit.rollback()
        return bundle
    now = utcnow()
    wait = services.resend_wait_seconds(bundle, now)
    if wait:
        unit.rollback()
        raise StepRefused(services.wait_message(wait), 429)
    code = codes.new_code()
    bundle.code_hash = codes.code_hash(codes.holder_key(bundle), code)
    bundle.code_expires_at = now + codes.CODE_LIFETIME
    bundle.code_attempts = 0
    codes.record_send(bundle, now)
    with force_locale(bundle.speaks):
        message = _queue_code(bundle, code)
    db.session.flush()
    bundle.code_message_id = message.id
    unit.commit()
    dispatch([message.id])
    db.session.refresh(bundle)
    return bundle


def _queue_code(bundle: SigningBundle, code: str):
    if bundle.channel == "sms":
        return queue_sms(bundle.phone, _("Signet code: %(code)s. Do not share it.", code=code),
                         kind="signing_code", secrets=[code])
    count = len(bundle.members)
    return queue_email(bundle.email, _("Your signing code: %(code)s", code=code),
                       "signing_code", kind="signing_code", secrets=[code], code=code,
                       name=bundle.name, number="",
                       title=ngettext("%(num)d document", "%(num)d documents", count),
                       minutes=int(codes.CODE_LIFETIME.total_seconds() // 60))


def verify_code(token: str, meta, code: str,
                ceremony: Ceremony | None = None) -> tuple[SigningBundle, Ceremony]:
    """Check the typed code (5 attempts a code): on success this browser's session opens."""
    bundle = _lock(token)
    services.require_consent(bundle)
    if sessions.holds(bundle, ceremony):
        unit.rollback()
        return bundle, ceremony
    typed = "".join(str(code or "").split())
    refusal = services.code_refusal(bundle, typed)
    if refusal:
        unit.rollback()
        raise StepRefused(refusal)
    bundle.code_attempts = (bundle.code_attempts or 0) + 1  # under the bundle's row lock
    if codes.code_matches(bundle, typed):
        bundle.code_confirmed_at = utcnow()
        bundle.code_hash = None
        bundle.code_expires_at = None
        opened = sessions.open_for(bundle)
        unit.commit()
        return bundle, opened
    left = codes.MAX_ATTEMPTS - bundle.code_attempts
    unit.commit()
    raise StepRefused(services.wrong_code_message(left))


# --- what each document needs ---------------------------------------------------------------

def batch_needs(party: Party) -> set[str] | None:
    """The field types the batch's signature and stamp must fill on this party's document;
    None when a required field of another kind is still empty (it is signed on its own)."""
    needs = set()
    for own in fields_of(party):
        if not own.required or own.type in AUTO_TYPES or is_filled(own):
            continue
        if own.type not in BATCH_TYPES:
            return None
        needs.add(own.type)
    return needs


@dataclass
class Item:
    """One document of the bundle as the page lists it."""

    party: Party
    state: str  # portal/signing/access.STATES
    needs: set[str] | None
    amount: object = None
    own_link: str | None = None

    @property
    def document(self) -> Document:
        return self.party.document

    @property
    def amount_text(self) -> str:
        if self.amount is None:
            return ""
        currency = (self.document.variables or {}).get("currency") or ""
        return f"{format_decimal(self.amount, format='#,##0.00')} {currency}".strip()

    @property
    def signable(self) -> bool:
        return self.state == "active" and self.needs is not None


def items_of(bundle: SigningBundle) -> list[Item]:
    items = []
    for member in bundle.members:
        party = member.party
        state = state_of(party)
        needs = batch_needs(party) if state == "active" else set()
        own = current_link_token(party) if state == "active" and needs is None else None
        items.append(Item(party, state, needs, document_amount(party.document),
                          signing_link(own) if own else None))
    return items


def step_of(bundle: SigningBundle, in_ceremony: bool) -> str:
    if bundle.consent_at is None:
        return "agree"
    return "sign" if in_ceremony else "code"


# --- signing --------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What the sign step did: the documents signed, and those skipped with the reason."""

    signed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


SKIP_REASONS = {
    "signed": lambda: _("already signed"),
    "declined": lambda: _("declined"),
    "completed": lambda: _("already signed by everyone"),
    "stopped": lambda: _("stopped by the sender"),
    "expired": lambda: _("past its deadline"),
    "waiting": lambda: _("not yet your turn"),
}


def sign(token: str, meta, ceremony: Ceremony | None, party_ids, signature: FieldInput,
         stamp: FieldInput) -> Outcome:
    """Sign every chosen document with one signature (and stamp), each on its own.

    Nothing is signed when the images are refused; a document that cannot be signed now is
    skipped with its reason and the others are signed.
    """
    bundle = _lock(token)
    current = services.require_session(bundle, ceremony)
    chosen = _chosen(bundle, party_ids)
    images = _images(chosen, signature, stamp)
    bundle_id, batch_id, count = bundle.id, bundle.batch_id, len(bundle.members)
    note = {"bundle_id": bundle_id, "batch_id": batch_id, "documents": count,
            "consent_at": bundle.consent_at.isoformat(),
            "code_confirmed_at": bundle.code_confirmed_at.isoformat()}
    moments = {"consent": bundle.consent_at, "confirmed": bundle.code_confirmed_at,
               "code_sent": bundle.code_sent_at}
    details = {"message_id": bundle.code_message_id or 0, "channel": bundle.channel}
    unit.commit()  # the stored images; each document is signed in its own transaction
    outcome = Outcome()
    for party_id in chosen:
        _sign_one(party_id, meta, current.tag, images, note, details, moments, outcome)
    _close_if_done(bundle_id)
    return outcome


def _chosen(bundle: SigningBundle, party_ids) -> list[int]:
    members = [member.party_id for member in bundle.members]
    wanted = set()
    for value in party_ids or ():
        try:
            wanted.add(int(value))
        except (TypeError, ValueError):
            continue
    chosen = [party_id for party_id in members if party_id in wanted]
    if not chosen:
        unit.rollback()
        raise StepRefused(_("Choose at least one document to sign."))
    return chosen


def _images(chosen: list[int], signature: FieldInput, stamp: FieldInput) -> dict:
    """The signature and stamp, cleaned and stored once, for the types the documents need."""
    needed, stamp_owner = set(), None
    for party_id in chosen:
        party = db.session.get(Party, party_id)
        needs = batch_needs(party) if state_of(party) == "active" else None
        needed |= needs or set()
        if needs and "stamp" in needs:
            stamp_owner = party
    images = {}
    try:
        if "signature" in needed:
            images["signature"] = stored_image("signature", signature, None)
        if "stamp" in needed:
            images["stamp"] = stored_image("stamp", stamp, stamp_owner)
    except StepRefused:
        unit.rollback()
        raise
    return images


def offers_company_stamp(bundle: SigningBundle) -> bool:
    return any(company_stamp_of(member.party) for member in bundle.members[:1])


def _sign_one(party_id: int, meta, session_tag: str, images: dict[str, StoredImage],
              note: dict, details: dict, moments: dict, outcome: Outcome) -> None:
    party = lock_party_by_id(party_id)
    label = party.document.number if party is not None else str(party_id)
    state = state_of(party) if party is not None else "stopped"
    if state != "active":
        unit.rollback()
        outcome.skipped.append((label, SKIP_REASONS.get(state, SKIP_REASONS["stopped"])()))
        return
    needs = batch_needs(party)
    if needs is None or not needs <= set(images):
        unit.rollback()
        outcome.skipped.append((label, _("sign it on its own: it has other fields to fill")))
        return
    try:
        _record_ceremony(party, meta, session_tag, details, moments)
        now = utcnow()
        for own in fields_of(party):
            if own.type in needs and not is_filled(own):
                method = put_image(own, images[own.type], now)
                services.record_filled(party, own, meta, session_tag, method)
        record(PARTY_SIGNED_IN_BATCH, party.document_id, party, meta, **note)
        services.sign_locked(party, meta, session_tag)  # commits; the client is invited
    except DomainError as refused:
        unit.rollback()
        outcome.skipped.append((label, refused.message))
        return
    except Exception:  # logged; one document's trouble must not cost the others their signing
        unit.rollback()
        log.exception("Signing party %s in a batch ceremony failed", party_id)
        outcome.skipped.append((label, _("something went wrong; it was logged. Try it again "
                                         "in a moment.")))
        return
    outcome.signed.append(label)


def _record_ceremony(party: Party, meta, session_tag: str, details: dict,
                     moments: dict) -> None:
    """The document's own trail of the ceremony: opened, agreed, code sent and confirmed.

    Written now, each document as it is signed, but the consent and the code happened once,
    earlier: the party's columns take those moments and each event carries its own
    (`occurred_at`), so the certificate shows when they happened. The events themselves keep
    the time they were written, in order, as the hash chain requires."""
    now = utcnow()
    if party.opened_at is None:
        party.opened_at = now
        record(PARTY_OPENED, party.document_id, party, meta)
    services.record_consent(party, meta, occurred_at=moments["consent"])
    sent_at = moments["code_sent"]
    record(PARTY_CODE_SENT, party.document_id, party, meta, **details,
           **({"occurred_at": sent_at.isoformat()} if sent_at else {}))
    party.code_confirmed_at = moments["confirmed"]
    record(PARTY_CODE_CONFIRMED, party.document_id, party, meta, attempt=1,
           session=session_tag, occurred_at=moments["confirmed"].isoformat())


def _close_if_done(bundle_id: int) -> None:
    """No document left to sign in the bundle: its link only says so from now on."""
    bundle = db.session.get(SigningBundle, bundle_id)
    if all(state_of(member.party) != "active" for member in bundle.members):
        bundle.used_at = bundle.closed_at = utcnow()
    unit.commit()


# --- the batch's status, for the bulk batch page --------------------------------------------

def waiting_parties(bundle: SigningBundle, now=None) -> list[Party]:
    """The bundle's parties the signer may sign now."""
    return [member.party for member in bundle.members
            if state_of(member.party, now) == "active"]


def remindable(bundle: SigningBundle, now=None) -> bool:
    """Invited, its link still working and something in it waiting for the signer."""
    return (bundle.invited_at is not None and bundle.closed_at is None
            and bundle_state(bundle) == "active" and bool(waiting_parties(bundle, now)))


def batch_signing_status(batch_id: int) -> list[dict]:
    """Per company signer of the batch: name, masked contact, whether invited, documents
    signed and in all ("Director: invited, 30 of 50 signed"); the bundle "Remind now" would
    remind and when it is allowed again; why the documents were invited one by one, if so."""
    bundles = db.session.scalars(select(SigningBundle).where(
        SigningBundle.batch_id == batch_id).order_by(SigningBundle.id)).all()
    lines: dict[tuple, dict] = {}
    for bundle in bundles:
        key = (bundle.channel, bundle.email, bundle.phone)
        line = lines.setdefault(key, {"name": bundle.name, "contact": mask_contact(
            bundle.contact), "invited": False, "signed": 0, "total": 0, "remind": None,
            "remind_after": None, "fallback": ""})
        line["invited"] = line["invited"] or bundle.invited_at is not None
        signed = db.session.scalar(
            select(func.count(Party.id)).join(SigningBundleParty,
                                              SigningBundleParty.party_id == Party.id)
            .where(SigningBundleParty.bundle_id == bundle.id, Party.status == "signed"))
        line["signed"] += signed or 0
        line["total"] += len(bundle.members)
        if remindable(bundle):
            line["remind"] = bundle.id
            line["remind_after"] = reminder_allowed_at(bundle.last_reminded_at)
        # the newest bundle says how the signer was invited last
        line["fallback"] = str(FALLBACK_REASONS.get(bundle.fallback_reason,
                                                    FALLBACK_REASONS["error"])
                               ) if bundle.fallback_reason else ""
    return list(lines.values())
