"""Read-only lists for finding ids: companies, templates, counterparties."""

from flask import request
from sqlalchemy import select

from portal.api.auth import api_user
from portal.api.blueprint import bp
from portal.api.errors import ApiError
from portal.api.parsing import query_int
from portal.auth.permissions import can
from portal.doctemplates.models import DocumentTemplate
from portal.documents.payloads import company_json, counterparty_json, template_json
from portal.extensions import db
from portal.parties import services as parties

MAX_PER_PAGE = 100


def _require(action: str, section: str) -> None:
    if not can(api_user(), action, section):
        raise ApiError(403)


@bp.get("/v1/companies")
def companies():
    """Our companies (the sending side)."""
    _require("view", "settings")
    return {"items": [company_json(company) for company in parties.list_companies()]}


@bp.get("/v1/templates")
def templates():
    """Active document templates."""
    _require("view", "templates")
    rows = db.session.execute(
        select(DocumentTemplate)
        .where(DocumentTemplate.active.is_(True))
        .order_by(DocumentTemplate.name, DocumentTemplate.id)
    ).scalars()
    return {"items": [template_json(template) for template in rows]}


@bp.get("/v1/counterparties")
def counterparties():
    """The counterparty directory, searchable with ?q= (name, contacts, tax id)."""
    _require("view", "contacts")
    page = parties.search_counterparties(
        request.args.get("q", "").replace("\x00", "").strip()[:200],
        request.args.get("kind", ""),
        page=query_int("page", 1, 100_000),
        per_page=query_int("per_page", 25, MAX_PER_PAGE),
    )
    return {
        "items": [counterparty_json(counterparty) for counterparty in page.items],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
    }
