"""Who signs a document and who receives a copy: defaults from the records, and editing."""

from flask import current_app
from flask_babel import gettext as _

from portal import unit
from portal.audit.catalogue import DOCUMENT_PARTIES_SET
from portal.documents.errors import DocumentRefused
from portal.documents.models import CHANNELS, PARTY_ROLES, ROLE_ORDER, Document, Field, Party
from portal.documents.services.common import editable_draft, tidy
from portal.documents.trail import audit
from portal.extensions import db
from portal.parties.models import PARTY_KINDS, Company, Counterparty, RequisitesMixin
from portal.parties.rules import REQUISITE_RULES, clean_fields
from portal.validation import InvalidContact, normalise_email_address, normalise_phone

KEEP = "keep"
PARTY_TEXT_LIMITS = {"name": 200, "position": 200, "organization": 300}
PARTY_KEYS = ("id", "role", "kind", "name", "position", "organization", "email", "phone",
              "channel", "stamp_required", "counterparty_id", "requisites")


# --- rules shared with the fields and send services -----------------------------------------

def may_have_stamp(party: Party) -> bool:
    """Our company signer and a company client stamp; a person, an approver or a copy never."""
    return party.role == "company" or (party.role == "client" and party.kind == "company")


def preferred_channel(email: str, phone: str) -> str:
    return "sms" if phone and not email else "email"


def party_label(party: Party) -> str:
    """How the UI and messages name a party: "Anna Petrova (Acme LLC)"."""
    if party.organization and party.organization != party.name:
        return f"{party.name} ({party.organization})"
    return party.name


def requisites_of(record) -> dict:
    """A snapshot of a company's or counterparty's requisites (the record may change later)."""
    name = getattr(record, "legal_name", None) or getattr(record, "name", "")
    values = {key: getattr(record, key, "") or "" for key in RequisitesMixin.REQUISITE_FIELDS}
    return {"name": name, **{key: value for key, value in values.items() if value}}


# --- default parties at creation -------------------------------------------------------------

def company_signer(company: Company) -> Party:
    """Our side's signer as the company record names it."""
    email, phone = company.signer_email or "", company.signer_phone or ""
    return Party(role="company", order=ROLE_ORDER["company"], kind="company",
                 name=company.signer_name, position=company.signer_position or "",
                 organization=company.legal_name, email=email, phone=phone,
                 channel=preferred_channel(email, phone), stamp_required=False,
                 requisites=requisites_of(company))


def client_from_counterparty(counterparty: Counterparty) -> Party:
    """The client as the directory knows it; a company client is asked for its stamp."""
    is_company = counterparty.kind == "company"
    email, phone = counterparty.email or "", counterparty.phone or ""
    return Party(
        role="client", order=ROLE_ORDER["client"], kind=counterparty.kind,
        name=(counterparty.representative_name or counterparty.name) if is_company
        else counterparty.name,
        position=counterparty.representative_position or "" if is_company else "",
        organization=counterparty.name if is_company else "",
        email=email, phone=phone, channel=preferred_channel(email, phone),
        stamp_required=is_company, counterparty_id=counterparty.id,
        requisites=requisites_of(counterparty) if is_company else {"name": counterparty.name},
    )


def clean_new_client(client: dict) -> dict:
    """A client typed in on the spot: kind, name, representative, email, phone and, for a
    company, the requisites given."""
    errors, data = {}, dict(client or {})
    kind = data.get("kind") or "person"
    if kind not in PARTY_KINDS:
        errors["client_kind"] = _("Choose whether the client is a person or a company.")
    name = tidy(data.get("name"), 300, "client_name", errors)
    if not name and "client_name" not in errors:
        errors["client_name"] = _("Enter the client's name.")
    cleaned = {
        "kind": kind, "name": name,
        "representative_name": tidy(data.get("representative_name"), 200,
                                    "client_representative_name", errors),
        "representative_position": tidy(data.get("representative_position"), 200,
                                        "client_representative_position", errors),
        "email": _contact(data.get("email"), "email", "client_email", errors),
        "phone": _contact(data.get("phone"), "phone", "client_phone", errors),
    }
    cleaned.update(_clean_requisites(data, kind, errors))
    if not (cleaned["email"] or cleaned["phone"]) and not (
            "client_email" in errors or "client_phone" in errors):
        errors["client_email"] = _(
            "Add an email or a phone: signing links are sent by email or SMS.")
    if errors:
        raise DocumentRefused(errors)
    return cleaned


def _clean_requisites(data: dict, kind: str, errors: dict) -> dict:
    """A company client's requisites when given (tax id, KPP, address, bank...), by the
    directory's rules; a person has none, as in the directory."""
    if kind != "company":
        return dict.fromkeys(REQUISITE_RULES, "")
    cleaned, refused = clean_fields(data, REQUISITE_RULES)
    errors.update({f"client_{name}": message for name, message in refused.items()})
    return cleaned


