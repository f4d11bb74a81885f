"""The public verify page: upload a PDF and/or type its code, get one verdict and the evidence.

No login. The same URLs answer JSON to `Accept: application/json`, so scripts can check files.
"""

import time

from cryptography.hazmat.primitives import hashes, serialization
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from portal.documents.display import format_moment
from portal.extensions import csrf, limiter
from portal.pdfs.findings import describe
from portal.sealing.store import portal_certificates, trust_roots
from portal.verify.registry import MAX_CODE_LENGTH, UploadTooLarge, read_upload_safely
from portal.verify.report import build_report
from portal.verify.verdicts import CODE_UNKNOWN, PROBLEM_BUSY

bp = Blueprint("verify", __name__, url_prefix="/verify")

# A very long file name says nothing more to the reader and only stretches the page.
MAX_SHOWN_NAME = 120
# A file may carry thousands of signatures; the page lists the first ones and counts the rest.
MAX_LISTED_SIGNATURES = 20

ROLE_LABELS = {
    "company": _l("Company signer"),
    "client": _l("Client"),
    "approver": _l("Approver"),
}
CHANGE_LABELS = {
    "pages": _l("pages were added or removed"),
    "annotations": _l("comments, drawings or stamps were added"),
    "form": _l("form fields were filled in"),
    "other": _l("other content was changed or appended"),
}
# pyHanko's judgement of what followed a signature (only shown when something did).
MODIFICATION_LABELS = {
    "NONE": _l("data that does not change the content"),
    "LTA_UPDATES": _l("validation data for long-term checking only"),
    "FORM_FILLING": _l("form filling"),
    "ANNOTATIONS": _l("comments, drawings or form filling"),
    "OTHER": _l("changes not allowed after signing"),
}


def _verify_limit() -> str:
    return current_app.config.get("SIGNET_VERIFY_LIMIT", "20 per minute;200 per day")


def _is_blank_form() -> bool:
    # Opening the empty form costs nothing; every check (a file or a code lookup) counts.
    return request.method == "GET" and not request.args.get("code", "").strip()


def _too_many_checks(request_limit) -> Response:
    wait = max(int(request_limit.reset_at - time.time()), 1)
    message = _("You have checked many documents in a short time. Wait %(wait)s and try "
                "again.", wait=format_timedelta(wait, threshold=1.0))
    if _wants_json():
        response = jsonify({"error": message})
    else:
        response = Response(render_template("verify/index.html", message=message,
                                            **_page_context()))
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


# One budget per address for lookups by code and uploads alike.
_verify_rate = limiter.shared_limit(_verify_limit, scope="verify", exempt_when=_is_blank_form,
                                    on_breach=_too_many_checks)


@bp.after_request
def keep_out_of_caches(response):
    # Answers name documents and parties: no shared cache may keep them; one URL, two formats.
    response.headers.setdefault("Cache-Control", "no-store")
    response.vary.add("Accept")
    return response


@bp.context_processor
def verify_helpers():
    return {"moment": format_moment, "file_size": _file_size, "ca_fingerprint": _ca_fingerprint,
            "role_labels": ROLE_LABELS, "change_labels": CHANGE_LABELS,
            "modification_labels": MODIFICATION_LABELS,
            "max_listed_signatures": MAX_LISTED_SIGNATURES}


@bp.get("")
@_verify_rate
def page():
    """The form; with ?code= (the QR code on the certificate page) the document it names."""
    code = request.args.get("code", "").strip()
    if not code:
        if _wants_json():
            return _refusal(_("Send a PDF as the form field \"file\", or a verification code."),
                            400)
        return render_template("verify/index.html", **_page_context())
    return _code_answer(code)


