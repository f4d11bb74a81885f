"""Companies (our side) and counterparties (people and companies we sign with)."""

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import TimestampMixin

PARTY_KINDS = ("person", "company")


class RequisitesMixin:
    """Legal requisites, shared by our companies and company counterparties.

    Names are country-neutral: tax_id holds an INN, a VAT number or a NIF; kpp only exists
    in Russia; registration_number is an OGRN, a company number or an NIPC.
    """

    tax_id: Mapped[str] = mapped_column(String(32), default="")
    kpp: Mapped[str] = mapped_column(String(16), default="")
    registration_number: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    bank_account: Mapped[str] = mapped_column(String(64), default="")
    correspondent_account: Mapped[str] = mapped_column(String(64), default="")
    bank_code: Mapped[str] = mapped_column(String(32), default="")

    REQUISITE_FIELDS = (
        "tax_id",
        "kpp",
        "registration_number",
        "address",
        "bank_name",
        "bank_account",
        "correspondent_account",
        "bank_code",
    )


class CompanyTraits:
    """What a company answers from its own values: shared by the model and the signing page's
    plain record of it (portal/signing/page_data.py)."""

    @property
    def display_name(self) -> str:
        return self.short_name or self.legal_name


class Company(CompanyTraits, RequisitesMixin, TimestampMixin, db.Model):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str] = mapped_column(String(200), default="")
    signer_email: Mapped[str] = mapped_column(String(254), default="")
    signer_phone: Mapped[str] = mapped_column(String(32), default="")
    # The language of its documents ("" for any): a template in it starts with this company.
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    # IANA name ("Europe/Moscow") its documents' times are shown in; "" for the portal's
    # default (BABEL_DEFAULT_TIMEZONE). See portal.parties.zones.
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")

    stamp_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    # Document numbers: {type} (ACT, INV, CON, DOC), {year}, {month}, {seq} with a format
    # such as {seq:05d}. The sequence runs separately for each distinct rest of the pattern.
    number_pattern: Mapped[str] = mapped_column(String(64), default="{type}-{year}-{seq:05d}")
    # The e-signature agreement a signer accepts; empty means the built-in text (3 languages).
    signing_agreement: Mapped[str] = mapped_column(Text, default="")
    # Retention, in days after a document's completion (0: never). The final and source PDFs
    # go after the first; the signers' contacts, addresses and browsers are masked after the
    # second. The document row and its digests stay: they are what /verify answers from.
    retention_files_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retention_mask_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Counterparty(RequisitesMixin, TimestampMixin, db.Model):
    __tablename__ = "counterparties"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # one of PARTY_KINDS
    name: Mapped[str] = mapped_column(String(300))
    # A company counterparty's representative who signs for it.
    representative_name: Mapped[str] = mapped_column(String(200), default="")
    representative_position: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Case-folded name, contacts and tax ids: SQLite's lower() ignores Cyrillic, so search
    # compares against this column on every database.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    @property
    def is_company(self) -> bool:
        return self.kind == "company"
