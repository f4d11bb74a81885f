"""Error pages (full page or htmx fragment): every failure gets a clear message."""

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal import unit
from portal.htmx import is_htmx

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to open this page.")),
    404: (_l("Not found"), _l("There is nothing here. The link may be wrong or out of date.")),
    405: (_l("Not available"), _l("This action is not available here.")),
    410: (_l("No longer available"), _l("This is no longer stored here.")),
    413: (
        _l("File too large"),
        _l("The upload is larger than this portal accepts. Choose a smaller file."),
    ),
    429: (
        _l("Too many attempts"),
        _l("You tried too often. Wait a minute and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("The error was logged. Nothing was changed; please try again."),
    ),
}


class DomainError(Exception):
    """A rule of the domain refused an action; views show `message` to the user."""

    status = 409

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def notice(self) -> tuple[str, str]:
        """(level, message) for a page: a conflict or a "too soon" warns, the rest is an error."""
        return ("warning" if self.status in (409, 429) else "error", self.message)


def too_large_message() -> str:
    """An upload over the limit, with the limit in it."""
    limit = current_app.config["SIGNET_UPLOAD_MAX_BYTES"] / (1024 * 1024)
    return _("The upload is larger than this portal accepts (%(limit)s MB). Go back and "
             "choose a smaller file.", limit=f"{limit:.0f}")


def render_error(status: int, title=None, message=None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    body = render_template(
        template,
        status=status,
        title=title or default_title,
        message=message or default_message,
    )
    return body, status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l("Form expired"),
            _l("The form was open too long or came from another site. Reload the page and "
               "try again."),
        )

    @app.errorhandler(DomainError)
    def domain_error(error):
        return render_error(error.status, message=error.message)

    @app.errorhandler(HTTPException)
    def http_error(error):
        # A handler that prepared its own answer (e.g. the login page on too many tries).
        if error.response is not None:
            return error.response
        if error.code == 413:
            return render_error(413, message=too_large_message())
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        app.logger.exception("Unhandled error")
        unit.rollback()
        return render_error(500)
