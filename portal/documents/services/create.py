"""Creating a draft: from a template (rendered to PDF) or from an uploaded file."""

import hashlib
from datetime import date as Date
from decimal import Decimal
from pathlib import PurePosixPath

from flask_babel import gettext as _

from portal import unit
from portal.audit.catalogue import DOCUMENT_CREATED
from portal.auth.permissions import can
from portal.doctemplates.models import TEMPLATE_KINDS, DocumentTemplate
from portal.doctemplates.rendering import build_context, render_document_pdf, resolve_layout
from portal.documents import upload_checks
from portal.documents.errors import DocumentRefused
from portal.documents.models import Document
from portal.documents.numbering import local_today, next_number
from portal.documents.services.common import (
    clean_decimal,
    clean_language,
    clean_title,
    default_deadline,
    new_verification_code,
    tidy,
)
from portal.documents.services.fields import fields_from_layout
from portal.documents.services.parties import (
    client_from_counterparty,
    client_from_dict,
    company_signer,
)
from portal.documents.trail import audit
from portal.extensions import db
from portal.models_base import end_read_before_slow_work
from portal.parties.directory import directory_entry_with
from portal.parties.models import Company, Counterparty
from portal.parties.search import search_text_for
from portal.pdfs import ingest_upload
from portal.pdfs.findings import as_records
from portal.storage import store

ITEM_LIMIT = 200
PLACE_MAX = 200


def _company(company_id, errors: dict) -> Company | None:
    company = db.session.get(Company, company_id) if str(company_id or "").isdigit() else None
    if company is None:
        errors["company_id"] = _("Choose one of our companies.")
    return company


def _client(counterparty_id, client, errors: dict):
    """(client party, counterparty record for the template, directory id or None)."""
    if counterparty_id not in (None, ""):
        record = (db.session.get(Counterparty, int(counterparty_id))
                  if str(counterparty_id).isdigit() else None)
        if record is None:
            errors["counterparty_id"] = _("This counterparty is not in the directory.")
            return None, None, None
        return client_from_counterparty(record), record, record.id
    if not client:
        errors["counterparty_id"] = _("Choose the client from the directory or enter a new one.")
        return None, None, None
    try:
        party, record = client_from_dict(client)
    except DocumentRefused as refused:
        errors.update(refused.errors)
        return None, None, None
    return party, record, None


def _keep_in_directory(record: Counterparty, party, actor) -> int | None:
    """A client typed in on a document joins the directory: the entry with the same email or
    phone when there is one (the document keeps what was typed), else a new entry when the
    sender may add contacts. Returns the entry's id, or None."""
    entry_id = directory_entry_with(record.email, record.phone)
    if entry_id is None and can(actor, "create", "contacts"):
        record.created_by_id = actor.id
        record.search_text = search_text_for(record)
        db.session.add(record)
        db.session.flush()
        entry_id = record.id
    party.counterparty_id = entry_id
    return entry_id


def clean_items(items, errors: dict) -> list[dict]:
    """Rows of the items table: name, quantity (> 0), unit, price (>= 0)."""
    rows = []
    for index, item in enumerate(list(items or [])[:ITEM_LIMIT]):
        if not isinstance(item, dict):
            errors[f"items.{index}"] = _("Each item needs a name, a quantity and a price.")
            continue
        prefix = f"items.{index}."
        name = tidy(item.get("name"), 300, prefix + "name", errors)
        if not name:
            errors.setdefault(prefix + "name", _("Name the item."))
        quantity = clean_decimal(item.get("quantity", 1), prefix + "quantity", errors)
        if quantity == 0 and prefix + "quantity" not in errors:
            errors[prefix + "quantity"] = _("The quantity must be more than zero.")
        rows.append({"name": name, "quantity": quantity,
                     "unit": tidy(item.get("unit"), 20, prefix + "unit", errors),
                     "price": clean_decimal(item.get("price", 0), prefix + "price", errors)})
    return rows


def _clean_terms(vat_rate, currency, errors: dict) -> tuple[Decimal | None, str]:
    """VAT in percent (None: VAT does not apply, templates print "without VAT")."""
    rate = None
    if vat_rate not in (None, ""):
        rate = clean_decimal(vat_rate, "vat_rate", errors)
    if rate is not None and "vat_rate" not in errors and rate > 100:
        errors["vat_rate"] = _("VAT is a percentage from 0 to 100.")
    currency = str(currency or "").strip().upper()
    if not (len(currency) == 3 and currency.isalpha()):
        errors["currency"] = _("Use a three-letter currency code such as RUB, EUR or USD.")
    return rate, currency


def _clean_values(place, items, vat_rate, currency, errors: dict) -> tuple:
    """(place, item rows, VAT rate, currency) of a new document, cleaned."""
    place = tidy(place, PLACE_MAX, "place", errors)
    rows = clean_items(items, errors)
    vat_rate, currency = _clean_terms(vat_rate, currency, errors)
    return place, rows, vat_rate, currency


def document_values(*, place="", items=(), vat_rate=None, currency="RUB") -> dict:
    """A new document's own values cleaned as create_from_template cleans them, in the form
    Document.variables keeps them (without the date); DocumentRefused if any is wrong. A public
    link keeps them and hands them to create_from_template for every document it makes."""
    errors: dict = {}
    place, rows, vat_rate, currency = _clean_values(place, items, vat_rate, currency, errors)
    if errors:
        raise DocumentRefused(errors)
    values = _variables(place, None, rows, vat_rate, currency)
    values.pop("date")
    return values


