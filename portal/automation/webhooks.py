"""Signed webhook calls: the body, the signature header, the HTTP POST and the deliveries.

Every call carries `Signet-Signature: t=<unix time>,v1=<hex>` where v1 is
HMAC-SHA256(secret, "<t>." + body). A receiver recomputes it over the raw body and refuses
stale timestamps, so a captured call cannot be replayed later.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import retries, unit
from portal.audit.catalogue import PRIVATE_DETAILS
from portal.audit.models import AuditEvent
from portal.automation.models import WebhookDelivery, WebhookEndpoint
from portal.documents.models import Document, Party
from portal.documents.payloads import document_status, document_summary, iso, party_json, plain
from portal.extensions import db
from portal.jobs import app_job, enqueue

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Signet-Signature"
USER_AGENT = "Signet-Webhooks/1"
RESPONSE_EXCERPT = 500
WEBHOOK_QUEUE = "webhooks"


class WebhookFailed(Exception):
    """The receiver did not answer 2xx (or could not be reached)."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def is_valid_url(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 2000


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would replay the signed body to an address nobody configured.
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, secret: str, body: bytes, event_type: str, reference: str) -> tuple[int, str]:
    """POST the body signed with `secret`; (status, start of the answer), or WebhookFailed."""
    if not is_valid_url(url):
        raise WebhookFailed(f"Not an http(s) address: {url[:100]}")
    timestamp = int(time.time())
    # The scheme is checked above: only http(s) ever reaches urllib.
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Signet-Event": event_type,
        "Signet-Delivery": reference,
    }
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    timeout = current_app.config.get("SIGNET_WEBHOOK_TIMEOUT", 10)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, _excerpt(response.read(RESPONSE_EXCERPT + 1))
    except urllib.error.HTTPError as answer:
        raise WebhookFailed(f"HTTP {answer.code}: {_excerpt(answer.read(RESPONSE_EXCERPT + 1))}"
                            .strip().rstrip(":")) from answer
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise WebhookFailed(f"{type(error).__name__}: {reason}") from error


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text[:RESPONSE_EXCERPT] + ("…" if len(text) > RESPONSE_EXCERPT else "")


# --- the body ---------------------------------------------------------------------------------

def _absolute(path: str | None) -> str | None:
    return f"{current_app.config['SIGNET_BASE_URL']}{path}" if path else None


def document_payload(document: Document) -> dict:
    """What an integration needs to know about the document, links absolute."""
    base = current_app.config["SIGNET_BASE_URL"]
    with current_app.test_request_context("/", base_url=base):
        summary = document_summary(document)
        status = document_status(document)
    responsible = document.responsible
    summary["links"] = {name: _absolute(path) for name, path in summary["links"].items()}
    summary["links"]["page"] = f"{base}/documents/{document.id}"
    return summary | {
        "language": document.language,
        "template_id": document.template_id,
        "responsible": {"id": responsible.id, "name": responsible.name,
                        "email": responsible.email} if responsible else None,
        "verification_code": document.verification_code,
        "final_sha256": document.final_sha256,
        "variables": plain(document.variables or {}),
        "parties": status["parties"],
    }


def event_payload(event: AuditEvent, document: Document, extra: dict | None = None) -> dict:
    details = {key: value for key, value in (event.details or {}).items()
               if key not in PRIVATE_DETAILS}
    party = _party_of(event)
    payload = {
        "id": f"evt_{event.id}",
        "type": event.type,
        "created_at": iso(event.created_at),
        "actor": {"type": event.actor_type, "label": event.actor_label},
        "details": plain(details),
        "party": party_json(party) if party is not None else None,
        "document": document_payload(document),
    }
    return payload | (extra or {})


def _party_of(event: AuditEvent) -> Party | None:
    party_id = (event.details or {}).get("party_id")
    if party_id is None and event.actor_type == "party":
        party_id = event.actor_id
    party = db.session.get(Party, party_id) if isinstance(party_id, int) else None
    return party if party is not None and party.document_id == event.document_id else None


def encode(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --- endpoints: every event they asked for ------------------------------------------------------

def endpoints_for(event_type: str) -> list[WebhookEndpoint]:
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)).all()
    return [endpoint for endpoint in endpoints
            if not endpoint.events or event_type in endpoint.events]


def fan_out(event: AuditEvent, document: Document) -> list[int]:
    """One delivery per subscribed endpoint, committed; their ids (sent by the caller)."""
    endpoints = endpoints_for(event.type)
    if not endpoints:
        return []
    already = set(db.session.scalars(
        select(WebhookDelivery.endpoint_id).where(WebhookDelivery.event_id == event.id,
                                                  WebhookDelivery.resent_from_id.is_(None))))
    body = encode(event_payload(event, document))
    deliveries = [WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                                  document_id=document.id, event_type=event.type, payload=body)
                  for endpoint in endpoints if endpoint.id not in already]
    db.session.add_all(deliveries)
    try:
        unit.commit()
    except IntegrityError:  # the same event fanned out by a concurrent job: theirs stand
        unit.rollback()
        return []
    return [delivery.id for delivery in deliveries]


def send_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        enqueue(deliver_webhook, delivery_id, queue=WEBHOOK_QUEUE)


@app_job
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt at one delivery; on failure the next is booked, or it is marked failed."""
    if not retries.claim(WebhookDelivery, delivery_id):
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    endpoint = delivery.endpoint
    url, secret, body, event_type = endpoint.url, endpoint.secret, delivery.payload, \
        delivery.event_type
    unit.commit()  # no transaction held open across the HTTP call
    try:
        status, answer = post(url, secret, body.encode(), event_type, f"whd_{delivery_id}")
    except WebhookFailed as failure:
        code = _status_in(str(failure))
        delay = retries.fail(WebhookDelivery, delivery_id, str(failure), response_status=code)
        log.warning("Webhook delivery %s to %s failed: %s", delivery_id, url, failure)
        if delay is not None:
            retries.book(deliver_webhook, delivery_id, delay, WEBHOOK_QUEUE, "signet-webhook")
        return None
    retries.succeed(WebhookDelivery, delivery_id, answer, response_status=status)
    return answer


def _status_in(error: str) -> int | None:
    if error.startswith("HTTP "):
        code = error[5:8]
        return int(code) if code.isdigit() else None
    return None


def send_again(delivery_id: int) -> WebhookDelivery:
    """A new delivery of the same body to the same endpoint (signed afresh when it goes)."""
    original = db.session.get(WebhookDelivery, delivery_id)
    copy = WebhookDelivery(endpoint_id=original.endpoint_id, event_id=original.event_id,
                           document_id=original.document_id, event_type=original.event_type,
                           payload=original.payload, resent_from_id=original.id)
    db.session.add(copy)
    unit.commit()
    send_deliveries([copy.id])
    return copy
