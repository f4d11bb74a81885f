"""Does a document meet a rule's conditions? Every condition given must hold.

Conditions are stored as a small dict: company_id, template_id, responsible_id, department_id
(the responsible's department or one below it), counterparty_kind (person | company), and
amount_op (gt | lt) with amount (the gross of the document's items).
"""

from decimal import Decimal, InvalidOperation

from portal.auth.models import Department
from portal.doctemplates.variables import compute_totals, item_rows
from portal.documents.models import Document
from portal.errors import DomainError
from portal.extensions import db

CONDITION_KEYS = ("company_id", "template_id", "responsible_id", "department_id",
                  "counterparty_kind", "amount_op", "amount")
AMOUNT_OPS = ("gt", "lt")
COUNTERPARTY_KINDS = ("person", "company")


def document_amount(document: Document) -> Decimal | None:
    """The gross (with VAT) of the document's items; None for a document without items."""

    variables = document.variables or {}
    if not variables.get("items"):
        return None
    try:
        return compute_totals(item_rows(variables["items"]), variables.get("vat_rate"))["gross"]
    except (DomainError, InvalidOperation, TypeError, ValueError):
        return None


def counterparty_kind(document: Document) -> str | None:
    if document.counterparty is not None:
        return document.counterparty.kind
    client = next(iter(document.parties_with_role("client")), None)
    return client.kind if client is not None else None


def _in_department(document: Document, department_id: int) -> bool:
    responsible = document.responsible
    if responsible is None or responsible.department_id is None:
        return False
    department = db.session.get(Department, department_id)
    if department is None:
        return False
    return responsible.department_id in {department.id} | department.descendant_ids()


def unmet(conditions: dict, document: Document) -> str | None:
    """The first condition the document fails (its key), or None when all hold."""
    conditions = conditions or {}
    for key in ("company_id", "template_id", "responsible_id"):
        wanted = conditions.get(key)
        if wanted is not None and getattr(document, key) != wanted:
            return key
    department_id = conditions.get("department_id")
    if department_id is not None and not _in_department(document, department_id):
        return "department_id"
    kind = conditions.get("counterparty_kind")
    if kind and counterparty_kind(document) != kind:
        return "counterparty_kind"
    return _amount_unmet(conditions, document)


def _amount_unmet(conditions: dict, document: Document) -> str | None:
    operator, limit = conditions.get("amount_op"), conditions.get("amount")
    if operator not in AMOUNT_OPS or limit in (None, ""):
        return None
    amount = document_amount(document)
    if amount is None:
        return "amount"
    limit = Decimal(str(limit))
    holds = amount > limit if operator == "gt" else amount < limit
    return None if holds else "amount"