def _new_document(actor, company: Company, title: str, language: str, counterparty_id,
                  number: str, template_id=None) -> Document:
    document = Document(
        number=number, title=title, company_id=company.id, template_id=template_id,
        counterparty_id=counterparty_id, responsible_id=actor.id, created_by_id=actor.id,
        language=language, deadline_at=default_deadline(),
        verification_code=new_verification_code(), variables={},
    )
    db.session.add(document)
    return document


def _add_parties(document: Document, company: Company, client_party) -> None:
    document.parties.append(company_signer(company))
    document.parties.append(client_party)
    db.session.flush()


def _refuse_if(errors: dict) -> None:
    if errors:
        unit.rollback()
        raise DocumentRefused(errors)


def _template(template_id, errors: dict) -> DocumentTemplate | None:
    template = (db.session.get(DocumentTemplate, int(template_id))
                if str(template_id or "").isdigit() else None)
    if template is None or not template.active:
        errors["template_id"] = _("Choose one of the active templates.")
        return None
    return template


def _variables(place, day: Date | None, items: list[dict], vat_rate, currency) -> dict:
    return {"place": place, "date": day.isoformat() if day else None,
            "vat_rate": None if vat_rate is None else str(vat_rate),
            "currency": currency,
            "items": [{**item, "quantity": str(item["quantity"]), "price": str(item["price"])}
                      for item in items]}


def create_from_template(actor, meta, *, company_id, template_id, counterparty_id=None,
                         client=None, title=None, place="", date=None, items=(),
                         vat_rate=Decimal(0), currency="RUB", language=None,
                         before_commit=None, origin=None) -> Document:
    """Render a template for a client, number it, and set the default parties and fields.

    `before_commit(document)` runs in the creating transaction, just before its commit: a bulk
    row notes its document there, so the document exists exactly when the row says so.
    `origin`: further details for the creation's audit event (the public link it came from).
    """

    errors: dict = {}
    company = _company(company_id, errors)
    template = _template(template_id, errors)
    client_party, record, directory_id = _client(counterparty_id, client, errors)
    title = clean_title(title if title not in (None, "") else getattr(template, "name", ""),
                        errors)
    language = clean_language(language, errors, getattr(template, "language", "en"))
    place, rows, vat_rate, currency = _clean_values(place, items, vat_rate, currency, errors)
    if date is not None and not isinstance(date, Date):
        errors["date"] = _("Enter a date.")
    _refuse_if(errors)

    day = date or local_today()
    number = next_number(company, TEMPLATE_KINDS.get(template.kind, "DOC"))
    context = build_context(company, record, number=number, title=title, date=day,
                            place=place, items=rows, vat_rate=vat_rate, currency=currency,
                            language=language)
    rendered = render_document_pdf(template, context)
    blob = store(rendered.pdf_bytes, "application/pdf")
    db.session.flush()
    # Written after the slow work (the render), as every write here: SQLite has one writer.
    directory_id = directory_id or _keep_in_directory(record, client_party, actor)
    document = _new_document(actor, company, title, language, directory_id, number, template.id)
    document.source_sha256 = blob.sha256
    document.source_filename = f"{number}.pdf"
    document.page_count = rendered.page_count
    document.variables = _variables(place, day, rows, vat_rate, currency)
    _add_parties(document, company, client_party)
    layout = resolve_layout(template.default_layout or [], rendered.anchors, rendered.page_count)
    fields, skipped = fields_from_layout(document, layout)
    document.fields.extend(fields)
    db.session.flush()
    audit(DOCUMENT_CREATED, document, actor, meta, source="template",
          template_id=template.id, template=template.name, number=number, title=title,
          sha256=blob.sha256, page_count=document.page_count, fields=len(fields),
          skipped_fields=skipped, **(origin or {}))
    if before_commit is not None:
        before_commit(document)
    unit.commit()
    return document


def _safe_filename(filename: str) -> str:
    name = PurePosixPath(str(filename or "").replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[:255]


def create_from_upload(actor, meta, *, company_id, data: bytes, filename, title,
                       counterparty_id=None, client=None, language=None) -> Document:
    """Check an uploaded PDF or image, keep it, and make a numbered draft of it."""

    errors: dict = {}
    company = _company(company_id, errors)
    client_party, record, directory_id = _client(counterparty_id, client, errors)
    title = clean_title(title, errors)
    language = clean_language(language, errors, getattr(actor, "locale", None) or "en")
    _refuse_if(errors)

    end_read_before_slow_work()
    prepared = ingest_upload(data, filename)  # PdfRejected carries its own message
    upload_checks.run_checks(prepared.pdf_bytes)  # the dry-run seal, among others
    blob = store(prepared.pdf_bytes, "application/pdf")
    db.session.flush()
    directory_id = directory_id or _keep_in_directory(record, client_party, actor)
    number = next_number(company, TEMPLATE_KINDS["other"])
    document = _new_document(actor, company, title, language, directory_id, number)
    document.source_sha256 = blob.sha256
    document.source_filename = _safe_filename(filename)
    document.page_count = prepared.page_count
    document.removed_content = as_records(prepared.removed)
    _add_parties(document, company, client_party)
    audit(DOCUMENT_CREATED, document, actor, meta, source="upload", number=number,
          title=title, filename=document.source_filename, kind=prepared.source_kind,
          sha256=blob.sha256, page_count=document.page_count,
          **_cleaning_details(data, document.removed_content))
    unit.commit()
    return document


def _cleaning_details(uploaded: bytes, removed: list[dict]) -> dict:
    """For the audit trail: what was cut out of the upload, and the upload's own digest."""
    if not removed:
        return {}
    return {"removed_content": removed, "uploaded_sha256": hashlib.sha256(uploaded).hexdigest()}
