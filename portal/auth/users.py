"""User services: accounts created by administrators, invitations, deactivation."""

from dataclasses import dataclass
from datetime import UTC, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from portal import unit
from portal.audit.service import RequestMeta
from portal.auth import security_log, sessions
from portal.auth.models import Department, User
from portal.auth.oidc.settings import password_login_refusal
from portal.auth.role_guard import keeping_permission_managers
from portal.auth.role_services import default_role_ids, record_assignment, roles_by_ids
from portal.auth.security_log import Visitor
from portal.auth.services import staff_language
from portal.delivery.services import dispatch, queue_email
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.parties.search import fold
from portal.tokens import hash_token, new_token
from portal.validation import InvalidContact, normalise_email_address, normalise_phone

STATUSES = ("active", "deactivated", "all")
PAGE_SIZE = 50
PASSWORD_MIN = 10


class UserRefused(DomainError):
    """A rule refused the change; `field` names the form field it concerns, if any."""

    status = 200

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class InvitationInvalid(DomainError):
    status = 404


class InvitationExpired(DomainError):
    status = 410


@dataclass
class UserFields:
    """What an administrator types about a user."""

    email: str
    name: str
    position: str = ""
    phone: str = ""
    department_id: int | None = None
    role_ids: list[int] | None = None  # None: keep the user's roles (a new user: the default)


@dataclass
class UserPage:
    users: list[User]
    total: int
    page: int
    pages: int


# --- reading ---------------------------------------------------------------------------------