def client_from_dict(client: dict) -> tuple[Party, Counterparty]:
    """The party for a new client, and an unsaved Counterparty for the template's variables."""
    cleaned = clean_new_client(client)
    record = Counterparty(
        kind=cleaned["kind"], name=cleaned["name"], email=cleaned["email"],
        phone=cleaned["phone"], representative_name=cleaned["representative_name"],
        representative_position=cleaned["representative_position"], notes="",
        **{name: cleaned[name] for name in RequisitesMixin.REQUISITE_FIELDS},
    )
    party = client_from_counterparty(record)
    party.counterparty_id = None
    return party, record


# --- editing ---------------------------------------------------------------------------------

def party_values(party: Party) -> dict:
    """A party as the dict set_parties takes (for editors and the API)."""
    return {key: getattr(party, key) for key in PARTY_KEYS}


def _contact(value, kind: str, key: str, errors: dict) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        if kind == "email":
            return normalise_email_address(text)
        return normalise_phone(text, current_app.config.get("SIGNET_PHONE_REGION"))
    except InvalidContact as error:
        errors[key] = error.message
        return ""


def _clean_role_and_kind(data: dict, put) -> tuple[str, str]:
    role = data.get("role")
    if role not in PARTY_ROLES:
        put("role", _("Choose the party's role."))
    kind = data.get("kind") or ("company" if role == "company" else "person")
    if kind not in PARTY_KINDS:
        put("kind", _("Choose a person or a company."))
    return role, kind


def _check_reachable(cleaned: dict, put) -> None:
    if cleaned["channel"] not in CHANNELS:
        put("channel", _("Choose email or SMS."))
    elif cleaned["channel"] == "sms" and not cleaned["phone"]:
        put("phone", _("Enter a phone number: the signing link goes by SMS."))
    elif cleaned["channel"] == "email" and not cleaned["email"]:
        put("email", _("Enter an email address: the signing link goes by email."))


def _check_stamp(cleaned: dict, put) -> None:
    if not cleaned["stamp_required"]:
        return
    if cleaned["kind"] == "person":
        put("stamp_required", _("A person is never asked for a stamp."))
    elif cleaned["role"] not in ("company", "client"):
        put("stamp_required", _("Only a signing company can be asked for a stamp."))


def _counterparty_id(value, put) -> int | None:
    if value in (None, ""):
        return None
    try:
        counterparty_id = int(value)
    except (TypeError, ValueError):
        counterparty_id = None
    if counterparty_id is None or db.session.get(Counterparty, counterparty_id) is None:
        put("counterparty_id", _("This counterparty is not in the directory."))
        return None
    return counterparty_id


def clean_party(index: int, data: dict, errors: dict) -> dict:
    """One party's values in stored form; problems go to errors["<index>.<name>"]."""
    def put(name, message):
        errors.setdefault(f"{index}.{name}", message)

    local: dict = {}
    role, kind = _clean_role_and_kind(data, put)
    cleaned = {
        "id": data.get("id"), "role": role, "kind": kind,
        **{key: tidy(data.get(key), limit, key, local)
           for key, limit in PARTY_TEXT_LIMITS.items()},
        "email": _contact(data.get("email"), "email", "email", local),
        "phone": _contact(data.get("phone"), "phone", "phone", local),
        "stamp_required": bool(data.get("stamp_required")),
        # Left out: the party keeps its link to the directory (editors do not show it).
        "counterparty_id": _counterparty_id(data.get("counterparty_id"), put)
        if "counterparty_id" in data else KEEP,
        "requisites": data.get("requisites"),
    }
    for name, message in local.items():
        put(name, message)
    cleaned["channel"] = data.get("channel") or preferred_channel(cleaned["email"],
                                                                    cleaned["phone"])
    if role == "cc":
        cleaned["channel"] = "email"  # the final PDF goes as an attachment
    if not cleaned["name"]:
        put("name", _("Enter the name."))
    if kind == "company" and role == "client" and not cleaned["organization"]:
        put("organization", _("Enter the company's name."))
    if not (f"{index}.email" in errors or f"{index}.phone" in errors):
        _check_reachable(cleaned, put)
    _check_stamp(cleaned, put)
    return cleaned


def _check_roles(cleaned: list[dict], errors: dict) -> None:
    roles = [party["role"] for party in cleaned]
    if roles.count("company") != 1:
        errors.setdefault("parties", _("The document needs exactly one signer for our company."))
    if roles.count("client") < 1:
        errors.setdefault("parties", _("The document needs at least one client who signs."))


