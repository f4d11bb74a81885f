"""Administration of roles: the list, each role's grid (saved cell by cell), what a user may do."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth import role_services
from portal.auth import users as user_services
from portal.auth.permissions import ACTIONS, can, require
from portal.auth.role_access import effective_access, role_sources
from portal.auth.role_forms import DeleteRoleForm, RoleForm
from portal.auth.role_labels import (
    ACTION_LABELS,
    SCOPE_LEGEND,
    SECTION_HINTS,
    SECTION_LABELS,
    role_description,
    role_label,
    scope_label,
)
from portal.auth.role_services import GrantInvalid, RoleRefused
from portal.htmx import is_htmx

bp = Blueprint("roles", __name__, url_prefix="/admin")
CELL_FRAGMENT_HEADER = "X-Signet-Fragment"  # role-grid.js swaps refused cells that carry it


@bp.app_context_processor
def role_helpers():
    return {"role_label": role_label, "role_description": role_description,
            "scope_label": scope_label,
            "section_labels": SECTION_LABELS, "section_hints": SECTION_HINTS,
            "action_labels": ACTION_LABELS, "grid_actions": ACTIONS}


def _actor():
    return current_user._get_current_object()


def _show_refusal(form, refused) -> str | None:
    """Put a refusal next to its field; return it when it belongs to no field."""
    field = getattr(form, refused.field, None) if refused.field else None
    if field is None:
        return refused.message
    field.errors = [*field.errors, refused.message]
    return None


# --- the list --------------------------------------------------------------------------------

def _render_list(form, error=None):
    return render_template("admin/roles.html", summaries=role_services.list_roles(), form=form,
                           error=error)


@bp.get("/roles")
@require("view", "permissions")
def index():
    """Every role with how many users and departments hold it."""
    return _render_list(RoleForm(formdata=None))


@bp.post("/roles/new")
@require("create", "permissions")
def create():
    """Add a role (it allows nothing until its grid is filled in)."""
    form = RoleForm()
    error = None
    if form.validate_on_submit():
        try:
            role = role_services.create_role(_actor(), request_meta(), form.name.data,
                                             form.description.data)
        except RoleRefused as refused:
            error = _show_refusal(form, refused)
        else:
            flash(_("Added the role “%(name)s”. Choose what it allows below.",
                    name=role.name), "success")
            return redirect(url_for("roles.detail", role_id=role.id))
    return _render_list(form, error)


@bp.post("/roles/<int:role_id>/copy")
@require("create", "permissions")
def copy(role_id: int):
    """Copy a role with its grants, as "Copy of …"."""
    try:
        role = role_services.copy_role(_actor(), request_meta(), role_id)
    except RoleRefused as refused:
        flash(refused.message, "error")
        return redirect(url_for("roles.index"))
    flash(_("Created “%(name)s”. Rename it and adjust what it allows.", name=role.name),
          "success")
    return redirect(url_for("roles.detail", role_id=role.id))


# --- one role --------------------------------------------------------------------------------

def _render_detail(role, form, error=None):
    editable = can(current_user, "edit", "permissions")
    return render_template(
        "admin/role.html", role=role, form=form, error=error, editable=editable,
        grid=role_services.grant_grid(role), summary=role_services.summary_of(role),
        scope_legend=SCOPE_LEGEND,
    )


def _role_form(role) -> RoleForm:
    return RoleForm(formdata=None, data={"name": role_label(role),
                                         "description": role_description(role)})


@bp.get("/roles/<int:role_id>")
@require("view", "permissions")
def detail(role_id: int):
    """A role's grid of grants: sections by actions, a scope in each cell."""
    role = role_services.get_role(role_id)
    return _render_detail(role, _role_form(role))


