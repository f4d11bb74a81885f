"""Signet: a self-hosted e-signature portal."""

import os
import threading
from pathlib import Path

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal import ratelimits, sandbox
from portal.config import REPO_ROOT, build_config, instance_path
from portal.models_base import DATABASE_INT_MAX


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides the environment (tests use it)."""
    config = dict(config or {})
    folder = Path(config.pop("INSTANCE_PATH", None) or instance_path())
    folder.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=str(folder),
        template_folder=str(REPO_ROOT / "templates"),
        static_folder=str(REPO_ROOT / "static"),
    )
    app.config.update(build_config(folder))
    app.config.update(config)
    app.config.setdefault("RATELIMIT_STORAGE_URI",
                          app.config["REDIS_URL"] or f"{ratelimits.SCHEME}://")
    # Redis away must not take the site down: count per process meanwhile, and give up on a
    # dead server fast rather than hang each request.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          {"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
    # Explicit per app: the shared Limiter would otherwise keep the last app's on/off switch.
    app.config.setdefault("RATELIMIT_ENABLED", True)

    # Before any route exists: ids beyond a database integer must be a 404, not a 500.
    app.url_map.converters["int"] = DatabaseId
    _init_extensions(app)
    _register_blueprints(app)
    _harden(app)
    _start_sandbox_with_first_request(app)
    return app


def _start_sandbox_with_first_request(app: Flask) -> None:
    """The sandbox's forkserver imports PDFium, pyHanko and xhtml2pdf (seconds): begin early.

    Not in tests, which start it when they first need it.
    """
    if app.testing:
        return
    started_in: set[int] = set()

    @app.before_request
    def start_sandbox():
        if os.getpid() not in started_in:
            started_in.add(os.getpid())
            threading.Thread(target=sandbox.start, daemon=True, name="signet-sandbox").start()


class DatabaseId(IntegerConverter):
    """`<int:...>` that never hands a view a number beyond an INTEGER column (PostgreSQL raises).

    Such ids become 0, which no row has, so each view answers with its own 404 (JSON in the API).
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= DATABASE_INT_MAX else 0


def _init_extensions(app: Flask) -> None:
    # Imported when an app is built, never at `import portal`: the sandbox's children, the
    # migrations and every `portal.x` import would otherwise load the whole application.
    from portal import errors, i18n, reactions, sqlite
    from portal.auth import login as auth_login
    from portal.auth import permissions
    from portal.auth.oidc import settings as sso_settings
    from portal.automation import engine as automation
    from portal.extensions import csrf, db, limiter, migrate
    from portal.sweep import timer as sweep_timer

    sqlite.init_app(app)  # first: engine options, and the first hook of every request
    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    auth_login.init_app(app)
    sso_settings.check_settings(app.config)  # a bad group map stops the start, saying why
    permissions.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    _import_models()
    sweep_timer.init_app(app)
    automation.init_app(app)
    reactions.subscribe_all()


def _import_models() -> None:
    """Every model module, so metadata (and Alembic) sees the whole schema."""
    import portal.audit.models  # noqa: F401
    import portal.auth.models  # noqa: F401
    import portal.auth.two_factor.models  # noqa: F401
    import portal.automation.models  # noqa: F401
    import portal.bulk.models  # noqa: F401
    import portal.delivery.models  # noqa: F401
    import portal.doctemplates.models  # noqa: F401
    import portal.documents.models  # noqa: F401
    import portal.links.models  # noqa: F401
    import portal.parties.models  # noqa: F401
    import portal.sealing.models  # noqa: F401
    import portal.signing.models  # noqa: F401
    import portal.storage.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    # The views, when an app is built (see _init_extensions).
    from portal import cli, home, language_views
    from portal.api.profile import bp as profile_bp
    from portal.api.routes import bp as api_bp
    from portal.auth.account_views import bp as account_bp
    from portal.auth.admin_views import bp as admin_bp
    from portal.auth.invite_views import bp as invite_bp
    from portal.auth.oidc.views import bp as sso_bp
    from portal.auth.role_views import bp as roles_bp
    from portal.auth.two_factor.views import bp as two_factor_bp
    from portal.auth.views import bp as auth_bp
    from portal.automation.views import bp as automation_bp
    from portal.automation.webhook_views import bp as webhooks_bp
    from portal.bulk.views import bp as bulk_bp
    from portal.delivery.views import bp as outbox_bp
    from portal.doctemplates.views import bp as doctemplates_bp
    from portal.documents.views import bp as documents_bp
    from portal.links.views.office import bp as links_bp
    from portal.links.views.public import bp as public_links_bp
    from portal.parties.views import bp as parties_bp
    from portal.pipeline import bp as pipeline_bp
    from portal.retention.views import bp as retention_bp
    from portal.sealing.admin_views import bp as sealing_admin_bp
    from portal.sealing.views import bp as downloads_bp
    from portal.sealing.views import pki_bp
    from portal.signing.bundle_views import bp as bundles_bp
    from portal.signing.views import bp as signing_bp
    from portal.vault.views import bp as vault_bp
    from portal.verify.views import bp as verify_bp

    for blueprint in (home.bp, language_views.bp, auth_bp, account_bp, admin_bp, invite_bp,
                      parties_bp, outbox_bp, profile_bp, api_bp, documents_bp, doctemplates_bp,
                      downloads_bp, pki_bp, signing_bp, sealing_admin_bp, verify_bp, roles_bp,
                      vault_bp, pipeline_bp, automation_bp, webhooks_bp, sso_bp,
                      two_factor_bp, bulk_bp, links_bp, public_links_bp, bundles_bp, retention_bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
        "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    ),
}


def _harden(app: Flask) -> None:
    hops = app.config["SIGNET_TRUST_PROXY"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def refuse_nul_characters():
        # No legitimate text contains NUL, and PostgreSQL refuses to store it: stop it at the door.
        values = [*request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400)

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
