"""Helpers shared by the document services: loading with a lock, deadlines, small cleaners."""

import secrets
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal import unit
from portal.config import LANGUAGES
from portal.documents.errors import DocumentLocked, DocumentRefused
from portal.documents.models import Document
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import as_utc, utcnow
from portal.workflow.lock import lock_current

MIN_DEADLINE = timedelta(minutes=5)
TITLE_MAX = 300
# No 0/O, 1/I/L: people read the code off paper and type it in.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MONEY_LIMIT = Decimal("1000000000000")
# The currency a new document starts with, by its template's language (one rule for the
# new-document form and bulk send); the user may type another.
CURRENCY_BY_LANGUAGE = {"ru": "RUB", "pt": "EUR", "en": "GBP"}
FALLBACK_CURRENCY = "RUB"


def default_currency(language: str | None) -> str:
    return CURRENCY_BY_LANGUAGE.get(language or "", FALLBACK_CURRENCY)


def not_found() -> DomainError:
    return DomainError(_("There is no such document."), 404)


def load(document_id: int, lock: bool = False) -> Document:
    """The document, fresh from the database (row-locked until commit when `lock`)."""
    if lock:
        document = lock_current(document_id)
    else:
        document = db.session.execute(
            select(Document).where(Document.id == document_id)).scalar_one_or_none()
    if document is None:
        raise not_found()
    return document


def editable_draft(document_id: int) -> Document:
    """The draft, locked against a concurrent send; a sent document refuses any edit."""
    document = load(document_id, lock=True)
    if not document.is_draft:
        unit.rollback()
        raise DocumentLocked()
    return document


def tidy(value, max_length: int | None = None, field: str = "", errors: dict | None = None) -> str:
    """One line, spaces collapsed; too long adds an error under `field`."""
    text = " ".join(str(value or "").split())
    if max_length is not None and len(text) > max_length and errors is not None:
        errors[field] = _("Too long: at most %(max)d characters, this has %(length)d.",
                          max=max_length, length=len(text))
    return text


def clean_title(value, errors: dict, field: str = "title") -> str:
    title = tidy(value, TITLE_MAX, field, errors)
    if not title and field not in errors:
        errors[field] = _("Give the document a title.")
    return title


def clean_language(value, errors: dict, default: str = "en") -> str:
    language = (value or default or "en").strip().lower()
    if language not in LANGUAGES:
        errors["language"] = _("Choose one of the offered languages.")
    return language


def default_deadline() -> datetime:
    return utcnow() + timedelta(days=current_app.config.get("SIGNET_DEADLINE_DAYS", 30))


def check_deadline(deadline) -> datetime:
    """The deadline as an aware UTC datetime, at least five minutes from now."""
    if not isinstance(deadline, datetime):
        raise DocumentRefused({"deadline": _("Enter a date and time for the deadline.")})
    deadline = as_utc(deadline)
    if deadline < utcnow() + MIN_DEADLINE:
        raise DocumentRefused({"deadline": _(
            "The deadline must be at least 5 minutes from now."
        )})
    return deadline


def new_verification_code() -> str:
    """Twelve characters (~59 bits) in groups of four: short to type, impossible to guess."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _index in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def clean_decimal(value, key: str, errors: dict, minimum=Decimal(0)) -> Decimal:
    """A money or quantity figure ("1500.00", "1 500,00"); a message under `key` if not."""
    try:
        number = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        errors[key] = _("Enter a number, e.g. 1500.00.")
        return Decimal(0)
    if number < minimum or number >= MONEY_LIMIT:
        errors[key] = _("Enter a number from %(low)s up.", low=minimum)
    return number
