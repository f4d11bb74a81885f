"""The signing ceremony: open, agree, one-time code, fill, sign or decline.

Each service takes the link's raw token and a RequestMeta, re-checks the party's state under a
row lock (the page is never trusted), records the audit event and commits. Views stay thin.
Steps past the code also take the browser's signing session (`ceremony.read` of its cookie):
filling, signing and declining happen only in the browser that confirmed the code.
"""

import math

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, update

from portal import unit
from portal.audit.catalogue import (
    FIELD_FILLED,
    PARTY_CODE_CONFIRMED,
    PARTY_CODE_FAILED,
    PARTY_CODE_SENT,
    PARTY_CONSENT,
    PARTY_DECLINED,
    PARTY_OPENED,
    PARTY_SIGNED,
    EventType,
)
from portal.audit.service import record
from portal.config import LANGUAGES
from portal.delivery.services import dispatch, queue_email, queue_sms
from portal.documents.models import OPEN_STAGES, Field, Party
from portal.extensions import db
from portal.models_base import as_utc, utcnow
from portal.signing import ceremony as sessions
from portal.signing import codes
from portal.signing.access import (
    SigningClosed,
    StepRefused,
    lock_party,
    read_page_party,
    require_active,
    state_of,
)
from portal.signing.agreement import agreement_sha256
from portal.signing.ceremony import Ceremony
from portal.signing.filling import (
    AUTO_TYPES,
    FieldInput,
    apply_input,
    auto_value,
    fields_of,
    missing_required,
)
from portal.signing.page_data import PartyRecord
from portal.workflow import order as workflow

DECLINE_REASON_MAX = 1000
PARTIES = Party.__table__


class AlreadySigned(SigningClosed):
    def __init__(self):
        super().__init__("signed")


def _event(event_type: EventType, party: Party, meta, **details) -> None:
    party.document.updated_at = utcnow()
    record(event_type, party.document_id, party, meta, **details)


def require_consent(party: Party) -> None:
    """A party's (or a batch ceremony's) consent first, else a refusal."""
    if party.consent_at is None:
        unit.rollback()
        raise StepRefused(_("First read the document and accept the agreement."))


def require_session(party: Party, ceremony: Ceremony | None) -> Ceremony:
    """The browser's signing session, or a refusal asking for a (new) code (a party's, or a
    batch ceremony's: portal/signing/bundles.py)."""
    require_consent(party)
    if sessions.holds(party, ceremony):
        return ceremony
    unit.rollback()
    if party.code_confirmed_at is None:
        raise StepRefused(_("First confirm the code we sent you."))
    raise StepRefused(_("Your signing session in this browser has ended, or the code was "
                        "confirmed in another browser. Ask for a new code to go on here."))


# --- open -----------------------------------------------------------------------------------

def open_link(token: str, meta) -> tuple[PartyRecord, str]:
    """The party (as the page reads it) and its state; the first open of an active link is
    recorded."""
    party = read_page_party(token)
    state = state_of(party)
    if state != "active" or party.opened_at is not None:
        return party, state
    _record_first_open(party.id, meta)
    return read_page_party(token, fresh=True), state


def _record_first_open(party_id: int, meta) -> None:
    unit.commit()  # a fresh transaction that writes first (see access.lock_party)
    now = utcnow()
    result = db.session.execute(
        update(PARTIES).where(PARTIES.c.id == party_id, PARTIES.c.opened_at.is_(None))
        .values(opened_at=now, updated_at=now,
                status=case((PARTIES.c.status == "sent", "opened"), else_=PARTIES.c.status))
    )
    if result.rowcount == 1:  # of two first opens at once, one is recorded
        _event(PARTY_OPENED, db.session.get(Party, party_id), meta)
    unit.commit()


def choose_language(token: str, language: str) -> Party:
    """Remember the language the signer picked; later messages to them use it too."""
    if language not in LANGUAGES:
        raise StepRefused(_("This language is not available."), 400)
    party = lock_party(token)
    if party.language != language:
        party.language = language
        party.updated_at = utcnow()
    unit.commit()
    return party


# --- agreement and code ---------------------------------------------------------------------

def accept_agreement(token: str, meta, ceremony: Ceremony | None = None) -> Party:
    """Record the consent to sign electronically, then send the first code."""
    party = lock_party(token)
    require_active(party)
    record_consent(party, meta)
    unit.commit()
    if not sessions.holds(party, ceremony) and party.code_hash is None:
        return send_code(token, meta, ceremony)
    return party


def record_consent(party: Party, meta, occurred_at=None) -> None:
    """The locked party's consent to sign electronically, recorded once (no commit).

    `occurred_at`: when it was given, if before now (a batch ceremony's one consent): the
    party and the event carry that moment."""
    if party.consent_at is None:
        party.consent_at = occurred_at or utcnow()
        real = {"occurred_at": occurred_at.isoformat()} if occurred_at else {}
        _event(PARTY_CONSENT, party, meta, agreement_sha256=agreement_sha256(party),
               language=party.speaks, **real)


