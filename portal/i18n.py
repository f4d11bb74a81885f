"""Language choice: the user's setting, else the session's pick, else the browser's."""

from flask import g, has_request_context, request, session, url_for
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_context

from portal.config import LANGUAGES, REPO_ROOT
from portal.extensions import babel


def select_locale() -> str | None:
    if not has_request_context():
        return None  # jobs: Flask-Babel falls back to the default locale
    if g.get("page_locale") in LANGUAGES:  # a page that speaks its reader's language (signing)
        return g.page_locale
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def init_app(app) -> None:

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(REPO_ROOT / "portal" / "translations"),
    )

    @app.context_processor
    def language_context():
        return {"languages": LANGUAGES, "current_locale": select_locale(),
                TRANSLATIONS_KEY: get_translations()}

    app.jinja_env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)


# Templates translate through the catalogue their render was given, looked up once per render:
# Flask-Babel's own callables look it up again for every string (a signing page has dozens).
# A template rendered without it (a macro imported without context) looks it up as before.
TRANSLATIONS_KEY = "_render_translations"


def _translations_of(context):
    return context.get(TRANSLATIONS_KEY) or get_translations()


@pass_context
def _template_gettext(context, message: str) -> str:
    return _translations_of(context).ugettext(message)


@pass_context
def _template_ngettext(context, singular: str, plural: str, count: int) -> str:
    return _translations_of(context).ungettext(singular, plural, count)


def safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our domain.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")
