"""Bulk rows: which column means what, and what each row of a spreadsheet will become.

The reader (sheet.py) gives strings; here they are mapped to targets (the client's details,
the document's title, amount or items, and the document variables a template prints),
cleaned with the same rules as the directory's forms, matched with the directory in a few
queries for the whole batch, and checked for duplicates. Nothing is written.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateSyntaxError, nodes

from portal.auth.permissions import can
from portal.doctemplates.sandbox import sandbox
from portal.documents.services.common import TITLE_MAX, clean_decimal
from portal.documents.services.create import clean_items
from portal.parties.directory import directory_ids, pick_entry
from portal.parties.models import PARTY_KINDS, RequisitesMixin
from portal.parties.rules import (
    COMPANY_ONLY_FIELDS,
    COUNTERPARTY_RULES,
    InvalidValue,
    clean_value,
)


class SheetRows(Protocol):
    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]


@dataclass(frozen=True)
class Target:
    key: str
    label: object  # a lazy string
    # Header spellings in en, ru and pt, compared after folding (see fold_header).
    headers: tuple[str, ...]


TARGETS = (
    Target("kind", _l("Kind"), (
        "kind", "type", "client type", "party type", "тип", "тип клиента", "вид лица",
        "тип лица", "tipo", "tipo de cliente", "tipo de entidade")),
    Target("name", _l("Name"), (
        "name", "full name", "client name", "client", "customer", "counterparty",
        "company name", "company", "имя", "фио", "наименование", "название", "клиент",
        "контрагент", "организация", "nome", "nome completo", "cliente", "denominação",
        "empresa")),
    Target("representative_name", _l("Representative"), (
        "representative", "representative name", "contact person", "signer", "signatory",
        "представитель", "подписант", "контактное лицо", "representante",
        "pessoa de contacto", "signatário")),
    Target("representative_position", _l("Representative's position"), (
        "position", "job title", "representative position", "role", "должность",
        "cargo", "função")),
    Target("email", _l("Email"), (
        "email", "e-mail", "mail", "email address", "почта", "электронная почта",
        "эл почта", "адрес почты", "емейл", "имейл", "correio", "correio eletrónico",
        "correio electrónico", "endereço de email")),
    Target("phone", _l("Phone"), (
        "phone", "phone number", "mobile", "mobile phone", "tel", "telephone", "телефон",
        "мобильный", "мобильный телефон", "тел", "telefone", "telemóvel", "número de telemóvel")),
    Target("channel", _l("Send by"), (
        "channel", "send by", "send via", "delivery", "канал", "способ отправки", "отправка",
        "canal", "enviar por", "envio")),
    Target("tax_id", _l("Tax ID (INN / VAT / NIF)"), (
        "tax id", "tax number", "vat number", "vat id", "vat no", "tin", "inn", "инн",
        "nif", "contribuinte", "número de contribuinte")),
    Target("kpp", _l("KPP"), ("kpp", "кпп")),
    Target("registration_number", _l("Registration number (OGRN / company no.)"), (
        "registration number", "registration no", "company number", "reg no", "ogrn", "огрн",
        "огрнип", "регистрационный номер", "nipc", "número de registo", "matrícula")),
    Target("address", _l("Legal address"), (
        "address", "legal address", "адрес", "юридический адрес", "morada", "endereço",
        "sede")),
    Target("bank_name", _l("Bank"), ("bank", "bank name", "банк", "наименование банка",
                                      "banco")),
    Target("bank_account", _l("Bank account / IBAN"), (
        "bank account", "account", "account number", "iban", "расчетный счет", "р с", "счет",
        "conta", "conta bancária", "número de conta")),
    Target("correspondent_account", _l("Correspondent account"), (
        "correspondent account", "корреспондентский счет", "корр счет", "кор счет", "к с",
        "conta correspondente")),
    Target("bank_code", _l("Bank code (BIK / SWIFT)"), (
        "bank code", "bic", "swift", "бик", "código do banco", "código swift")),
    Target("title", _l("Title"), (
        "title", "document title", "document", "subject", "заголовок", "название документа",
        "документ", "título", "documento", "assunto")),
    Target("amount", _l("Amount"), (
        "amount", "sum", "total", "price", "сумма", "стоимость", "цена", "итого", "valor",
        "montante", "preço", "total a pagar")),
    Target("items", _l("Items"), (
        "items", "lines", "services", "позиции", "услуги", "работы", "товары", "itens",
        "serviços", "linhas")),
    Target("place", _l("Place"), (
        "place", "city", "document place", "место", "место составления", "город", "local",
        "localidade", "cidade")),
    Target("date", _l("Date"), (
        "date", "document date", "дата", "дата документа", "data", "data do documento")),
    Target("currency", _l("Currency"), ("currency", "валюта", "moeda")),
    Target("vat_rate", _l("VAT rate"), (
        "vat rate", "vat", "ндс", "ставка ндс", "iva", "taxa de iva")),
)
TARGET_KEYS = tuple(target.key for target in TARGETS)
REQUISITE_FIELDS = RequisitesMixin.REQUISITE_FIELDS
# The document variables a template can print: where it reads each one.
DOCUMENT_VARIABLES = {"place": ("document", "place"), "date": ("document", "date"),
                      "currency": ("currency", None), "vat_rate": ("totals", "vat_rate")}
# Those without a default: a template that prints one needs it in every row.
REQUIRED_WHEN_PRINTED = ("place",)

KIND_WORDS = {
    "person": ("person", "individual", "private", "private person", "natural person",
               "физлицо", "физ лицо", "физическое лицо", "фл", "частное лицо", "pessoa",
               "pessoa singular", "particular", "singular"),
    "company": ("company", "organisation", "organization", "business", "legal entity",
                "юрлицо", "юр лицо", "юридическое лицо", "юл", "организация", "компания",
                "ип", "empresa", "pessoa coletiva", "pessoa colectiva", "sociedade", "coletiva"),
}
CHANNEL_WORDS = {
    "email": ("email", "e-mail", "mail", "почта", "электронная почта", "эл почта", "емейл",
              "correio", "correio eletrónico"),
    "sms": ("sms", "text", "text message", "смс", "телефон", "phone", "telemóvel", "mensagem"),
}


def fold_header(text: str) -> str:
    """Case, accents, spaces and punctuation ignored: "E-mail:" and "email" are one word."""
    decomposed = unicodedata.normalize("NFKD", str(text or "").casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _folded_words(words: dict) -> dict[str, str]:
    return {fold_header(word): key for key, spellings in words.items() for word in spellings}


KINDS_BY_WORD = _folded_words(KIND_WORDS)
CHANNELS_BY_WORD = _folded_words(CHANNEL_WORDS)


def target_labels() -> dict[str, str]:
    """target -> its label in the current language, in the order a mapping form shows them."""
    return {target.key: str(target.label) for target in TARGETS}


def suggest_mapping(headers: list[str], template=None) -> dict[str, int]:
    """target -> column index, guessed from the header names; each column used at most once.

    A target takes the column matching its earliest spelling, so "Name" beats "Company" for
    the client's name. The document variables are offered only if the template prints them.
    """
    columns = {}
    for index, header in enumerate(headers):
        columns.setdefault(fold_header(header), index)
    wanted = [t for t in TARGETS if t.key not in DOCUMENT_VARIABLES
              or template is None or t.key in printed_variables(template)]
    mapping, taken = {}, set()
    for target in wanted:
        for spelling in target.headers:
            index = columns.get(fold_header(spelling))
            if index is not None and index not in taken:
                mapping[target.key] = index
                taken.add(index)
                break
    return mapping


def printed_variables(template) -> set[str]:
    """The document variables the template's body prints (place, date, currency, VAT rate)."""
    try:
        tree = sandbox().parse(getattr(template, "body_html", "") or "")
    except TemplateSyntaxError:
        return set()
    seen = {(n.node.name, n.attr) for n in tree.find_all(nodes.Getattr)
            if isinstance(n.node, nodes.Name)}
    names = {n.name for n in tree.find_all(nodes.Name)}
    return {key for key, (root, attr) in DOCUMENT_VARIABLES.items()
            if (root, attr) in seen or (attr is None and root in names)}


