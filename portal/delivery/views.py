"""The outbox viewer: every message the portal queued, its status, and "send again"."""

import re

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from portal.auth.permissions import require
from portal.delivery.labels import kind_label
from portal.delivery.models import STATUSES
from portal.delivery.redaction import MASK
from portal.delivery.services import (
    channels_without_server,
    document_of,
    get_message,
    list_messages,
    resend,
    resend_refusal,
    shown,
    status_counts,
)
from portal.htmx import is_htmx, vary_on_htmx

bp = Blueprint("outbox", __name__)


@bp.context_processor
def message_kinds():
    return {"kind_label": kind_label}

# The HTML body is somebody's email, not our page: no scripts, no requests, its own origin.
HTML_BODY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)
LINK = re.compile(r"https?://[^\s<>\"']+")


@bp.get("/outbox")
@require("edit", "settings")
def index():
    """List messages, newest first, filtered by status."""
    status = request.args.get("status")
    status = status if status in STATUSES else None
    page = list_messages(status, request.args.get("page", 1, type=int))
    template = "delivery/_list.html" if is_htmx() else "delivery/index.html"
    body = render_template(template, page=page, status=status, counts=status_counts(),
                           shown={message.id: shown(message) for message in page.items},
                           unconfigured=channels_without_server())
    return vary_on_htmx(make_response(body))


@bp.get("/outbox/<int:message_id>")
@require("edit", "settings")
def detail(message_id: int):
    """One message: its headers, the text body, the HTML body in a sandboxed frame."""
    message = get_message(message_id)
    copy = shown(message)
    refusal = resend_refusal(message)
    return render_template(
        "delivery/detail.html", message=message, copy=copy, text_body=linkify(copy.body_text),
        masked=MASK in copy.subject + copy.body_text + copy.body_html, refusal=refusal,
        document_id=document_of(message) if refusal else None,
    )


@bp.get("/outbox/<int:message_id>/html")
@require("edit", "settings")
def html_body(message_id: int):
    """The HTML body on its own, under a policy that forbids scripts and remote content."""
    response = make_response(shown(get_message(message_id)).body_html or "")
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = HTML_BODY_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/outbox/<int:message_id>/resend")
@require("edit", "settings")
def send_again(message_id: int):
    """Queue the message again and say what happened."""
    message = resend(message_id, current_user)
    if message.status == "sent":
        flash(_("The message was sent again."), "success")
    elif message.status == "failed":
        flash(_("Sending failed again: %(error)s", error=message.last_error), "error")
    elif message.status == "retrying":
        flash(_("Sending failed: %(error)s. It is tried again automatically.",
                error=message.last_error), "error")
    else:
        flash(_("The message is queued and will be sent shortly."), "info")
    return redirect(url_for("outbox.detail", message_id=message.id))


def linkify(text: str) -> Markup:
    """Escape the text and make its web addresses clickable (invitation links, mostly)."""
    pieces, last = [], 0
    for match in LINK.finditer(text or ""):
        url = match.group(0).rstrip(".,;:!?)")
        if MASK in url:  # a masked link leads nowhere: shown, not linked
            continue
        pieces.append(escape(text[last:match.start()]))
        pieces.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url))
        last = match.start() + len(url)
    pieces.append(escape((text or "")[last:]))
    return Markup("").join(pieces)
