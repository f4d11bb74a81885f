"""The /api blueprint: token authentication, rate limit, JSON errors, the OpenAPI document."""

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal.api import auth, errors
from portal.api.openapi import build_spec
from portal.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api")

# Only the Authorization header authenticates here, never the session cookie, so a forged
# cross-site request cannot act for anyone: CSRF tokens would add nothing.
csrf.exempt(bp)
# One budget per token across every endpoint (not one per endpoint).
limiter.shared_limit(auth.rate_limit, scope="api", key_func=auth.rate_limit_key)(bp)
errors.register(bp)

# Reachable without a token: the description of the API and the JSON "no such route".
PUBLIC_ENDPOINTS = {"api.openapi", "api.no_such_route"}
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@bp.before_request
def require_token():
    """Every endpoint but the public ones needs a live token."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        auth.authenticate()


@bp.get("/v1/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return build_spec(current_app.config["SIGNET_BASE_URL"])


@bp.route("/", defaults={"rest": ""}, methods=ALL_METHODS, strict_slashes=False)
@bp.route("/<path:rest>", methods=ALL_METHODS)
def no_such_route(rest: str):
    """Anything else under /api: a JSON 404 or 405, never an HTML page."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:  # no match, wrong method, or a redirect
            continue
        if endpoint != "api.no_such_route":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()