def _requisites_for(values: dict, document: Document) -> dict:
    given = values.get("requisites")
    if isinstance(given, dict):
        return {str(k)[:40]: str(v)[:500] for k, v in given.items() if v not in (None, "")}
    if values["role"] == "company":
        return requisites_of(document.company)
    if values["counterparty_id"]:
        return requisites_of(db.session.get(Counterparty, values["counterparty_id"]))
    return {"name": values["organization"] or values["name"]}


def _match_existing(document: Document, cleaned: list[dict], errors: dict) -> list[Party | None]:
    """Keep existing parties (and their fields): by id first, then by role in order."""
    existing = {party.id: party for party in document.parties}
    matched: list[Party | None] = []
    for index, values in enumerate(cleaned):
        party = None
        if values["id"] not in (None, ""):
            party = existing.pop(_int_or_none(values["id"]), None)
            if party is None:
                errors.setdefault(f"{index}.id", _("This party is not on the document."))
        matched.append(party)
    for index, values in enumerate(cleaned):
        if matched[index] is None and values["id"] in (None, ""):
            same_role = [p for p in existing.values() if p.role == values["role"]]
            if same_role:
                matched[index] = existing.pop(same_role[0].id)
    return matched


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _drop_fields(document: Document, party: Party, only_stamps: bool = False) -> int:
    doomed = [field for field in document.fields if field.party_id == party.id
              and (field.type == "stamp" or not only_stamps)]
    for field in doomed:
        document.fields.remove(field)
        db.session.delete(field)
    return len(doomed)


def _apply(document: Document, cleaned: list[dict], matched: list[Party | None]) -> int:
    """Write the parties; returns how many fields went with removed or changed parties."""
    kept_ids = {party.id for party in matched if party is not None}
    removed_fields = 0
    for party in [p for p in document.parties if p.id not in kept_ids]:
        removed_fields += _drop_fields(document, party)
        document.parties.remove(party)
    for values, party in zip(cleaned, matched, strict=True):
        if party is None:
            party = Party()
            document.parties.append(party)
        if values["counterparty_id"] == KEEP:
            values = {**values, "counterparty_id": party.counterparty_id}
        for key in ("role", "kind", "name", "position", "organization", "email", "phone",
                    "channel", "stamp_required", "counterparty_id"):
            setattr(party, key, values[key])
        if party.role == "company" and not party.organization:
            party.organization = document.company.legal_name
        party.order = ROLE_ORDER[values["role"]]
        party.requisites = _requisites_for(values, document)
        if party.id is not None and party.role == "cc":
            removed_fields += _drop_fields(document, party)  # a copy recipient fills nothing
        elif party.id is not None and not may_have_stamp(party):
            removed_fields += _drop_fields(document, party, only_stamps=True)
    return removed_fields


def _summary(document: Document) -> list[dict]:
    return [{"role": p.role, "name": p.name, "organization": p.organization,
             "channel": p.channel, "email": p.email, "phone": p.phone,
             "stamp_required": p.stamp_required} for p in document.parties]


def set_parties(actor, meta, document_id: int, parties: list[dict]) -> Document:
    """Replace the parties of a draft; fields of removed parties go with them."""
    document = editable_draft(document_id)
    errors: dict = {}
    if not isinstance(parties, list | tuple) or not all(isinstance(p, dict) for p in parties):
        raise DocumentRefused({"parties": _("Send the parties as a list.")})
    cleaned = [clean_party(index, data, errors) for index, data in enumerate(parties)]
    _check_roles(cleaned, errors)
    matched = _match_existing(document, cleaned, errors)
    if errors:
        unit.rollback()
        raise DocumentRefused(errors)
    order = sorted(range(len(cleaned)), key=lambda i: ROLE_ORDER[cleaned[i]["role"]])
    removed = _apply(document, [cleaned[i] for i in order], [matched[i] for i in order])
    db.session.flush()
    document.parties.sort(key=lambda p: (p.order, p.id))
    audit(DOCUMENT_PARTIES_SET, document, actor, meta, parties=_summary(document),
          removed_fields=removed)
    unit.commit()
    return document


def update_party(actor, meta, document_id: int, party_id: int, changes: dict) -> Document:
    """Change some values of one party (the rest stay), with set_parties' checks."""
    document = editable_draft(document_id)
    values = [party_values(party) for party in document.parties]
    target = next((v for v in values if v["id"] == party_id), None)
    if target is None:
        unit.rollback()
        raise DocumentRefused({"id": _("This party is not on the document.")})
    target.update({k: v for k, v in changes.items() if k in PARTY_KEYS and k != "id"})
    return set_parties(actor, meta, document_id, values)


def signing_parties(document: Document) -> list[Party]:
    return [party for party in document.parties if party.signs]


def fields_of(document: Document, party: Party) -> list[Field]:
    return [field for field in document.fields if field.party_id == party.id]
