"""Document templates."""

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import TimestampMixin

# The kind gives the {type} part of document numbers (ACT-2026-00001).
TEMPLATE_KINDS = {"act": "ACT", "invoice": "INV", "contract": "CON", "other": "DOC"}


class DocumentTemplate(TimestampMixin, db.Model):
    __tablename__ = "document_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="other")  # TEMPLATE_KINDS
    language: Mapped[str] = mapped_column(String(8), default="en")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Default fields for documents made from it: [{"role", "type", "page", "x", "y", "w", "h",
    # "required", "label"}, ...] with role one of PARTY_ROLES.
    default_layout: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Shipped templates are identified by a key so a later seed can update, not duplicate.
    builtin_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