def list_users(query: str = "", status: str = "active", page: int = 1) -> UserPage:
    """Users in the given status matching `query` (name, email, position, department), by name."""
    select = db.select(User)
    if status == "active":
        select = select.where(User.active.is_(True))
    elif status == "deactivated":
        select = select.where(User.active.is_(False))
    # Departments in the identity map first, so each user's path costs no query.
    db.session.execute(db.select(Department)).scalars().all()
    users = sorted(db.session.execute(select).scalars(), key=lambda u: (u.name.casefold(), u.id))
    # Matched in Python: SQLite's LIKE folds ASCII only and names may be Cyrillic; a small
    # team's user list fits in memory easily.
    needle = fold(query)
    if needle:
        users = [user for user in users if needle in _search_text(user)]
    pages = max(1, -(-len(users) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    return UserPage(users[start:start + PAGE_SIZE], len(users), page, pages)


def _search_text(user: User) -> str:
    department = user.department.path if user.department else ""
    return fold(" ".join([user.name, user.email, user.position or "", department]))


def get_user(user_id: int) -> User:
    """The user, or a 404 domain error."""
    user = db.session.get(User, user_id)
    if user is None:
        raise DomainError(_("This user does not exist."), 404)
    return user


def invitation_expired(user: User) -> bool:
    expires = user.invite_expires_at
    if expires is None:
        return True
    if expires.tzinfo is None:  # SQLite gives naive values back; they were stored in UTC
        expires = expires.replace(tzinfo=UTC)
    return expires <= utcnow()


# --- creating --------------------------------------------------------------------------------

def create_user(actor: User, fields: UserFields, password: str | None = None,
                meta: RequestMeta | None = None) -> User:
    """Create a user with a password, or (without one) invite them by email."""
    user = User(active=True)
    try:
        _apply_fields(user, fields)
        if password:
            _refuse_unusable_password(user.email)
            _refuse_weak_password(password)
    except UserRefused:
        # The department's user list may hold the refused user: forget it all, so no later
        # query flushes it.
        unit.rollback()
        raise
    if password:
        user.set_password(password)
    db.session.add(user)
    message = None if password else _issue_invitation(user, actor)
    _commit_unique_email(user, lambda: record_assignment(
        actor, meta, [], list(user.roles), user_id=user.id, email=user.email))
    if message is not None:
        _dispatch(message)
    return user


def resend_invitation(actor: User, user_id: int) -> User:
    """Send a fresh invitation link; the previous link stops working."""
    user = get_user(user_id)
    if user.password_hash is not None:
        raise UserRefused(_("%(name)s has already set a password.", name=user.name))
    if not user.active:
        raise UserRefused(_("Reactivate the account before sending an invitation."))
    message = _issue_invitation(user, actor)
    unit.commit()
    _dispatch(message)
    return user


def _issue_invitation(user: User, actor: User):
    """A new token on the user (hash only) and the email carrying it, in the same session."""

    raw, digest = new_token()
    days = current_app.config["SIGNET_INVITE_DAYS"]
    user.invite_token_hash = digest
    user.invite_expires_at = utcnow() + timedelta(days=days)
    link = f"{current_app.config['SIGNET_BASE_URL']}/invite/{raw}"
    through_provider = password_login_refusal(user.email) is not None
    with force_locale(staff_language(user)):  # theirs, not the inviting admin's
        return queue_email(
            user.email,
            _("You are invited to Signet"),
            template="invite",
            kind="invite",
            secrets=[raw],  # whoever reads the outbox must not be able to set the password
            link=link,
            action_url=link,
            action_label=_("Sign in") if through_provider else _("Choose your password"),
            through_provider=through_provider,
            name=user.name,
            inviter=actor.name,
            days=days,
        )


def _dispatch(message) -> None:

    # The user is committed and the message sits in the outbox: a delivery failure must
    # not turn the admin's successful action into an error page; it can be re-sent.
    try:
        dispatch([message.id])
    except Exception:
        current_app.logger.exception("Could not dispatch message %s", message.id)


# --- editing ---------------------------------------------------------------------------------

def update_user(actor: User, user_id: int, fields: UserFields,
                meta: RequestMeta | None = None) -> User:
    """Change a user's details, department and roles."""
    user = get_user(user_id)
    before = list(user.roles)
    # The guard rolls back whatever it refuses: the page shown next must not display the
    # refused values as saved.
    try:
        with keeping_permission_managers(actor, UserRefused, "roles"):
            _apply_fields(user, fields)
    except IntegrityError as clash:  # the same address saved by two admins at once
        raise UserRefused(_email_taken_message(), "email") from clash
    _commit_unique_email(user, lambda: record_assignment(
        actor, meta, before, list(user.roles), user_id=user.id, email=user.email))
    return user


def deactivate_user(actor: User, user_id: int) -> User:
    """Block login and end every open session of the user."""
    user = get_user(user_id)
    if not user.active:
        return user
    if user.id == actor.id:
        raise UserRefused(_("You cannot deactivate your own account."))
    with keeping_permission_managers(actor, UserRefused):
        user.active = False
        sessions.end_sessions_of(user, "deactivated")
        security_log.record("account_deactivated", user, actor=actor)
    unit.commit()
    return user


def reactivate_user(actor: User, user_id: int) -> User:
    """Allow the user to log in again."""
    user = get_user(user_id)
    if not user.active:
        user.active = True
        security_log.record("account_reactivated", user, actor=actor)
    unit.commit()
    return user


def set_user_password(actor: User, user_id: int, password: str) -> User:
    """An administrator's reset: a new password, every session and API token of the user ended
    (whoever knew the old password may have made them), any invitation withdrawn."""
    user = get_user(user_id)
    _refuse_weak_password(password)
    user.set_password(password)
    user.invite_token_hash = None
    user.invite_expires_at = None
    # An administrator resetting their own password keeps the session they are using.
    sessions.end_sessions_of(user, "password", keep_id=actor.session_id if actor.id == user.id
                             else None)
    revoked = sessions.revoke_api_tokens_of(user)
    security_log.record("password_reset", user, actor=actor, detail=_tokens_note(revoked))
    unit.commit()
    return user


def change_own_password(user: User, current: str, new: str, revoke_tokens: bool,
                        visitor: Visitor) -> int:
    """The user's own change: the current password first; the user's other sessions end, and
    their API tokens too when asked. Returns how many tokens were revoked."""
    if not user.check_password(current or ""):
        raise UserRefused(_("That is not your current password."), "current_password")
    if current == new:
        raise UserRefused(_("Choose a password other than the current one."), "password")
    _refuse_weak_password(new)
    user.set_password(new)
    sessions.end_sessions_of(user, "password", keep_id=user.session_id)
    revoked = sessions.revoke_api_tokens_of(user) if revoke_tokens else 0
    security_log.record("password_changed", user, visitor, detail=_tokens_note(revoked))
    unit.commit()
    return revoked


def _tokens_note(revoked: int) -> str:
    return f"api tokens revoked: {revoked}" if revoked else ""


def _refuse_unusable_password(email: str) -> None:
    """With password login off, only a break-glass account can use a password."""
    if password_login_refusal(email):
        raise UserRefused(_("Password login is off here, and %(email)s is not a break-glass "
                            "account: send an invitation, and the user signs in through "
                            "single sign-on.", email=email), "password")


def _refuse_weak_password(password: str) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise UserRefused(
            _("Use at least %(min)d characters.", min=PASSWORD_MIN), "password"
        )


def _apply_fields(user: User, fields: UserFields) -> None:
    user.email = _clean_email(fields.email)
    user.name = " ".join((fields.name or "").split())
    if not user.name:
        raise UserRefused(_("Enter the user's name."), "name")
    user.position = (fields.position or "").strip()
    user.phone = _clean_phone(fields.phone)
    user.department = _department_or_refuse(fields.department_id)
    _set_roles(user, fields.role_ids)
    _refuse_taken_email(user)


def _set_roles(user: User, role_ids: list[int] | None) -> None:
    if role_ids is None:
        if user.id is not None:
            return
        role_ids = default_role_ids()
    user.roles = roles_by_ids(role_ids, UserRefused)


def _clean_email(value: str) -> str:
    try:
        # Stored lower-case: login looks accounts up by the lower-cased address.
        return normalise_email_address(value).lower()
    except InvalidContact as invalid:
        raise UserRefused(invalid.message, "email") from invalid


def _clean_phone(value: str) -> str:
    if not (value or "").strip():
        return ""
    try:
        return normalise_phone(value, current_app.config.get("SIGNET_PHONE_REGION"))
    except InvalidContact as invalid:
        raise UserRefused(invalid.message, "phone") from invalid


def _department_or_refuse(department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    department = db.session.get(Department, department_id)
    if department is None:
        raise UserRefused(_("The chosen department no longer exists."), "department")
    return department


def _email_taken_message() -> str:
    return _("Another user already has this email address.")


def _refuse_taken_email(user: User) -> None:
    select = db.select(User.id).where(func.lower(User.email) == user.email)
    if user.id is not None:
        select = select.where(User.id != user.id)
    with db.session.no_autoflush:
        other = db.session.execute(select).first()
    if other is not None:
        raise UserRefused(_email_taken_message(), "email")


def _commit_unique_email(user: User, audit=None) -> None:
    """Commit (after `audit()`, which records its events); a clash on the address is refused."""
    # The unique index is the last word when two admins save the same address at once.
    try:
        if audit is not None:
            db.session.flush()
            audit()
        unit.commit()
    except IntegrityError as clash:
        unit.rollback()
        raise UserRefused(_email_taken_message(), "email") from clash


# --- invitations (public) --------------------------------------------------------------------

def find_invitation(raw_token: str) -> User:
    """The user this invitation link belongs to, or a clear refusal (404 unknown, 410 expired)."""
    user = None
    if raw_token and len(raw_token) <= 128:
        user = db.session.execute(
            db.select(User).filter_by(invite_token_hash=hash_token(raw_token))
        ).scalar_one_or_none()
    if user is None or user.password_hash is not None:
        raise InvitationInvalid(_(
            "This invitation link is not valid or has already been used. "
            "If you already set your password, log in."
        ))
    if not user.active:
        raise InvitationExpired(_(
            "This account has been deactivated, so its invitation no longer works. "
            "Ask your administrator."
        ))
    if invitation_expired(user):
        raise InvitationExpired(
            _("This invitation link has expired. Ask your administrator to send a new one.")
        )
    return user


def accept_invitation(raw_token: str, password: str) -> User:
    """Set the invited user's password and use up the link; return the user to log in."""
    user = find_invitation(raw_token)
    if refusal := password_login_refusal(user.email):
        raise UserRefused(refusal)  # a password it could never use
    _refuse_weak_password(password)
    user.set_password(password)
    user.invite_token_hash = None
    user.invite_expires_at = None
    unit.commit()
    return user
