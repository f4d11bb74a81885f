"""The registry of stored files."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import TimestampMixin


class Blob(TimestampMixin, db.Model):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
