"""Every API failure as JSON: {"error": {"code", "message", "fields"?}} with its status."""

from flask import current_app, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from portal import unit
from portal.errors import DomainError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


def default_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Send a valid API token: Authorization: Bearer <token>."),
        403: _("Your account may not do this."),
        404: _("Not found, or not visible to you."),
        405: _("This method is not allowed here."),
        409: _("The document's state does not allow this."),
        413: _("The upload is larger than this portal accepts."),
        415: _("Send JSON (Content-Type: application/json)."),
        422: _("Some values are not valid."),
        429: _("Too many requests. Wait a minute and try again."),
    }
    return messages.get(status, _("Something went wrong. Nothing was changed; please try again."))


class ApiError(Exception):
    """A refusal raised by the API layer itself (bad JSON, invalid values...)."""

    def __init__(self, status: int, message: str | None = None, fields: dict | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message or default_message(status)
        self.fields = fields or None
        self.code = code or CODES.get(status, "error")


def invalid(fields: dict[str, str], message: str | None = None) -> ApiError:
    """A 422 naming each invalid field."""
    return ApiError(422, message or next(iter(fields.values())), fields)


def error_response(status: int, message: str | None = None, fields: dict | None = None,
                   code: str | None = None, headers: dict | None = None):
    body = {"code": code or CODES.get(status, "error"),
            "message": message or default_message(status)}
    if fields:
        body["fields"] = {name: str(text) for name, text in fields.items()}
    response = jsonify({"error": body})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="signet"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_path(name: str) -> str:
    """A service's form-style field name as the JSON path the API takes it at:
    "items.0.price" -> "items[0].price", "client_email" -> "client.email"."""
    if name.startswith("client_"):
        return "client." + name.removeprefix("client_")
    head, dot, rest = name.partition(".")
    index, dot2, field = rest.partition(".")
    if head == "items" and dot and index.isdigit():
        return f"items[{index}]" + (f".{field}" if dot2 else "")
    return name


def _domain_fields(error: DomainError) -> dict | None:
    # Services name the offending field in different ways: a dict of messages, or one name.
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict):
        # An unnamed ("") entry is the overall message, already in "message".
        return {json_path(str(name)): text for name, text in errors.items() if name} or None
    field = getattr(error, "field", None)
    if isinstance(field, str) and field:
        return {field: error.message}
    return None


def _domain_status(error: DomainError) -> int:
    # Some form-oriented refusals carry 200 (htmx swaps only 2xx): for the API they are 422.
    return error.status if 400 <= (error.status or 0) < 600 else 422


def register(bp) -> None:
    """Install the JSON error handlers on the API blueprint."""

    @bp.errorhandler(ApiError)
    def api_error(error: ApiError):
        unit.rollback()
        return error_response(error.status, error.message, error.fields, error.code)

    @bp.errorhandler(DomainError)
    def domain_error(error: DomainError):
        unit.rollback()
        return error_response(_domain_status(error), str(error.message), _domain_fields(error))

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        headers = {}
        if status == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        if status == 429:
            headers["Retry-After"] = "60"
        # Werkzeug's own descriptions are English boilerplate; ours are translated.
        return error_response(status, default_message(status), headers=headers)

    @bp.errorhandler(Exception)
    def unexpected_error(error: Exception):
        current_app.logger.exception("Unhandled API error")
        unit.rollback()
        return error_response(500)
