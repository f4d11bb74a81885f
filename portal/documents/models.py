"""Document, Party (a signer or a copy recipient) and Field."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import TimestampMixin, UTCDateTime

# The pipeline: draft -> (approval) -> company_signing -> client_signing -> completed,
# with declined, stopped and expired as ends.
STAGES = (
    "draft",
    "approval",
    "company_signing",
    "client_signing",
    "completed",
    "declined",
    "stopped",
    "expired",
)
OPEN_STAGES = ("approval", "company_signing", "client_signing")
FINAL_STAGES = ("completed", "declined", "stopped", "expired")

# Who a party is, in signing order: approver first, then our company, then the client;
# copy recipients only receive the final PDF.
PARTY_ROLES = ("approver", "company", "client", "cc")
ROLE_ORDER = {"approver": 1, "company": 2, "client": 3, "cc": 4}
SIGNING_ROLES = ("approver", "company", "client")
CHANNELS = ("email", "sms")
PARTY_STATUSES = ("waiting", "sent", "opened", "signed", "declined")

FIELD_TYPES = (
    "signature",
    "initials",
    "stamp",
    "date",
    "text",
    "number",
    "requisites",
    "checkbox",
)


class DocumentTraits:
    """What a document answers from its own values: shared by the model and the signing
    page's plain record of it (portal/signing/page_data.py)."""

    @property
    def is_draft(self) -> bool:
        return self.stage == "draft"

    def parties_with_role(self, role: str) -> list["Party"]:
        return [party for party in self.parties if party.role == role]


class Document(DocumentTraits, TimestampMixin, db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("company_id", "number", name="uq_documents_company_number"),
        Index("ix_documents_stage_updated", "stage", "updated_at"),
        # The board's refresh asks for documents changed since its last render.
        Index("ix_documents_updated_at", "updated_at"),
        # "Mine" boards and employees who see only the documents they are responsible for.
        Index("ix_documents_responsible_stage_updated", "responsible_id", "stage", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("document_templates.id"))
    counterparty_id: Mapped[int | None] = mapped_column(
        ForeignKey("counterparties.id", ondelete="SET NULL"), index=True
    )
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Language of the document's own texts (certificate page, messages to its parties).
    language: Mapped[str] = mapped_column(String(8), default="en")
    stage: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    stage_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The PDF to be signed; immutable once sent (its sha256 is the evidence of what was sent).
    source_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    # What was cut out of an uploaded PDF before it was kept (scripts, actions, attachments):
    # [{"kind", "detail", "count"}]; None or [] when the file was kept byte for byte.
    removed_content: Mapped[list | None] = mapped_column(JSON)
    # Template variables (place, date, items, vat rate...), kept to re-render a draft.
    variables: Mapped[dict] = mapped_column(JSON, default=dict)

    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stop_reason: Mapped[str] = mapped_column(Text, default="")

    final_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    # Sealing is retried; until it succeeds the last failure shows on the admin sealing page.
    seal_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seal_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    seal_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The next try is due then (a retry's backoff; None: the first try, or given up), and a
    # worker holds the sealing until its lease ends (None: nobody is sealing).
    seal_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seal_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Retention: a legal hold keeps the files and contacts whatever the company's periods say;
    # the moments the PDFs were deleted and the contacts masked (the digests above stay).
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    legal_hold_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    legal_hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    files_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    contacts_masked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Printed on every page and in the QR code; short, unguessable, unique.
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)

    parties: Mapped[list["Party"]] = relationship(
        back_populates="document",
        order_by="(Party.order, Party.id)",
        cascade="all, delete-orphan",
    )
    fields: Mapped[list["Field"]] = relationship(
        back_populates="document",
        order_by="(Field.page, Field.y, Field.x, Field.id)",
        cascade="all, delete-orphan",
    )
    company = relationship("Company")
    counterparty = relationship("Counterparty")
    template = relationship("DocumentTemplate")
    responsible = relationship("User", foreign_keys=[responsible_id])
    created_by = relationship("User", foreign_keys=[created_by_id])


class PartyTraits:
    """What a party answers from its own values (as DocumentTraits)."""

    @property
    def signs(self) -> bool:
        return self.role in SIGNING_ROLES

    @property
    def contact(self) -> str:
        return self.phone if self.channel == "sms" else self.email

    @property
    def audit_actor(self) -> tuple[str, int, str]:
        """Who did it, as the audit trail records it: (kind, id, label)."""
        return "party", self.id, f"{self.name} <{self.contact}>"

    @property
    def speaks(self) -> str:
        """The language of this party's page and of every message to it."""
        return self.language or self.document.language


# The board hides the approval column while nobody uses the approval step: a partial index
# answers "is there any approver?" without reading every party.
IS_APPROVER = "role = 'approver'"


class Party(PartyTraits, TimestampMixin, db.Model):
    __tablename__ = "parties"
    __table_args__ = (
        Index("ix_parties_approvers", "document_id", sqlite_where=text(IS_APPROVER),
              postgresql_where=text(IS_APPROVER)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    # Same order number = may sign in parallel; lower signs first.
    order: Mapped[int] = mapped_column(Integer, default=1)
    role: Mapped[str] = mapped_column(String(16))  # PARTY_ROLES
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | company
    name: Mapped[str] = mapped_column(String(200))  # the person who signs
    position: Mapped[str] = mapped_column(String(200), default="")
    organization: Mapped[str] = mapped_column(String(300), default="")  # for kind=company
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(8), default="email")  # CHANNELS
    # A company client may be asked for its stamp; a person never is.
    stamp_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Requisites as they were when the party was set (the record may change later).
    requisites: Mapped[dict] = mapped_column(JSON, default=dict)
    counterparty_id: Mapped[int | None] = mapped_column(
        ForeignKey("counterparties.id", ondelete="SET NULL")
    )

    status: Mapped[str] = mapped_column(String(16), default="waiting")  # PARTY_STATUSES
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The same token sealed (portal.secretbox): only the server can send the link again.
    link_sealed: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    # The signing ceremony: the agreement accepted, then a one-time code confirmed.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the latest codes went (ISO times, oldest first, at most the hourly limit): the
    # "so many an hour" rule reads them here, never from the audit trail.
    recent_code_sends: Mapped[list | None] = mapped_column(JSON)
    code_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Reminders (the sweep's and "Remind now"): how many, and the last one's moment. The
    # schedule and the once-an-hour rule read these, never the audit trail.
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language the signer picked on the signing page; None: the document's.
    language: Mapped[str | None] = mapped_column(String(8))

    document: Mapped[Document] = relationship(back_populates="parties")
    fields: Mapped[list["Field"]] = relationship(back_populates="party")



class Field(TimestampMixin, db.Model):
    """A box on a page, as fractions of the displayed page (top-left origin, after rotation)."""

    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int | None] = mapped_column(
        ForeignKey("parties.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))  # FIELD_TYPES
    page: Mapped[int] = mapped_column(Integer)  # 1-based
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    w: Mapped[float] = mapped_column(Float)
    h: Mapped[float] = mapped_column(Float)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[str] = mapped_column(Text, default="")
    value_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    document: Mapped[Document] = relationship(back_populates="fields")
    party: Mapped[Party | None] = relationship(back_populates="fields")


class NumberSequence(db.Model):
    """The last number used per company and scope (the pattern with everything but {seq})."""

    __tablename__ = "number_sequences"
    __table_args__ = (UniqueConstraint("company_id", "scope", name="uq_number_sequences_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(64))
    last_value: Mapped[int] = mapped_column(Integer, default=0)
