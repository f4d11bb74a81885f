"""Public links through the API: publish a template as a link (pre-signed or not), list them."""

from datetime import UTC, datetime

from flask import url_for
from flask_babel import gettext as _

from portal.api.auth import api_user
from portal.api.blueprint import bp
from portal.api.documents import _items
from portal.api.errors import ApiError
from portal.api.meta import api_meta
from portal.api.parsing import Reader, json_object
from portal.extensions import db
from portal.links import presign, services
from portal.links.models import LINK_CHANNELS, MAX_DOMAINS, PublicLink


def _require_publisher() -> None:
    if not services.may_publish(api_user()):
        raise ApiError(403)


@bp.get("/v1/links")
def links():
    """The public links the token's user may manage, newest first."""
    _require_publisher()
    return {"items": [services.link_json(link) for link in services.links_of(api_user())]}


def _moment(reader: Reader, name: str) -> datetime | None:
    raw = reader.data.get(name)
    if raw in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        reader.fail(name, _("Must be a date and time in ISO 8601 (2026-12-31T18:00:00Z)."))
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _domains(reader: Reader) -> list:
    raw = reader.data.get("allowed_domains")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_DOMAINS \
            or not all(isinstance(item, str) for item in raw):
        reader.fail("allowed_domains", _("Must be a list of at most %(max)d domains.",
                                         max=MAX_DOMAINS))
        return []
    return raw


def _flag(reader: Reader, name: str) -> bool:
    raw = reader.data.get(name, False)
    if not isinstance(raw, bool):
        reader.fail(name, _("Must be true or false."))
        return False
    return raw


@bp.post("/v1/links")
def publish_link():
    """Publish a template as a public link; the answer carries its URL."""
    _require_publisher()
    reader = Reader(json_object())
    values = {
        "template_id": reader.integer("template_id", required=True),
        "company_id": reader.integer("company_id", required=True),
        "title": reader.text("title", max_length=300) or "",
        "channel": reader.choice("channel", list(LINK_CHANNELS)) or "email",
        "expires_at": _moment(reader, "expires_at"),
        "max_uses": reader.integer("max_uses"),
        "allowed_domains": _domains(reader),
        "per_address_limit": reader.integer("per_address_limit") or 3,
        "presigned": _flag(reader, "presigned"),
        # What every document says besides the client, as POST /v1/documents takes it.
        "values": {"place": reader.text("place", max_length=200) or "",
                   "items": _items(reader) or [],
                   "vat_rate": reader.decimal("vat_rate", maximum=100),
                   "currency": reader.text("currency", max_length=3) or ""},
    }
    reader.check()
    link, _not_asked = presign.publish(api_user(), api_meta(), **values)
    link = db.session.get(PublicLink, link.id)
    return services.link_json(link), 201, {"Location": url_for("api.links")}