@dataclass
class RowResult:
    row_number: int
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    counterparty_id: int | None = None
    will_create: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors


# --- cleaning one row ----------------------------------------------------------------------

def _cell(row: list[str], index) -> str:
    return str(row[index]).strip() if isinstance(index, int) and 0 <= index < len(row) else ""


def _clean_kind(raw: str, errors: dict) -> str:
    if not raw:
        return "person"
    kind = KINDS_BY_WORD.get(fold_header(raw))
    if kind not in PARTY_KINDS:
        errors["kind"] = _("Unknown client type “%(value)s”: write person or company.",
                           value=raw)
        return "person"
    return kind


def _clean_client(raw: dict, values: dict, errors: dict) -> None:
    """Name, representative, contacts and requisites, by the directory's own rules; a person
    keeps none of a company's fields, as in the directory."""
    for name in ("name", "representative_name", "representative_position", "email", "phone",
                 *REQUISITE_FIELDS):
        if values["kind"] == "person" and name in COMPANY_ONLY_FIELDS:
            values[name] = ""
            continue
        try:
            values[name] = clean_value(COUNTERPARTY_RULES[name], raw.get(name, ""))
        except InvalidValue as error:
            errors[name] = error.message
    if "name" in errors and not raw.get("name"):
        errors["name"] = _("Enter the client's name.")


