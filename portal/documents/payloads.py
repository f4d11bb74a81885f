"""Documents as JSON-ready dicts: the shapes the API returns, webhooks send and OpenAPI promises."""

from datetime import UTC, date, datetime
from decimal import Decimal

from flask import url_for


def iso(moment: datetime | date | None) -> str | None:
    """ISO 8601; datetimes in UTC with a Z (SQLite hands back naive UTC values)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def plain(value):
    """Template variables as JSON: decimals as strings (exact), dates as ISO text."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return iso(value)
    return value


def party_json(party) -> dict:
    return {
        "id": party.id,
        "order": party.order,
        "role": party.role,
        "kind": party.kind,
        "name": party.name,
        "position": party.position,
        "organization": party.organization,
        "email": party.email,
        "phone": party.phone,
        "channel": party.channel,
        "stamp_required": party.stamp_required,
        "counterparty_id": party.counterparty_id,
        "status": party.status,
        "sent_at": iso(party.sent_at),
        "opened_at": iso(party.opened_at),
        "signed_at": iso(party.signed_at),
        "declined_at": iso(party.declined_at),
        "decline_reason": party.decline_reason or "",
    }


def field_json(field) -> dict:
    return {
        "id": field.id,
        "party_id": field.party_id,
        "role": field.party.role if field.party is not None else None,
        "type": field.type,
        "page": field.page,
        "x": field.x,
        "y": field.y,
        "w": field.w,
        "h": field.h,
        "required": field.required,
        "label": field.label,
        # Text values are returned; drawn signatures and stamps are files: only say "filled".
        "value": field.value or "",
        "filled": bool(field.value or field.value_sha256),
        "filled_at": iso(field.filled_at),
    }


def _links(document) -> dict:
    def link(endpoint):
        return url_for(endpoint, document_id=document.id)

    stored = document.files_purged_at is None  # retention may have deleted the PDFs
    return {
        "self": link("api.document"),
        "status": link("api.document_status"),
        "source_pdf": link("api.source_pdf") if document.source_sha256 and stored else None,
        "final_pdf": link("api.final_pdf") if document.final_sha256 and stored else None,
    }


def document_summary(document) -> dict:
    """The list view of a document: no parties or fields."""
    return {
        "id": document.id,
        "number": document.number,
        "title": document.title,
        "stage": document.stage,
        "company": {"id": document.company_id,
                    "name": document.company.display_name if document.company else None},
        "counterparty_id": document.counterparty_id,
        "responsible_id": document.responsible_id,
        "created_at": iso(document.created_at),
        "updated_at": iso(document.updated_at),
        "sent_at": iso(document.sent_at),
        "completed_at": iso(document.completed_at),
        "deadline": iso(document.deadline_at),
        "links": _links(document),
    }


def document_json(document) -> dict:
    """A document with everything a client needs to follow it."""
    responsible = document.responsible
    return document_summary(document) | {
        "language": document.language,
        "template_id": document.template_id,
        "responsible": {"id": responsible.id, "name": responsible.name,
                        "email": responsible.email} if responsible else None,
        "stage_changed_at": iso(document.stage_changed_at),
        "stopped_at": iso(document.stopped_at),
        "stop_reason": document.stop_reason or "",
        "verification_code": document.verification_code,
        "source_filename": document.source_filename,
        "source_sha256": document.source_sha256,
        "final_sha256": document.final_sha256,
        "page_count": document.page_count,
        # Scripts, actions and attached files cut out of an uploaded PDF before it was kept.
        "removed_content": document.removed_content or [],
        "variables": plain(document.variables or {}),
        "parties": [party_json(party) for party in document.parties],
        "fields": [field_json(field) for field in document.fields],
    }


def document_status(document) -> dict:
    """The compact answer to "where is it?": the stage and each party's progress."""
    return {
        "id": document.id,
        "number": document.number,
        "stage": document.stage,
        "deadline": iso(document.deadline_at),
        "sent_at": iso(document.sent_at),
        "completed_at": iso(document.completed_at),
        "final_pdf": bool(document.final_sha256) and document.files_purged_at is None,
        "parties": [
            {
                "id": party.id,
                "role": party.role,
                "name": party.name,
                "channel": party.channel,
                "status": party.status,
                "sent_at": iso(party.sent_at),
                "opened_at": iso(party.opened_at),
                "signed_at": iso(party.signed_at),
                "declined_at": iso(party.declined_at),
            }
            for party in document.parties
        ],
    }


def company_json(company) -> dict:
    return {
        "id": company.id,
        "legal_name": company.legal_name,
        "short_name": company.short_name,
        "tax_id": company.tax_id,
        "email": company.email,
        "signer_name": company.signer_name,
        "signer_position": company.signer_position,
        "signer_email": company.signer_email,
        "signer_phone": company.signer_phone,
        "number_pattern": company.number_pattern,
    }


def template_json(template) -> dict:
    return {
        "id": template.id,
        "name": template.name,
        "kind": template.kind,
        "language": template.language,
        "has_default_layout": bool(template.default_layout),
    }


def counterparty_json(counterparty) -> dict:
    return {
        "id": counterparty.id,
        "kind": counterparty.kind,
        "name": counterparty.name,
        "representative_name": counterparty.representative_name,
        "representative_position": counterparty.representative_position,
        "email": counterparty.email,
        "phone": counterparty.phone,
        "tax_id": counterparty.tax_id,
    }
