"""Who has a second factor, whose roles require one, and the sessions that must enrol first.

A user holding a role that requires two-factor sign-in (their own or handed down by a
department) and having no second factor is signed in after the password (or an accepted
invitation) with the session row marked `second_factor_due`, as the row is written: the row
lives on the server, so no copy or edit of the cookie can lift it; only enrolling a factor
does (`factor_added`). The views send such a session to enrolment from every other page.
"""

from flask_babel import gettext as _
from sqlalchemy import event, exists, select, update
from sqlalchemy.orm import Session

from portal import unit
from portal.audit.catalogue import ROLE_UPDATED
from portal.audit.service import RequestMeta
from portal.audit.service import record as audit_record
from portal.auth import security_log
from portal.auth.inheritance import held_role_ids
from portal.auth.models import Role, StaffSession, User
from portal.auth.role_services import get_role
from portal.auth.security_log import Visitor
from portal.auth.two_factor.models import Passkey, TotpCredential
from portal.errors import DomainError
from portal.extensions import db


class TwoFactorRefused(DomainError):
    """A second-factor action refused; `field` names the form field it concerns, if any."""

    status = 400

    def __init__(self, message: str, field: str | None = None, status: int | None = None):
        super().__init__(message, status)
        self.field = field


def has_totp(user: User) -> bool:
    return bool(db.session.execute(select(exists().where(
        TotpCredential.user_id == user.id, TotpCredential.confirmed_at.is_not(None)))).scalar())


def passkey_count(user: User) -> int:
    return len(db.session.execute(
        select(Passkey.id).where(Passkey.user_id == user.id)).scalars().all())


def has_second_factor(user: User) -> bool:
    """An authenticator app confirmed, or at least one passkey."""
    return has_totp(user) or passkey_count(user) > 0


def requires_second_factor(user: User) -> bool:
    """Does a role the user holds, however they hold it, require two-factor sign-in?"""
    role_ids = held_role_ids(user)
    if not role_ids:
        return False
    return bool(db.session.execute(select(exists().where(
        Role.id.in_(role_ids), Role.require_two_factor.is_(True)))).scalar())


def must_enrol(user: User) -> bool:
    return requires_second_factor(user) and not has_second_factor(user)


# Sessions opened by these proofs alone are restricted to enrolment when a role requires a
# second factor the user does not have. "oidc" is not here: single sign-on is the identity
# provider's business; the second-factor methods ("totp", ...) prove a factor exists.
WITHOUT_SECOND_FACTOR = frozenset({"password", "invite"})


@event.listens_for(Session, "before_flush")
def _restrict_new_sessions(session, _context, _instances):
    """Whatever path opens a session (the login form, an accepted invitation, the next one
    added), a user who must enrol gets a restricted one: decided here, once, at sign-in."""
    for record in list(session.new):
        if not isinstance(record, StaffSession) or record.method not in WITHOUT_SECOND_FACTOR:
            continue
        with session.no_autoflush:
            user = session.get(User, record.user_id)
            if user is not None and must_enrol(user):
                record.second_factor_due = True


def session_due(user: User) -> bool:
    """Must this request's session enrol a second factor before anything else?"""
    # The row user_for_key read for this request; none for an API token.
    record = getattr(user, "session_record", None)
    return bool(record is not None and record.second_factor_due)


def factor_added(user: User) -> None:
    """A second factor now exists: lift the restriction of every open session (open transaction)."""
    db.session.execute(update(StaffSession)
                       .where(StaffSession.user_id == user.id,
                              StaffSession.second_factor_due.is_(True))
                       .values(second_factor_due=False))


def refuse_removing_last(user: User, remaining: int) -> None:
    """A role requiring two factors keeps the user from removing the last one."""
    if remaining == 0 and requires_second_factor(user):
        raise TwoFactorRefused(_("A role you hold requires two-factor sign-in: add another "
                                 "second factor before removing this one."), status=409)


def check_password(user: User, password: str, visitor: Visitor) -> None:
    """Refuse a change to the second factors without the current password (logged)."""
    if not user.check_password(password or ""):
        security_log.record("second_factor_failed", user, visitor, detail="password")
        unit.commit()
        raise TwoFactorRefused(_("Wrong password."), "password", status=403)


def set_role_requirement(actor: User, meta: RequestMeta, role_id: int, required: bool) -> Role:
    """Require (or not) two-factor sign-in of the role's holders; audited."""
    role = get_role(role_id)
    if role.require_two_factor != required:
        audit_record(ROLE_UPDATED, None, actor, meta, role_id=role.id,
                     require_two_factor=[role.require_two_factor, required])
        role.require_two_factor = required
        unit.commit()
    return role
