"""A published template (a public link) and each visitor's submission through it.

A link is found by the sha256 of its token; the token itself is kept sealed (secretbox) so
that its page can show the URL and QR code again. A submission is a visitor's details and their
one-time code; once the code is confirmed it holds the document made for them.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from portal.extensions import db
from portal.models_base import TimestampMixin, UTCDateTime

LINK_CHANNELS = ("email", "sms")
MAX_DOMAINS = 50


class PublicLink(TimestampMixin, db.Model):
    __tablename__ = "public_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("document_templates.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[str] = mapped_column(Text, default="")
    # How visitors confirm who they are: a code by email or by SMS.
    channel: Mapped[str] = mapped_column(String(8), default="email")  # LINK_CHANNELS
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    max_uses: Mapped[int | None] = mapped_column(Integer)
    # Documents made through the link; raised only by a conditional update (see services).
    uses: Mapped[int] = mapped_column(Integer, default=0)
    # Email domains a visitor's address must be in (empty: any).
    allowed_domains: Mapped[list] = mapped_column(JSON, default=list)
    # Submissions one address may start per day on this link.
    per_address_limit: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Pre-signed (offers): our company's signer signs once for the link and every document
    # it makes carries that signature; the link takes visitors only while a signature holds.
    presigned: Mapped[bool] = mapped_column(Boolean, default=False)
    # What every document it makes says besides the client: place, items, VAT rate, currency,
    # as Document.variables keeps them (documents.services.create.document_values).
    document_values: Mapped[dict] = mapped_column(JSON, default=dict)

    template = relationship("DocumentTemplate")
    company = relationship("Company")
    created_by = relationship("User")

    # Whose link it is, as permissions.can and visible read an owned object: the documents it
    # makes are theirs, so the documents' scopes apply.
    responsible_id: Mapped[int] = synonym("created_by_id")
    responsible = synonym("created_by")

    def used_up(self) -> bool:
        return self.max_uses is not None and self.uses >= self.max_uses


class PublicLinkSubmission(TimestampMixin, db.Model):
    __tablename__ = "public_link_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("public_links.id", ondelete="CASCADE"), index=True)
    # The visitor's browser holds the raw key (a cookie on the link's path); we keep its hash.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The client as typed (kind, name, representative, email, phone), cleaned.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # The confirmed address: an email or an E.164 phone (the per-address limit counts it).
    contact: Mapped[str] = mapped_column(String(254), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recent_code_sends: Mapped[list] = mapped_column(JSON, default=list)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")

    link = relationship("PublicLink")


class PublicLinkPresign(TimestampMixin, db.Model):
    """Our company's signer signing once for a link: the invitation, the evidence, the images.

    The code's columns are named as a party's, so the signing's code rules (`signing.codes`,
    the resend limits) read them alike. A revoked or replaced one is kept as history."""

    __tablename__ = "public_link_presigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("public_links.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # The signer's invitation link /p/sign/<token>; the token's sha256.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(8), default="email")  # LINK_CHANNELS
    language: Mapped[str] = mapped_column(String(8), default="en")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreement_sha256: Mapped[str] = mapped_column(String(64), default="")
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recent_code_sends: Mapped[list] = mapped_column(JSON, default=list)
    code_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The public tag of the browser session the confirmed code opened (signing.ceremony).
    session_tag: Mapped[str] = mapped_column(String(32), default="")
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_method: Mapped[str] = mapped_column(String(16), default="")
    stamp_sha256: Mapped[str | None] = mapped_column(String(64))
    stamp_method: Mapped[str] = mapped_column(String(16), default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    link = relationship("PublicLink")

    @property
    def contact(self) -> str:
        return self.phone if self.channel == "sms" else self.email

    @property
    def speaks(self) -> str:
        return self.language