# The check changes nothing and keeps nothing, and scripts must be able to run it with a plain
# `curl -F file=@x.pdf` and no session: a forged cross-site post could only make a browser check
# a file, so a CSRF token would protect nothing here.
@bp.post("")
@csrf.exempt
@_verify_rate
def check():
    """Check an uploaded PDF (and the code typed beside it) and show the verdict."""
    code = request.form.get("code", "").strip()
    upload = request.files.get("file")
    try:
        # Not `if upload`: a FileStorage without a file name is falsy, yet may carry bytes.
        data = read_upload_safely(upload.stream, _upload_limit()) if upload is not None else None
    except UploadTooLarge as refused:
        return _refusal(refused.message, 413, code=code)
    if upload is not None and not upload.filename and not data:
        data = None  # the browser sent the form with no file chosen
    if data is None:
        if code:
            return _code_answer(code)
        return _refusal(_("Choose a PDF file or enter the verification code."), 400)
    return _file_answer(data, upload.filename or "", code)


@bp.errorhandler(RequestEntityTooLarge)
def request_too_large(_error):
    """A request over MAX_CONTENT_LENGTH, refused before its form could be read."""
    return _refusal(_too_large_message(), 413)


@bp.errorhandler(BadRequest)
def bad_request(_error):
    """A malformed upload (broken multipart, NUL characters): the form again, or JSON."""
    return _refusal(_("The request could not be read. Choose the file again and send the "
                      "form."), 400)


@bp.get("/ca.pem")
def ca_pem():
    """Every certificate authority this portal has sealed with, for PDF readers to trust."""
    pem = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in trust_roots())
    return _certificate_download(pem, "application/x-pem-file", "signet-ca.pem")


@bp.get("/ca.cer")
def ca_cer():
    """The current certificate authority in DER form (what Windows and Adobe import)."""
    der = portal_certificates().ca_cert.public_bytes(serialization.Encoding.DER)
    return _certificate_download(der, "application/pkix-cert", "signet-ca.cer")


# --- answers -------------------------------------------------------------------------------

def _code_answer(code: str):
    """What a code names: the issued document's summary, and a request for the file."""
    report = build_report(None, code=code)
    status = 404 if report.code_status == CODE_UNKNOWN else 200
    if _wants_json():
        return jsonify(report.as_json()), status
    if report.code_document is not None:
        code = report.code_document.verification_code  # as issued, however it was typed
    return render_template("verify/index.html", report=report,
                           **_page_context(code=code)), status


def _file_answer(data: bytes, filename: str, code: str):
    report = build_report(data, code=code or None)
    # Every checker slot was taken: nothing is wrong with the file, so say "later" (503).
    status = 503 if report.problem_code == PROBLEM_BUSY else 200
    if _wants_json():
        response = jsonify(report.as_json())
    else:
        response = Response(render_template("verify/result.html", report=report,
                                            filename=_shown_name(filename),
                                            active_lines=describe(report.active_content),
                                            **_page_context(code=code)))
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "60"
    return response


def _refusal(message: str, status: int, code: str = ""):
    """A request we cannot check: the form again with the reason (JSON: an invalid verdict)."""
    if _wants_json():
        return jsonify({"verdict": "invalid", "problem": message}), status
    return render_template("verify/index.html", message=message,
                           **_page_context(code=code)), status


def _certificate_download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- helpers -------------------------------------------------------------------------------

def _wants_json() -> bool:
    # HTML wins ties (a browser, or curl's */*); JSON when the client names it.
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) \
        == "application/json"


def _page_context(code: str = "") -> dict:
    return {"code": code[:MAX_CODE_LENGTH], "max_code_length": MAX_CODE_LENGTH,
            "max_upload_bytes": _upload_limit(), "max_upload_text": _size_text(_upload_limit())}


def _upload_limit() -> int:
    return current_app.config["SIGNET_UPLOAD_MAX_BYTES"]


def _too_large_message() -> str:
    limit = min(_upload_limit(), current_app.config.get("MAX_CONTENT_LENGTH") or _upload_limit())
    return _("The file is larger than %(limit)s. Upload the PDF you received, not a scan "
             "or an archive.", limit=_size_text(limit))


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(size // 1024, 1)} KB"


def _file_size(size: int) -> str:
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    return _size_text(size) if size >= 1024 * 1024 else f"{size / 1024:.3g} KB"


def _ca_fingerprint() -> str:
    """The current CA's SHA-256 fingerprint, to compare with what a reader imported."""
    digest = portal_certificates().ca_cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _shown_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name if len(name) <= MAX_SHOWN_NAME else name[:MAX_SHOWN_NAME - 1] + "…"
