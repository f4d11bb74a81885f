"""A signing bundle: one link and one ceremony in which our company's signer signs a bulk
batch's documents at once (portal/signing/bundles.py).

The bundle carries the ceremony's own consent and one-time code (the same columns and limits
as a party's, portal/signing/codes.py); each document's party still records its own signing.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models_base import TimestampMixin, UTCDateTime

# A bundle takes documents until it is closed (used up, expired, or fallen back to inviting
# one by one); at most one open bundle per batch and signer contact, whoever races to open it.
OPEN_BUNDLE = "closed_at IS NULL"


class SigningBundle(TimestampMixin, db.Model):
    __tablename__ = "signing_bundles"
    __table_args__ = (
        Index("uq_signing_bundles_open", "batch_id", "channel", "email", "phone", unique=True,
              sqlite_where=text(OPEN_BUNDLE), postgresql_where=text(OPEN_BUNDLE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("bulk_batches.id", ondelete="CASCADE"), index=True)
    # Who signs: the company party's name and contact, the same on every document it covers.
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(8), default="email")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The link's token, hashed (portal/tokens.py); none until the invitation goes out.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The same token sealed, so a reminder repeats the link (portal/secretbox.py).
    link_sealed: Mapped[str | None] = mapped_column(Text)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invitation_message_id: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When no document was left to sign in it: the link then only says so.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The ceremony, as on a party (one consent and one code for every document).
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recent_code_sends: Mapped[list | None] = mapped_column(JSON)
    code_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The message of the last code, for each document's trail.
    code_message_id: Mapped[int | None] = mapped_column(Integer)
    # When it stopped taking documents (a later one opens a new bundle).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why its one invitation could not go and its documents were invited one by one
    # (bundles.FALLBACK_REASONS); empty while it could.
    fallback_reason: Mapped[str] = mapped_column(String(16), default="")
    # Reminders of the one invitation (the same cadence as a party's, sweep/reminders.py).
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)

    members: Mapped[list["SigningBundleParty"]] = relationship(
        back_populates="bundle", cascade="all, delete-orphan",
        order_by="SigningBundleParty.id")

    @property
    def code_key(self) -> str:
        """Salts its code's hash apart from any party's (portal/signing/codes.py)."""
        return f"bundle-{self.id}"

    @property
    def contact(self) -> str:
        return self.phone if self.channel == "sms" else self.email

    @property
    def speaks(self) -> str:
        return self.language or "en"


class SigningBundleParty(db.Model):
    """One document's company party in a bundle (a party is in one bundle at most)."""

    __tablename__ = "signing_bundle_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(
        ForeignKey("signing_bundles.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(
        ForeignKey("parties.id", ondelete="CASCADE"), unique=True)

    bundle: Mapped[SigningBundle] = relationship(back_populates="members")
    party = relationship("Party")
