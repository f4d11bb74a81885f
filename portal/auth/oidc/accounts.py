"""Who the provider's claims are in Signet: find or create the user, apply the group map.

Everything happens in one transaction: a refusal changes nothing. The group map controls what it
names and nothing else: at each sign-in a user holds a role the map names exactly when one of
their groups gives it, and sits in a department the map names exactly when one of their groups
gives it. Roles and departments the map does not name stay as administrators set them.
"""

import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import unit
from portal.audit.service import RequestMeta
from portal.auth import security_log
from portal.auth.models import Department, Role, User
from portal.auth.oidc.settings import GroupGrant, group_map
from portal.auth.role_guard import ManagersLost, keeping_permission_managers
from portal.auth.role_labels import role_label
from portal.auth.role_services import record_assignment
from portal.auth.roles import DEFAULT_ROLES, EMPLOYEE, role_by_key
from portal.auth.security_log import Visitor
from portal.auth.services import find_user_by_email
from portal.errors import DomainError
from portal.extensions import db
from portal.validation import InvalidContact, normalise_email_address

log = logging.getLogger(__name__)

NAME_MAX = 120  # User.name


class SSORefused(DomainError):
    """The provider vouched for someone Signet does not let in."""

    status = 403


@dataclass
class Identity:
    email: str
    name: str
    groups: list[str] | None  # None: the groups claim is not in use


def sign_in_from_claims(claims: dict, meta: RequestMeta | None = None) -> User:
    """The active user these verified claims belong to, created on first sign-in if allowed.

    Refuses (SSORefused, nothing changed) an unverified or missing address, an unknown address
    when creation is off, and a deactivated account.
    """
    identity = identity_from_claims(claims)
    try:
        return _sign_in(identity, meta, apply_groups=True)
    except ManagersLost:
        # The provider took from this user the last right to manage permissions: keep their
        # roles as they are rather than leave the portal without anyone to manage it.
        log.warning("group map not applied to %s: nobody could manage permissions after it",
                    identity.email)
        return _sign_in(identity, meta, apply_groups=False)


def identity_from_claims(claims: dict) -> Identity:
    config = current_app.config
    raw_email = claims.get(config["SIGNET_OIDC_EMAIL_CLAIM"])
    if not isinstance(raw_email, str) or not raw_email.strip():
        raise SSORefused(_("The sign-in provider did not send your email address, so Signet "
                           "cannot tell which account is yours. Ask your administrator."))
    if "email_verified" in claims and claims["email_verified"] not in (True, "true"):
        raise SSORefused(_("The sign-in provider has not verified your email address. Verify "
                           "it there, then sign in again."))
    try:
        email = normalise_email_address(raw_email.strip()).lower()
    except InvalidContact as invalid:
        raise SSORefused(invalid.message) from invalid
    name = claims.get(config["SIGNET_OIDC_NAME_CLAIM"])
    name = " ".join(name.split()) if isinstance(name, str) else ""
    return Identity(email, (name or email.split("@")[0])[:NAME_MAX],
                    _groups(claims) if config.get("SIGNET_OIDC_GROUPS_CLAIM") else None)


def _groups(claims: dict) -> list[str]:
    value = claims.get(current_app.config["SIGNET_OIDC_GROUPS_CLAIM"])
    if isinstance(value, str):  # some providers send one group as a plain string
        value = [value]
    if not isinstance(value, list):
        return []  # absent: the provider says this person is in no group
    return [group for group in value if isinstance(group, str)]


def _sign_in(identity: Identity, meta: RequestMeta | None, apply_groups: bool) -> User:
    try:
        with unit.unit_of_work():
            user = find_user_by_email(identity.email)
            if user is None:
                user = _create(identity, meta)
            elif not user.active:
                raise SSORefused(_("This account is deactivated. Ask an administrator to "
                                   "restore it."))
            if apply_groups and identity.groups is not None:
                _apply_group_map(user, identity.groups, meta)
            # The provider proved the address, which is what a pending invitation asked for.
            user.invite_token_hash = user.invite_expires_at = None
    except IntegrityError as clash:  # the same person's first sign-in twice at once
        unit.rollback()
        raise SSORefused(_("Your account was being created by another sign-in. Sign in "
                           "again."), 409) from clash
    return user


