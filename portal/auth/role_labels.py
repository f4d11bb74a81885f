"""How the role screens name sections, actions, scopes and built-in roles (translated)."""

from flask_babel import lazy_gettext as _l

from portal.auth.permissions import OWNED_SECTIONS, SCOPES
from portal.auth.roles import ADMINISTRATOR, DEFAULT_ROLES, EMPLOYEE, SUPERVISOR

SECTION_LABELS = {
    "documents": _l("Documents"),
    "templates": _l("Templates"),
    "contacts": _l("Counterparties"),
    "vault": _l("Signed documents"),
    "automation": _l("Automation"),
    "settings": _l("Settings"),
    "permissions": _l("Users and permissions"),
}
SECTION_HINTS = {
    "documents": _l("Drafts and documents in signing"),
    "templates": _l("Document templates"),
    "contacts": _l("People and companies who sign"),
    "vault": _l("Completed, sealed documents"),
    "automation": _l("Rules that act on documents"),
    "settings": _l("Companies, delivery, sealing certificate"),
    "permissions": _l("Users, departments and roles"),
}
ACTION_LABELS = {
    "view": _l("View"),
    "create": _l("Create"),
    "edit": _l("Edit"),
    "delete": _l("Delete"),
    "send": _l("Send"),
}
# Short: they sit in a grid of selects. The legend above the grid says what each one reaches.
OWNED_SCOPE_LABELS = {
    "none": _l("None"),
    "own": _l("Own"),
    "department": _l("Department"),
    "subtree": _l("Department tree"),
    "all": _l("All"),
}
# Sections without owners: a grant reaches everything or nothing.
PLAIN_SCOPE_LABELS = {"none": _l("Not allowed"), "all": _l("Allowed")}
SCOPE_LEGEND = (
    ("own", _l("documents the user is responsible for")),
    ("department", _l("also those of everyone in the user's department")),
    ("subtree", _l("also those of every department below it")),
    ("all", _l("every document")),
)

# The built-in roles' names and descriptions, shown translated until an administrator renames them.
BUILT_IN_TEXTS = {
    EMPLOYEE: (_l("Employee"),
               _l("Works with their own documents; uses templates and contacts.")),
    SUPERVISOR: (_l("Supervisor"),
                 _l("Sees and handles every document; edits templates.")),
    ADMINISTRATOR: (_l("Administrator"),
                    _l("Everything, including settings and permissions.")),
}


def scope_choices(section: str) -> tuple[str, ...]:
    """The scopes a cell of this section offers, narrowest first."""
    return SCOPES if section in OWNED_SECTIONS else ("none", "all")


def scope_label(section: str, scope: str) -> str:
    labels = OWNED_SCOPE_LABELS if section in OWNED_SECTIONS else PLAIN_SCOPE_LABELS
    return str(labels.get(scope, scope))


def role_label(role) -> str:
    """The role's name; a built-in role still carrying its original name shows it translated."""
    if role.key in BUILT_IN_TEXTS and role.name == DEFAULT_ROLES[role.key][0]:
        return str(BUILT_IN_TEXTS[role.key][0])
    return role.name


def role_description(role) -> str:
    if role.key in BUILT_IN_TEXTS and role.description == DEFAULT_ROLES[role.key][1]:
        return str(BUILT_IN_TEXTS[role.key][1])
    return role.description or ""
