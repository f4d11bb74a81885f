"""What the settings say about single sign-on (read in portal/config.py from SIGNET_OIDC_*)."""

from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _


class GroupMapInvalid(ValueError):
    """SIGNET_OIDC_GROUP_MAP cannot be read; the message says where and why."""


@dataclass(frozen=True)
class GroupGrant:
    """What membership of one of the provider's groups gives in Signet."""

    roles: tuple[str, ...] = ()  # role keys or names, as written in the setting
    department: str | None = None  # a department's path: "Sales" or "Sales / Lisbon"


_EXAMPLE = "signet-admins=role:Administrator; sales=department:Sales,role:Employee"


@lru_cache(maxsize=32)
def parse_group_map(text: str) -> dict[str, GroupGrant]:
    """Read "group=role:Name,department:Path; other=role:Name" into {group: GroupGrant}.

    Entries are separated by ";" or new lines, targets by ",". Group names are compared
    exactly as the provider sends them; a group may give several roles and one department.
    Entries keep their order: when a user's groups give several departments, the first wins.
    """
    mapping: dict[str, GroupGrant] = {}
    for entry in text.replace("\n", ";").split(";"):
        if not entry.strip():
            continue
        group, equals, targets = entry.partition("=")
        group = group.strip()
        if not equals or not group:
            raise GroupMapInvalid(
                f"SIGNET_OIDC_GROUP_MAP: {entry.strip()!r} is not group=targets (e.g. {_EXAMPLE})")
        if group in mapping:
            raise GroupMapInvalid(f"SIGNET_OIDC_GROUP_MAP: the group {group!r} appears twice")
        mapping[group] = _grant(group, targets)
    return mapping


def _grant(group: str, targets: str) -> GroupGrant:
    roles: list[str] = []
    department = None
    for target in targets.split(","):
        kind, colon, name = target.partition(":")
        kind, name = kind.strip().lower(), " ".join(name.split())
        if not colon or kind not in {"role", "department"} or not name:
            raise GroupMapInvalid(
                f"SIGNET_OIDC_GROUP_MAP: for {group!r}, {target.strip()!r} is neither "
                f"role:Name nor department:Path (e.g. {_EXAMPLE})")
        if kind == "role":
            roles.append(name)
        elif department is not None:
            raise GroupMapInvalid(f"SIGNET_OIDC_GROUP_MAP: {group!r} names two departments")
        else:
            department = " / ".join(part.strip() for part in name.split("/"))
    return GroupGrant(tuple(roles), department)


def check_settings(config) -> None:
    """Refuse to start on settings that cannot work, with a message naming the setting."""
    parse_group_map(config.get("SIGNET_OIDC_GROUP_MAP") or "")
    if not config.get("SIGNET_PASSWORD_LOGIN", True) and not is_configured(config):
        raise ValueError("SIGNET_PASSWORD_LOGIN=off needs single sign-on: set "
                         "SIGNET_OIDC_DISCOVERY_URL (or SIGNET_OIDC_ISSUER) and "
                         "SIGNET_OIDC_CLIENT_ID, or turn password login back on")


def is_configured(config=None) -> bool:
    """Single sign-on is on: a discovery URL and a client id are set."""
    config = current_app.config if config is None else config
    return bool(config.get("SIGNET_OIDC_DISCOVERY_URL") and config.get("SIGNET_OIDC_CLIENT_ID"))


def provider_name() -> str:
    """How the login page names the provider ("Sign in with <name>")."""
    return current_app.config.get("SIGNET_OIDC_NAME") or "SSO"


def group_map() -> dict[str, GroupGrant]:
    """The group map in force; empty when no groups claim is set."""
    config = current_app.config
    if not config.get("SIGNET_OIDC_GROUPS_CLAIM"):
        return {}
    return parse_group_map(config.get("SIGNET_OIDC_GROUP_MAP") or "")


def password_login_on() -> bool:
    return bool(current_app.config.get("SIGNET_PASSWORD_LOGIN", True))


def password_login_refusal(email: str) -> str | None:
    """Why this address may not sign in with a password, or None when it may.

    With password login off only the break-glass accounts may; everyone else is sent to the
    single sign-on button.
    """
    if password_login_on():
        return None
    address = (email or "").strip().lower()
    if address and address in current_app.config.get("SIGNET_BREAK_GLASS_EMAILS", ()):
        return None
    if is_configured():
        return _("Signing in with a password is turned off here. Use “Sign in with "
                 "%(provider)s”.", provider=provider_name())
    return _("Signing in with a password is turned off here. Ask your administrator.")