def _create(identity: Identity, meta: RequestMeta | None) -> User:
    if not current_app.config.get("SIGNET_OIDC_CREATE_USERS"):
        raise SSORefused(_("No Signet account uses %(email)s. Ask an administrator to add you.",
                           email=identity.email))
    role = _default_role()
    user = User(email=identity.email, name=identity.name, active=True)
    user.roles = [role]
    db.session.add(user)
    db.session.flush()
    record_assignment(None, meta, [], [role], user_id=user.id, email=user.email)
    return user


def _default_role() -> Role:
    wanted = current_app.config.get("SIGNET_OIDC_DEFAULT_ROLE") or EMPLOYEE
    if wanted.lower() in DEFAULT_ROLES:  # a built-in role's key: made again if it was deleted
        return role_by_key(wanted.lower())
    role = _roles_by_name().get(wanted.casefold())
    if role is None:
        log.error("SIGNET_OIDC_DEFAULT_ROLE %r names no role", wanted)
        raise SSORefused(_("Signet cannot create your account: the role new accounts get does "
                           "not exist. Tell your administrator."))
    return role


def _roles_by_name() -> dict[str, Role]:
    """Every role under its key, stored name and shown name (case-folded)."""
    found: dict[str, Role] = {}
    for role in db.session.execute(select(Role)).scalars():
        for name in (role.key, role.name, role_label(role)):
            if name:
                found.setdefault(name.casefold(), role)
    return found


def _departments_by_path() -> dict[str, Department]:
    return {department.path.casefold(): department
            for department in db.session.execute(select(Department)).scalars()}


def _apply_group_map(user: User, groups: list[str], meta: RequestMeta | None) -> None:
    mapping = group_map()
    if not mapping:
        return
    member_of = set(groups)
    held = [grant for group, grant in mapping.items() if group in member_of]
    roles, departments = _roles_by_name(), _departments_by_path()
    controlled_roles = _resolve_roles(mapping.values(), roles)
    given_roles = _resolve_roles(held, roles)
    controlled_departments = {_resolve_department(grant, departments)
                              for grant in mapping.values()} - {None}
    given_department = next((department for department in (
        _resolve_department(grant, departments) for grant in held) if department), None)
    before = list(user.roles)
    after = [role for role in before if role not in controlled_roles]
    after += [role for role in given_roles if role not in after]
    department = user.department
    if given_department is not None:
        department = given_department
    elif department in controlled_departments:
        department = None
    if set(after) == set(before) and department is user.department:
        return
    with keeping_permission_managers(None):
        user.roles = sorted(after, key=lambda role: role.name.casefold())
        user.department = department
    record_assignment(None, meta, before, list(user.roles), user_id=user.id, email=user.email)


def _resolve_roles(grants, roles: dict[str, Role]) -> list[Role]:
    found: list[Role] = []
    for grant in grants:
        for name in grant.roles:
            role = roles.get(name.casefold())
            if role is None:
                log.warning("SIGNET_OIDC_GROUP_MAP names the role %r, which does not exist", name)
            elif role not in found:
                found.append(role)
    return found


def _resolve_department(grant: GroupGrant, departments: dict[str, Department]):
    if not grant.department:
        return None
    department = departments.get(grant.department.casefold())
    if department is None:
        log.warning("SIGNET_OIDC_GROUP_MAP names the department %r, which does not exist",
                    grant.department)
    return department


def record_refusal(reason: str, visitor: Visitor) -> None:
    """Put a refused single sign-on in the security log (nothing else was written)."""
    unit.rollback()
    security_log.record("sign_in_failed", None, visitor, method="oidc", detail=reason)
    unit.commit()
