"""Delivery backends. One interface: `send(message) -> provider_id | None`; failures raise."""

import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote, quote_plus, urlsplit

from flask import current_app

from portal.models_base import utcnow
from portal.storage import read

SMTP_TIMEOUT = 15  # seconds; SMTP_TIMEOUT in the config overrides it
GATEWAY_ANSWER_LIMIT = 64 * 1024
PLACEHOLDER = re.compile(r"\{(to|text|key)\}")


class DeliveryError(Exception):
    """The provider refused or could not be reached; the message says why, without secrets."""


class OutboxBackend:
    """Delivers nowhere: the message is readable in the outbox viewer (the embedded default)."""

    name = "outbox"

    def send(self, message) -> str | None:
        return None


class SMTPBackend:
    """Email over SMTP: plain text with an HTML alternative."""

    name = "smtp"

    def send(self, message) -> str | None:
        config = current_app.config
        email = build_email(message, config["SIGNET_MAIL_FROM"])
        with _smtp_connection(config) as smtp:
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            smtp.send_message(email)
        return email["Message-ID"]


def build_email(message, sender: str) -> EmailMessage:
    """The MIME message for an outbox row; non-ASCII headers are encoded by the policy."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = message.recipient
    email["Date"] = format_datetime(utcnow())
    # The one Message-ID the message got when it was queued, the same on every try: a receiver
    # can drop the copy a lost reply leads to. (Rows from before it was stored get a new one.)
    email["Message-ID"] = getattr(message, "message_id", "") or make_msgid(
        domain=_sender_domain(sender))
    email.set_content(message.body_text or "")
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    for attachment in message.attachments or ():
        _attach(email, attachment)
    return email


def new_message_id() -> str:
    """A Message-ID for a message being queued, in the domain of SIGNET_MAIL_FROM."""
    return make_msgid(domain=_sender_domain(current_app.config.get("SIGNET_MAIL_FROM") or ""))


def idempotency_key(message_id: str) -> str:
    """The SMS gateway's Idempotency-Key for a message: its Message-ID without the brackets."""
    return (message_id or "").strip().strip("<>")


def _attach(email: EmailMessage, attachment: dict) -> None:

    maintype, _slash, subtype = (attachment.get("content_type") or "").partition("/")
    email.add_attachment(read(attachment["sha256"]), maintype=maintype or "application",
                         subtype=subtype or "octet-stream", filename=attachment["filename"])


def _sender_domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else "localhost"


def _smtp_connection(config) -> smtplib.SMTP:
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25)
    timeout = config.get("SMTP_TIMEOUT", SMTP_TIMEOUT)
    security = (config.get("SMTP_SECURITY") or "none").lower()
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if security == "starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except Exception:
            smtp.close()
            raise
    return smtp


class SMSGatewayBackend:
    """Texts through a provider's HTTP API, shaped by the SMS_GATEWAY_* settings."""

    name = "sms-gateway"

    def send(self, message) -> str | None:
        config = current_app.config
        request = gateway_request(config, message.recipient, message.body_text,
                                  key=idempotency_key(getattr(message, "message_id", "")))
        try:
            timeout = config.get("SMS_GATEWAY_TIMEOUT", 15)
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                status = answer.status
                body = answer.read(GATEWAY_ANSWER_LIMIT)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode("utf-8", "replace").strip()
            raise DeliveryError(f"SMS gateway answered {error.code}: {detail}".strip()) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"SMS gateway unreachable: {reason}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"SMS gateway answered {status}")
        return provider_id_from(body)


def gateway_request(config, to: str, text: str, key: str = "") -> urllib.request.Request:
    """The HTTP request for one text: {to}, {text} and {key} filled into the URL and the body.

    `key`, the same for every try of one message, goes in an Idempotency-Key header (and
    wherever the body or URL template says {key}), so a gateway that honours it sends a
    retried text once.
    """
    method = (config.get("SMS_GATEWAY_METHOD") or "POST").upper()
    content_type = config.get("SMS_GATEWAY_CONTENT_TYPE") or "application/json"
    url = fill_placeholders(config["SMS_GATEWAY_URL"], to, text, quote, key=key)
    if urlsplit(url).scheme not in {"http", "https"}:
        raise DeliveryError("SMS_GATEWAY_URL must start with http:// or https://")
    data = None
    headers = {"User-Agent": "Signet"}
    if method not in {"GET", "HEAD"}:
        data = fill_placeholders(
            config.get("SMS_GATEWAY_BODY") or "", to, text, escaper_for(content_type), key=key
        ).encode("utf-8")
        headers["Content-Type"] = content_type
    if key:
        headers["Idempotency-Key"] = key
    header = config.get("SMS_GATEWAY_AUTH_HEADER") or ""
    if ":" in header:
        name, value = header.split(":", 1)
        headers[name.strip()] = value.strip()
    # The scheme is checked above: only http(s), never file: or custom ones.
    return urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310


def fill_placeholders(template: str, to: str, text: str, escape, key: str = "") -> str:
    """One pass, so a text that itself contains "{to}" stays as typed."""
    values = {"to": escape(to), "text": escape(text), "key": escape(key)}
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def escaper_for(content_type: str):
    """How a value must be escaped inside a body of this content type."""
    if "json" in content_type:
        # The template carries the quotes: "{text}" -> "line one\nline \"two\"".
        return lambda value: json.dumps(value, ensure_ascii=False)[1:-1]
    if "x-www-form-urlencoded" in content_type:
        return quote_plus
    return str


def provider_id_from(body: bytes) -> str | None:
    """The gateway's id for the text, from a JSON answer's "id" when there is one."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(answer, dict) and answer.get("id") not in (None, ""):
        return str(answer["id"])[:200]
    return None


OUTBOX = OutboxBackend()
SMTP = SMTPBackend()
SMS_GATEWAY = SMSGatewayBackend()


SERVER_SETTING = {"email": "SMTP_HOST", "sms": "SMS_GATEWAY_URL"}


def has_server(channel: str) -> bool:
    """Whether a real server delivers this channel (else its messages stay in the outbox)."""
    return bool(current_app.config.get(SERVER_SETTING.get(channel, "")))


def backend_for(message):
    """The configured backend for the message's channel; the outbox when none is set up."""
    if message.channel not in SERVER_SETTING:
        raise DeliveryError(f"unknown channel {message.channel!r}")
    if not has_server(message.channel):
        return OUTBOX
    return SMTP if message.channel == "email" else SMS_GATEWAY