@bp.post("/roles/<int:role_id>/edit")
@require("edit", "permissions")
def edit(role_id: int):
    """Rename a role or change its description."""
    role = role_services.get_role(role_id)
    form = RoleForm()
    error = None
    if form.validate_on_submit():
        try:
            role_services.update_role(_actor(), request_meta(), role.id, form.name.data,
                                      form.description.data)
        except RoleRefused as refused:
            error = _show_refusal(form, refused)
        else:
            flash(_("Saved the role “%(name)s”.", name=role_label(role)), "success")
            return redirect(url_for("roles.detail", role_id=role.id))
    return _render_detail(role_services.get_role(role_id), form, error)


def _posted_scopes() -> dict[tuple[str, str], str]:
    """The grid as posted without JavaScript: one "section.action" field per cell."""
    scopes = {}
    for key, value in request.form.items(multi=True):
        if key == "csrf_token":
            continue
        section, _dot, action = key.partition(".")
        if (section, action) in scopes:
            raise GrantInvalid(_("The cell %(cell)s was sent twice.", cell=key[:40]))
        scopes[(section, action)] = value
    return scopes


@bp.post("/roles/<int:role_id>/grants")
@require("edit", "permissions")
def save_grants(role_id: int):
    """Save the whole grid at once (the page without JavaScript)."""
    role = role_services.get_role(role_id)
    try:
        role_services.set_grants(_actor(), request_meta(), role.id, _posted_scopes())
    except RoleRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("Saved what “%(name)s” allows.", name=role_label(role)), "success")
    return redirect(url_for("roles.detail", role_id=role_id))


@bp.post("/roles/<int:role_id>/grants/<section>/<action>")
@require("edit", "permissions")
def save_grant(role_id: int, section: str, action: str):
    """Save one cell of the grid (htmx, on change); answer with the cell in its new state."""
    role_services.get_role(role_id)
    role_services.checked_cell(section, action)
    scope = request.form.get(f"{section}.{action}", "")
    try:
        role_services.set_grant(_actor(), request_meta(), role_id, section, action, scope)
    except (GrantInvalid, RoleRefused) as refused:
        if isinstance(refused, GrantInvalid) and not is_htmx():
            raise  # a 400 page: only a forged form sends such a value
        state, message, status = "failed", refused.message, refused.status
    else:
        state, message, status = "saved", None, 200
    if not is_htmx():
        flash(message or _("Saved."), "error" if message else "success")
        return redirect(url_for("roles.detail", role_id=role_id))
    role = role_services.get_role(role_id)
    html = render_template("admin/_grant_cell.html", role=role, editable=True, state=state,
                           message=message, cell=role_services.grid_cell(role, section, action))
    response = make_response(html, status)
    response.headers[CELL_FRAGMENT_HEADER] = "grant-cell"
    return response


@bp.route("/roles/<int:role_id>/delete", methods=["GET", "POST"])
@require("delete", "permissions")
def delete(role_id: int):
    """Delete a role; whoever holds it gets the chosen replacement instead."""
    role = role_services.get_role(role_id)
    form = DeleteRoleForm()
    form.set_replacements([(other_id, name) for other_id, name in role_services.role_choices()
                           if other_id != role.id])
    error = None
    if form.validate_on_submit():
        try:
            name = role_services.delete_role(_actor(), request_meta(), role.id,
                                             form.replacement.data)
        except RoleRefused as refused:
            error = _show_refusal(form, refused)
        else:
            flash(_("Deleted the role “%(name)s”.", name=name), "success")
            return redirect(url_for("roles.index"))
        role = role_services.get_role(role_id)
    return render_template("admin/role_delete.html", role=role, form=form, error=error,
                           summary=role_services.summary_of(role))


# --- what a user may do ----------------------------------------------------------------------

@bp.get("/users/<int:user_id>/access")
@require("view", "permissions")
def user_access(user_id: int):
    """The effective grid of one user, and which role (held how) gives each cell."""
    user = user_services.get_user(user_id)
    return render_template("admin/user_access.html", user=user, rows=effective_access(user),
                           sources=role_sources(user), scope_legend=SCOPE_LEGEND)
