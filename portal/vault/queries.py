"""Which signed documents a user may find in the vault, filtered and paged."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload

from portal.auth.permissions import can, visible
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.parties.models import Company, Counterparty

PER_PAGE = 25
TEXT_MAX = 100


@dataclass
class VaultFilter:
    """The vault's filter as it lives in the URL; `errors` says what was refused and why."""

    counterparty: str = ""
    number: str = ""
    company_id: int | None = None
    completed_from: date | None = None
    completed_to: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def args(self) -> dict[str, str]:
        """The filter as URL arguments (empty ones left out), for links and the pager."""
        values = {"counterparty": self.counterparty, "number": self.number,
                  "company": str(self.company_id or ""),
                  "from": self.completed_from.isoformat() if self.completed_from else "",
                  "to": self.completed_to.isoformat() if self.completed_to else ""}
        return {key: value for key, value in values.items() if value}


def parse_filter(args) -> VaultFilter:
    """The filter from request arguments; bad values are dropped with an error, never a 500."""
    errors: dict[str, str] = {}
    parsed = VaultFilter(counterparty=_text(args.get("counterparty")),
                         number=_text(args.get("number")), errors=errors)
    company = (args.get("company") or "").strip()
    if company:
        if company.isdigit() and len(company) < 10:
            parsed.company_id = int(company)
        else:
            errors["company"] = _("Choose a company from the list.")
    parsed.completed_from = _date(args.get("from"), "from", errors)
    parsed.completed_to = _date(args.get("to"), "to", errors)
    if parsed.completed_from and parsed.completed_to \
            and parsed.completed_from > parsed.completed_to:
        errors["to"] = _("The end of the period is before its start.")
        parsed.completed_to = None
    page = (args.get("page") or "").strip()
    parsed.page = int(page) if page.isdigit() and 0 < len(page) < 7 and int(page) > 0 else 1
    return parsed


def _text(value) -> str:
    return " ".join(str(value or "").split())[:TEXT_MAX]


def _date(value, key: str, errors: dict) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[key] = _("Enter a date as YYYY-MM-DD.")
        return None


def signed_documents(user):
    """Completed and sealed documents this user may see in the vault (a select)."""
    return select(Document).where(Document.stage == "completed",
                                  Document.final_sha256.is_not(None),
                                  visible(user, "vault", Document))


def vault_page(user, wanted: VaultFilter, per_page: int = PER_PAGE):
    """One page of the user's signed documents matching the filter, newest completion first."""
    query = _filtered(signed_documents(user), wanted).options(
        selectinload(Document.parties), selectinload(Document.counterparty),
        selectinload(Document.company))
    query = query.order_by(Document.completed_at.desc(), Document.id.desc())
    return db.paginate(query, page=wanted.page, per_page=per_page, error_out=False)


def _filtered(query, wanted: VaultFilter):
    if wanted.number:
        query = query.where(_contains(Document.number, wanted.number))
    if wanted.company_id:
        query = query.where(Document.company_id == wanted.company_id)
    if wanted.counterparty:
        query = query.where(_counterparty_matches(wanted.counterparty))
    if wanted.completed_from:
        query = query.where(Document.completed_at >= _start_of(wanted.completed_from))
    if wanted.completed_to and wanted.completed_to < date.max:
        query = query.where(Document.completed_at < _start_of(wanted.completed_to
                                                              + timedelta(days=1)))
    return query


def _contains(column, text: str):
    return func.lower(column).contains(text.lower(), autoescape=True)


def _counterparty_matches(text: str):
    """The linked counterparty's name, or a client party's name or organisation."""
    linked = exists().where(Counterparty.id == Document.counterparty_id,
                            _contains(Counterparty.name, text))
    client = exists().where(Party.document_id == Document.id, Party.role == "client",
                            or_(_contains(Party.name, text), _contains(Party.organization, text)))
    return or_(linked, client)


def _start_of(day: date) -> datetime:
    """Midnight of `day` where the portal's users live (BABEL_DEFAULT_TIMEZONE)."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def companies() -> list[Company]:
    """Every company, for the filter."""
    return list(db.session.scalars(select(Company).order_by(Company.legal_name, Company.id)))


def counterparty_of(document: Document) -> str:
    """Who signed with us: the linked counterparty, else the client party."""
    if document.counterparty is not None:
        return document.counterparty.name
    client = next(iter(document.parties_with_role("client")), None)
    return (client.organization or client.name) if client is not None else ""


def signed_document(user, document_id: int) -> Document | None:
    """One signed document the user may see in the vault, else None."""
    document = db.session.get(Document, document_id)
    if document is None or document.stage != "completed" or not document.final_sha256 \
            or not can(user, "view", "vault", document):
        return None
    return document


def certificate_page(document: Document) -> int:
    """The first page of the signing certificate: it follows the document's own pages."""
    return (document.page_count or 0) + 1