def resend_wait_seconds(party: Party, now=None) -> int:
    """Seconds until this party may ask for another code (0: now)."""
    now = now or utcnow()
    waits = [0.0]
    last = party.code_sent_at
    if last is not None:
        waits.append((last + codes.RESEND_INTERVAL - now).total_seconds())
    recent = codes.sends_since(party, now - codes.HOUR)
    if len(recent) >= codes.SENDS_PER_HOUR:
        oldest = as_utc(recent[-codes.SENDS_PER_HOUR])
        waits.append((oldest + codes.HOUR - now).total_seconds())
    return max(0, math.ceil(max(waits)))


def wait_message(seconds: int) -> str:
    if seconds <= 90:
        return _("Wait %(seconds)d seconds before asking for a new code.", seconds=seconds)
    return _("You asked for several codes within an hour. Wait %(minutes)d minutes before "
             "asking for a new one.", minutes=math.ceil(seconds / 60))


def _queue_code(party: Party, code: str):
    # The code is a secret of the message: the outbox keeps only a masked copy of it.
    if party.channel == "sms":
        return queue_sms(party.phone, _("Signet code: %(code)s. Do not share it.", code=code),
                         kind="signing_code", secrets=[code], document_id=party.document_id)
    return queue_email(party.email, _("Your signing code: %(code)s", code=code),
                       "signing_code", kind="signing_code", secrets=[code], code=code,
                       document_id=party.document_id,
                       name=party.name,
                       title=party.document.title, number=party.document.number,
                       minutes=int(codes.CODE_LIFETIME.total_seconds() // 60))


def send_code(token: str, meta, ceremony: Ceremony | None = None) -> Party:
    """Send a new one-time code over the party's channel (at most 1 a minute, 5 an hour).

    Also after a confirmation elsewhere: this browser then needs its own session.
    """
    party = lock_party(token)
    require_active(party)
    require_consent(party)
    if sessions.holds(party, ceremony):
        unit.rollback()
        return party
    now = utcnow()
    wait = resend_wait_seconds(party, now)
    if wait:
        unit.rollback()
        raise StepRefused(wait_message(wait), 429)
    code = codes.new_code()
    party.code_hash = codes.code_hash(party.id, code)
    party.code_expires_at = now + codes.CODE_LIFETIME
    party.code_attempts = 0
    codes.record_send(party, now)
    with force_locale(party.speaks):
        message = _queue_code(party, code)
    db.session.flush()
    _event(PARTY_CODE_SENT, party, meta, channel=party.channel, message_id=message.id)
    unit.commit()
    dispatch([message.id])
    db.session.refresh(party)
    return party


def code_refusal(holder, typed: str) -> str | None:
    """Why the typed code cannot be checked now (a party's or a batch ceremony's), or None."""
    if len(typed) != codes.CODE_DIGITS or not typed.isdigit():
        return _("Enter the 6 digits from the message.")
    if holder.code_hash is None:
        return _("Ask for a code first.")
    if (holder.code_attempts or 0) >= codes.MAX_ATTEMPTS:
        return _("Too many wrong codes. Ask for a new code.")
    if holder.code_expires_at <= utcnow():
        return _("This code has expired. Ask for a new code.")
    return None


def wrong_code_message(left: int) -> str:
    if left == 0:
        return _("Wrong code, and that was the last attempt. Ask for a new code.")
    return _("Wrong code. %(count)d attempts left.", count=left)


def _reserve_attempt(party: Party) -> int | None:
    """Count an attempt atomically (parallel guesses cannot exceed the limit): attempts used."""
    result = db.session.execute(
        update(PARTIES).where(PARTIES.c.id == party.id,
                              PARTIES.c.code_hash == party.code_hash,
                              PARTIES.c.code_attempts < codes.MAX_ATTEMPTS)
        .values(code_attempts=PARTIES.c.code_attempts + 1)
    )
    if result.rowcount != 1:
        return None
    return (party.code_attempts or 0) + 1


def verify_code(token: str, meta, code: str,
                ceremony: Ceremony | None = None) -> tuple[Party, Ceremony]:
    """Check the typed code: confirm it and open this browser's signing session, or count a
    failed attempt (5 per code). A browser already in its session keeps it."""
    party = lock_party(token)
    require_active(party)
    require_consent(party)
    if sessions.holds(party, ceremony):
        unit.rollback()
        return party, ceremony
    typed = "".join(str(code or "").split())
    refusal = code_refusal(party, typed)
    if refusal:
        unit.rollback()
        raise StepRefused(refusal)
    used = _reserve_attempt(party)
    if used is None:
        unit.rollback()
        raise StepRefused(_("Too many wrong codes. Ask for a new code."))
    if codes.code_matches(party, typed):
        party.code_confirmed_at = utcnow()
        party.code_hash = None
        party.code_expires_at = None
        opened = sessions.open_for(party)
        _event(PARTY_CODE_CONFIRMED, party, meta, attempt=used, session=opened.tag)
        unit.commit()
        return party, opened
    left = codes.MAX_ATTEMPTS - used
    _event(PARTY_CODE_FAILED, party, meta, attempts_left=left)
    unit.commit()
    raise StepRefused(wrong_code_message(left))


# --- fields ---------------------------------------------------------------------------------

def own_field(party: Party, field_id: int) -> Field:
    """One of the party's own fields, or a 404."""
    field = next((field for field in fields_of(party) if field.id == field_id), None)
    if field is None:
        unit.rollback()
        raise StepRefused(_("This field is not yours to fill."), 404)
    return field


def fill_field(token: str, meta, field_id: int, data: FieldInput,
               ceremony: Ceremony | None = None) -> tuple[Party, Field]:
    """Save one field's value (text, number, tick, drawn/typed/uploaded image or stamp)."""
    party = lock_party(token)
    require_active(party)
    current = require_session(party, ceremony)
    field = own_field(party, field_id)
    try:
        method = apply_input(field, party, data, utcnow())
    except StepRefused:
        unit.rollback()
        raise
    record_filled(party, field, meta, current.tag, method)
    unit.commit()
    return party, field


def record_filled(party: Party, field: Field, meta, session_tag: str, method: str) -> None:
    """The audit event of a field just filled in (no commit)."""
    details = {"field_id": field.id, "field_type": field.type, "session": session_tag}
    if method:
        details["method"] = method
    _event(FIELD_FILLED, party, meta, **details)


# --- sign and decline -----------------------------------------------------------------------

def sign(token: str, meta, ceremony: Ceremony | None = None) -> Party:
    """Sign: every required field filled, then status signed (exactly once), then advance."""
    party = lock_party(token)
    if party.status == "signed":
        unit.rollback()
        raise AlreadySigned()
    require_active(party)
    current = require_session(party, ceremony)
    missing = missing_required(party)
    if missing:
        unit.rollback()
        raise StepRefused(_("Fill in every required field first: %(count)d left.",
                            count=len(missing)))
    return sign_locked(party, meta, current.tag)


def sign_locked(party: Party, meta, session_tag: str) -> Party:
    """Sign the locked, active party whose required fields are filled, then advance; commits.

    The one signing path: the party's own ceremony and a batch ceremony both end here.
    """
    now = utcnow()
    for field in fields_of(party):
        if field.type in AUTO_TYPES:
            field.value = auto_value(field, party, now)
            field.filled_at = now
    # Conditional: of a double click or two tabs exactly one request signs.
    result = db.session.execute(
        update(PARTIES).where(PARTIES.c.id == party.id,
                              PARTIES.c.status.notin_(("signed", "declined")))
        .values(status="signed", signed_at=now, updated_at=now, ip=meta.ip[:64],
                user_agent=meta.user_agent[:400])
    )
    if result.rowcount != 1:
        unit.rollback()
        raise AlreadySigned()
    _event(PARTY_SIGNED, party, meta, fields=len(fields_of(party)), session=session_tag)
    workflow.take_turn(party.document)  # the next group's invitations commit with the signature
    unit.commit()
    db.session.refresh(party)
    return party


def clean_reason(reason) -> str:
    text = "\n".join(line.strip() for line in str(reason or "").strip().splitlines()).strip()
    if not text:
        raise StepRefused(_("Say why you decline: the sender will read it."))
    if len(text) > DECLINE_REASON_MAX:
        raise StepRefused(_("Too long: at most %(max)d characters, this has %(length)d.",
                            max=DECLINE_REASON_MAX, length=len(text)))
    return text


def decline(token: str, meta, reason, ceremony: Ceremony | None = None) -> Party:
    """Decline with a reason: the party and the document end as declined; the sender is told.

    Like signing, it needs the session a confirmed code opened: a forwarded link must not be
    able to close the document for everyone.
    """
    text = clean_reason(reason)
    party = lock_party(token)
    require_active(party)
    current = require_session(party, ceremony)
    now = utcnow()
    changed = db.session.execute(
        update(PARTIES).where(PARTIES.c.id == party.id,
                              PARTIES.c.status.notin_(("signed", "declined")))
        .values(status="declined", declined_at=now, decline_reason=text, updated_at=now,
                ip=meta.ip[:64], user_agent=meta.user_agent[:400])
    ).rowcount
    db.session.refresh(party)
    if not (changed and party.document.stage in OPEN_STAGES):
        unit.rollback()
        db.session.refresh(party)
        raise SigningClosed(state_of(party))
    _event(PARTY_DECLINED, party, meta, reason=text, session=current.tag)
    workflow.decline(party.document, party)  # the notices commit with the decline
    unit.commit()
    db.session.refresh(party)
    return party