def _clean_channel(raw: str, values: dict, errors: dict) -> str:
    has_email = bool(values.get("email")) or "email" in errors
    has_phone = bool(values.get("phone")) or "phone" in errors
    if not raw:
        return "email" if has_email or not has_phone else "sms"
    channel = CHANNELS_BY_WORD.get(fold_header(raw))
    if channel is None:
        errors["channel"] = _("Unknown channel “%(value)s”: write email or SMS.", value=raw)
    elif channel == "sms" and not has_phone:
        errors["channel"] = _("SMS needs a phone number: add one or send by email.")
    elif channel == "email" and not has_email:
        errors["channel"] = _("Email needs an address: add one or send by SMS.")
    return channel or "email"


def _check_reachable(values: dict, errors: dict) -> None:
    if not values.get("email") and not values.get("phone") and not (
            "email" in errors or "phone" in errors):
        errors["email"] = _("Give an email address or a phone number.")


GROUPED = re.compile(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*")  # one separator throughout


def amount_text(raw: str) -> str | None:
    """The figure with a dot as decimal mark ("1 500,50", "1.500,50", "1,500.50" -> "1500.50").

    Spaces group thousands. With both a dot and a comma, the last one is the decimal mark.
    A single separator is the decimal mark, except before exactly three digits ("1.500",
    "1,500"), which readers take differently by country: refused (None) rather than guessed.
    """
    text = re.sub(r"[\s\u00a0\u202f]", "", raw)
    marks = [i for i, ch in enumerate(text) if ch in ".,"]
    if not marks:
        return text
    last = marks[-1]
    whole, decimals = text[:last], text[last + 1:]
    if len(marks) == 1:
        ambiguous = len(decimals) == 3 and whole.lstrip("-+").strip("0") != ""
        return None if ambiguous else f"{whole}.{decimals}"
    if text[last] == text[marks[0]]:  # "1.500.000": grouping only
        return text.replace(text[last], "") if GROUPED.fullmatch(text.lstrip("-+")) else None
    return (whole.replace(".", "").replace(",", "") + "." + decimals
            if GROUPED.fullmatch(whole.lstrip("-+")) else None)


def _unclear_amount(raw: str, key: str, errors: dict) -> None:
    errors[key] = _("Unclear amount “%(value)s”: write it as 1500.50 or 1 500,50.", value=raw)


def _clean_amount(raw: str, key: str, errors: dict) -> Decimal | None:
    text = amount_text(raw)
    if text is None:
        _unclear_amount(raw, key, errors)
        return None
    return clean_decimal(text, key, errors)


def _item(entry: str, errors: dict) -> dict | None:
    """"Design; 2; 1 500,00" or "Design; 1500" as the document services take an item."""
    parts = [part.strip() for part in entry.split(";")]
    if len(parts) not in (2, 3) or not parts[0]:
        errors["items"] = _("Write items as name; quantity; price, separated by |.")
        return None
    figures = parts[1:] if len(parts) == 3 else ["1", parts[1]]
    texts = [amount_text(figure) for figure in figures]
    for figure, text in zip(figures, texts, strict=True):
        if text is None:
            _unclear_amount(figure, "items", errors)
            return None
    return {"name": parts[0], "quantity": texts[0], "unit": "", "price": texts[1]}


def _clean_items(raw: str, errors: dict) -> list[dict]:
    """"Design; 2; 1500 | Support; 300": items checked by the documents' own rules."""
    items = []
    for entry in (part.strip() for part in re.split(r"[|\n]", raw)):
        item = _item(entry, errors) if entry else None
        if "items" in errors:
            return []
        if item is not None:
            items.append(item)
    item_errors: dict = {}
    cleaned = clean_items(items, item_errors)
    if item_errors:
        errors["items"] = next(iter(item_errors.values()))
        return []
    return cleaned


def _clean_document(raw: dict, values: dict, errors: dict) -> None:
    values["title"] = " ".join(raw.get("title", "").split())[:TITLE_MAX]
    if raw.get("items"):
        values["items"] = _clean_items(raw["items"], errors)
    elif raw.get("amount"):
        amount = _clean_amount(raw["amount"], "amount", errors)
        values["items"] = [{"name": values["title"], "quantity": Decimal(1), "unit": "",
                            "price": amount}] if amount is not None else []


def _clean_date(raw: str, errors: dict) -> date | None:
    """ISO (2026-12-31) or day first (31.12.2026, 31/12/2026)."""
    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", raw)
    try:
        return (date(int(match[3]), int(match[2]), int(match[1])) if match
                else date.fromisoformat(raw))
    except ValueError:
        errors["date"] = _("Enter the date as 31.12.2026 or 2026-12-31.")
        return None


def _clean_currency(raw: str, errors: dict) -> str:
    currency = raw.upper()
    if not (len(currency) == 3 and currency.isalpha()):
        errors["currency"] = _("Use a three-letter currency code such as RUB, EUR or USD.")
    return currency


def _clean_vat_rate(raw: str, errors: dict) -> Decimal | None:
    rate = _clean_amount(raw.rstrip("%").strip(), "vat_rate", errors)
    if rate is not None and "vat_rate" not in errors and not 0 <= rate <= 100:
        errors["vat_rate"] = _("VAT is a percentage from 0 to 100.")
    return rate


VARIABLE_CLEANERS = {"place": lambda raw, _errors: " ".join(raw.split())[:200],
                     "date": _clean_date, "currency": _clean_currency,
                     "vat_rate": _clean_vat_rate}


def clean_batch_values(raw: dict) -> tuple[dict, dict]:
    """The batch-wide document variables (place, date, currency, VAT rate) a row's empty cell
    takes, cleaned as a row's own cells are: (values given, one message per faulty one)."""
    values, errors = {}, {}
    for key, cleaner in VARIABLE_CLEANERS.items():
        text = str((raw or {}).get(key) or "").strip()
        if text:
            values[key] = cleaner(text, errors)
    return values, errors


def _clean_variables(raw: dict, values: dict, errors: dict, printed: set[str],
                     batch_values: dict) -> None:
    """The row's own cell wins; an empty one takes the batch's value (already cleaned)."""
    for key, cleaner in VARIABLE_CLEANERS.items():
        if raw.get(key):
            values[key] = cleaner(raw[key], errors)
        elif batch_values.get(key) not in (None, ""):
            values[key] = batch_values[key]
    values.setdefault("place", "")
    for key in REQUIRED_WHEN_PRINTED:
        if key in printed and not values.get(key) and key not in errors:
            errors[key] = _("The template prints “%(variable)s”: fill it in here or "
                            "for the whole batch.", variable=_label(key))


def _label(key: str) -> str:
    return next(str(target.label) for target in TARGETS if target.key == key)


def clean_row(row_number: int, raw: dict, printed: set[str],
              batch_values: dict | None = None) -> RowResult:
    """One row's values by target, cleaned, with one message per faulty target; the batch's
    values (clean_batch_values) fill the document variables its cells leave empty."""
    result = RowResult(row_number)
    values, errors = result.values, result.errors
    values["kind"] = _clean_kind(raw.get("kind", ""), errors)
    _clean_client(raw, values, errors)
    _check_reachable(values, errors)
    values["channel"] = _clean_channel(raw.get("channel", ""), values, errors)
    _clean_document(raw, values, errors)
    _clean_variables(raw, values, errors, printed, batch_values or {})
    return result


# --- the batch -----------------------------------------------------------------------------

def _mark_duplicates(results: list[RowResult]) -> None:
    """A later row with an email or phone an earlier row has is refused, naming that row."""
    first_with: dict[tuple[str, str], int] = {}
    for result in results:
        for key in ("email", "phone"):
            value = result.values.get(key)
            if not value or key in result.errors:
                continue
            earlier = first_with.setdefault((key, value), result.row_number)
            if earlier != result.row_number:
                result.errors[key] = _("The same as in row %(row)s: one row per client.",
                                       row=earlier)


def _match_directory(results: list[RowResult], actor) -> None:
    """Each row's directory entry (email first, then phone), else whether it may be added."""
    by_email, by_phone = directory_ids([r.values.get("email", "") for r in results],
                                       [r.values.get("phone", "") for r in results])
    may_create = can(actor, "create", "contacts")
    for result in results:
        entry = pick_entry(result.values.get("email", ""), result.values.get("phone", ""),
                           by_email, by_phone)
        if entry is not None:
            result.counterparty_id = entry
        elif may_create:
            result.will_create = True
        else:
            result.errors["counterparty"] = _(
                "This client is not in the directory, and you may not add contacts.")


def validate_rows(sheet: SheetRows, mapping: dict[str, int], template, actor, *,
                  batch_values: dict | None = None) -> list[RowResult]:
    """Every row of the sheet checked as `mapping` reads it (target -> column index), the
    batch's values filling the document variables a row leaves empty."""
    printed = printed_variables(template)
    columns = {key: index for key, index in mapping.items() if key in TARGET_KEYS}
    results = [clean_row(number, {key: _cell(row, index) for key, index in columns.items()},
                         printed, batch_values)
               for number, row in zip(sheet.row_numbers, sheet.rows, strict=True)]
    _mark_duplicates(results)
    _match_directory(results, actor)
    return results


def summary(results: list[RowResult]) -> dict[str, int]:
    """Counts for the confirmation: valid, invalid, to create, matched (valid rows only)."""
    valid = [result for result in results if result.valid]
    return {"valid": len(valid), "invalid": len(results) - len(valid),
            "to_create": sum(result.will_create for result in valid),
            "matched": sum(result.counterparty_id is not None for result in valid)}
