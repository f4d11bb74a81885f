"""The variables a document template sees: company, counterparty, document, items, totals."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

from portal.doctemplates.sandbox import TemplateRefused, to_decimal
from portal.parties.models import RequisitesMixin

CENT = Decimal("0.01")
MAX_ITEMS = 1000
REQUISITE_FIELDS = RequisitesMixin.REQUISITE_FIELDS


def cents(value: Decimal) -> Decimal:
    """Rounded to cents, halves away from zero (as accountants do)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _requisites(source) -> dict:
    if isinstance(source, dict):
        nested = source.get("requisites") or {}
        return {name: _text(nested.get(name, source.get(name))) for name in REQUISITE_FIELDS}
    return {name: _text(getattr(source, name, "")) for name in REQUISITE_FIELDS}


def company_variables(company) -> dict:
    """Our company: names, contacts, requisites (flat and under .requisites) and the signer."""
    if company is None:
        company = {}
    get = company.get if isinstance(company, dict) else (
        lambda name, default="": getattr(company, name, default))
    requisites = _requisites(company)
    legal_name = _text(get("legal_name", ""))
    short_name = _text(get("short_name", ""))
    signer = {
        "name": _text(get("signer_name", "")),
        "position": _text(get("signer_position", "")),
        "email": _text(get("signer_email", "")),
        "phone": _text(get("signer_phone", "")),
    }
    return {
        "legal_name": legal_name,
        "short_name": short_name,
        "name": short_name or legal_name,
        "email": _text(get("email", "")),
        "phone": _text(get("phone", "")),
        **requisites,
        "requisites": requisites,
        "signer": signer,
        **{f"signer_{key}": value for key, value in signer.items()},
    }


def _counterparty_fields(counterparty) -> dict:
    """Name, kind and representative from a Counterparty, a Party or either as a dict."""
    if isinstance(counterparty, dict):
        get = counterparty.get
    else:
        def get(name, default=""):
            return getattr(counterparty, name, default)
    kind = get("kind", "") or "person"
    organization = _text(get("organization", ""))
    if organization or (get("role", None) and kind == "company"):
        # A signing party: the person signs for the organization.
        return {"name": organization or _text(get("name", "")), "kind": kind,
                "representative": {"name": _text(get("name", "")),
                                   "position": _text(get("position", ""))}}
    return {"name": _text(get("name", "")), "kind": kind,
            "representative": {"name": _text(get("representative_name", "")),
                               "position": _text(get("representative_position", ""))}}


def counterparty_variables(counterparty) -> dict:
    """The client: a Counterparty, a Party, a dict of either, or None (all values empty)."""
    if counterparty is None:
        fields = {"name": "", "kind": "person", "representative": {"name": "", "position": ""}}
        requisites, email, phone = _requisites({}), "", ""
    else:
        fields = _counterparty_fields(counterparty)
        requisites = _requisites(counterparty)
        get = counterparty.get if isinstance(counterparty, dict) else (
            lambda name, default="": getattr(counterparty, name, default))
        email, phone = _text(get("email", "")), _text(get("phone", ""))
    return {
        **fields,
        "is_company": fields["kind"] == "company",
        "email": email,
        "phone": phone,
        **requisites,
        "requisites": requisites,
    }


def _number(value, what: str, position: int) -> Decimal:
    number = to_decimal(value)
    if number is None:
        raise TemplateRefused(_("Item %(position)s: the %(what)s is not a number.",
                                position=position, what=what))
    return number


def item_rows(items) -> list[dict]:
    """Items with Decimal quantity and price and the amount rounded to cents."""
    items = list(items or [])
    if len(items) > MAX_ITEMS:
        raise TemplateRefused(_("A document may have at most %(count)s items.", count=MAX_ITEMS))
    rows = []
    for position, item in enumerate(items, start=1):
        quantity = _number(item.get("quantity", 1), _("quantity"), position)
        price = _number(item.get("price", 0), _("price"), position)
        rows.append({
            "position": position,
            "name": _text(item.get("name", "")),
            "quantity": quantity,
            "unit": _text(item.get("unit", "")),
            "price": price,
            "amount": cents(quantity * price),
        })
    return rows


def compute_totals(rows: list[dict], vat_rate) -> dict:
    """Net (sum of the rounded amounts), VAT on top of it at vat_rate percent, gross.

    vat_rate None means VAT does not apply (templates print "without VAT"); 0 is a 0% rate.
    """
    net = cents(sum((row["amount"] for row in rows), Decimal("0")))
    rate = None if vat_rate is None or _text(vat_rate) == "" else to_decimal(vat_rate)
    if vat_rate not in (None, "") and (rate is None or not 0 <= rate <= 100):
        raise TemplateRefused(_("The VAT rate must be a percentage between 0 and 100."))
    vat = cents(net * rate / 100) if rate is not None else Decimal("0.00")
    return {"net": net, "vat_rate": rate.normalize() if rate is not None else None, "vat": vat,
            "gross": cents(net + vat)}


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            raise TemplateRefused(_("The document date is not a date.")) from error
    return None


def build_context(company, counterparty, *, number, title, date, place, items, vat_rate,
                  currency, language) -> dict:
    """Everything a template can use; money in Decimal, rounded to cents."""
    rows = item_rows(items)
    return {
        "company": company_variables(company),
        "counterparty": counterparty_variables(counterparty),
        "document": {"number": _text(number), "title": _text(title), "date": _as_date(date),
                     "place": _text(place)},
        "items": rows,
        "totals": compute_totals(rows, vat_rate),
        "currency": _text(currency).upper(),
        "language": language or "en",
    }
