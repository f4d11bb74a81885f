"""Administration of users and departments."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.service import request_meta
from portal.auth import departments as department_services
from portal.auth import users as user_services
from portal.auth.admin_forms import (
    DepartmentForm,
    NewUserForm,
    PasswordForm,
    UserForm,
    give_unique_ids,
)
from portal.auth.departments import DepartmentRefused, department_choices
from portal.auth.permissions import require
from portal.auth.role_access import inherited_roles_of
from portal.auth.role_services import default_role_ids, role_choices
from portal.auth.users import STATUSES, UserRefused
from portal.htmx import is_htmx, vary_on_htmx

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _actor():
    return current_user._get_current_object()


def _show_refusal(form, refused) -> str | None:
    """Put a refusal next to its field; return it when it belongs to no field."""
    field = getattr(form, refused.field, None) if refused.field else None
    if field is None:
        return refused.message
    field.errors = [*field.errors, refused.message]
    return None


# --- users -----------------------------------------------------------------------------------

@bp.get("/users")
@require("view", "permissions")
def users():
    """List users, searchable as you type, filtered by status."""
    query = request.args.get("q", "").strip()[:200]
    status = request.args.get("status", "active")
    if status not in STATUSES:
        status = "active"
    result = user_services.list_users(query, status, request.args.get("page", 1, type=int))
    template = "admin/_user_list.html" if is_htmx() else "admin/users.html"
    page = render_template(template, result=result, query=query, status=status,
                           inherited_by_user=inherited_roles_of(result.users))
    return vary_on_htmx(make_response(page))


@bp.route("/users/new", methods=["GET", "POST"])
@require("create", "permissions")
def user_new():
    """Create a user with a password, or invite them by email."""
    form = NewUserForm()
    form.set_departments(department_choices())
    form.roles.set_roles(role_choices())
    if request.method == "GET":
        form.roles.data = default_role_ids()
    error = None
    if form.validate_on_submit():
        try:
            user = user_services.create_user(_actor(), form.fields(), form.chosen_password(),
                                             request_meta())
        except UserRefused as refused:
            error = _show_refusal(form, refused)
        else:
            if user.has_pending_invite:
                flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            else:
                flash(_("%(name)s can now log in.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form, error=error)


def _user_form(user, submitted: bool) -> UserForm:
    """The edit form: what was posted, or else the user's current values."""
    if submitted:
        form = UserForm()
    else:
        form = UserForm(formdata=None, data={
            "email": user.email,
            "name": user.name,
            "position": user.position,
            "phone": user.phone,
            "department": user.department_id,
            "roles": [role.id for role in user.roles],
        })
    form.set_departments(department_choices())
    form.roles.set_roles(role_choices())
    return form


def _render_edit(user, form, password_form, error=None):
    give_unique_ids(password_form, "new-password")
    return render_template(
        "admin/user_edit.html",
        user=user,
        form=form,
        password_form=password_form,
        error=error,
        invitation_expired=user_services.invitation_expired(user),
    )


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require("edit", "permissions")
def user_edit(user_id: int):
    """Edit a user's details, department and roles."""
    user = user_services.get_user(user_id)
    form = _user_form(user, submitted=request.method == "POST")
    error = None
    if form.validate_on_submit():
        try:
            user_services.update_user(_actor(), user.id, form.fields(), request_meta())
        except UserRefused as refused:
            error = _show_refusal(form, refused)
        else:
            flash(_("Saved the changes to %(name)s.", name=user.name), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _render_edit(user, form, PasswordForm(formdata=None), error)


@bp.post("/users/<int:user_id>/password")
@require("edit", "permissions")
def user_password(user_id: int):
    """Set a new password for a user (their sessions and API tokens end)."""
    user = user_services.get_user(user_id)
    password_form = PasswordForm()
    if password_form.validate_on_submit():
        try:
            user_services.set_user_password(_actor(), user.id, password_form.password.data)
        except UserRefused as refused:
            _show_refusal(password_form, refused)
        else:
            flash(_("New password set for %(name)s. Their sessions and API tokens have ended.",
                    name=user.name), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _render_edit(user, _user_form(user, submitted=False), password_form)


def _account_action(service, user_id: int, done_message: str):
    """Run a POST-only account action; flash its outcome and go back to the user's page."""
    try:
        user = service(_actor(), user_id)
    except UserRefused as refused:
        flash(refused.message, "error")
    else:
        flash(done_message % {"name": user.name, "email": user.email}, "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@require("edit", "permissions")
def user_deactivate(user_id: int):
    """Deactivate a user: login blocked, open sessions ended."""
    return _account_action(
        user_services.deactivate_user, user_id,
        _("%(name)s is deactivated and logged out everywhere."),
    )


@bp.post("/users/<int:user_id>/reactivate")
@require("edit", "permissions")
def user_reactivate(user_id: int):
    """Let a deactivated user log in again."""
    return _account_action(
        user_services.reactivate_user, user_id, _("%(name)s can log in again.")
    )


@bp.post("/users/<int:user_id>/resend-invitation")
@require("edit", "permissions")
def user_resend_invitation(user_id: int):
    """Send a new invitation link; the old one stops working."""
    return _account_action(
        user_services.resend_invitation, user_id,
        _("A new invitation was sent to %(email)s. The previous link no longer works."),
    )


# --- departments -----------------------------------------------------------------------------

NEW_FORM_ID = "department-new"


def _tree_response(notice: str | None = None, notice_kind: str = "success", extra: str = ""):
    """The tree fragment (plus any out-of-band parts), swapped in place of the whole tree."""
    html = render_template(
        "admin/_department_tree.html",
        tree=department_services.department_tree(),
        notice=notice,
        notice_kind=notice_kind,
    )
    response = make_response(html + extra)
    response.headers["HX-Retarget"] = "#department-tree"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def _new_department_form(parent_id: int | None = None, submitted: bool = False):
    """The "new department" form: what was posted, or empty (inside `parent_id` if given)."""
    form = DepartmentForm() if submitted else DepartmentForm(formdata=None)
    form.set_parents(department_choices())
    form.roles.set_roles(role_choices())
    give_unique_ids(form, NEW_FORM_ID)
    if not submitted and parent_id is not None:
        form.parent.data = parent_id
    return form


def _department_form_page(form, action: str, form_id: str, title: str, department=None):
    """The form as a fragment (htmx, in place) or as a page of its own (no JavaScript)."""
    context = dict(form=form, action=action, form_id=form_id, title=title, department=department,
                   focus=is_htmx())
    template = "admin/_department_form.html" if is_htmx() else "admin/department_form.html"
    return vary_on_htmx(make_response(render_template(template, **context)))


@bp.get("/departments")
@require("view", "permissions")
def departments():
    """The department tree with a form to add a department."""
    if is_htmx():
        response = make_response(render_template(
            "admin/_department_tree.html", tree=department_services.department_tree()
        ))
        return vary_on_htmx(response)
    page = render_template(
        "admin/departments.html",
        tree=department_services.department_tree(),
        form=_new_department_form(request.args.get("parent", type=int)),
        form_id=NEW_FORM_ID,
        action=url_for("admin.department_new"),
        title=_("New department"),
    )
    return vary_on_htmx(make_response(page))


@bp.route("/departments/new", methods=["GET", "POST"])
@require("create", "permissions")
def department_new():
    """Add a department (at the top or inside another one)."""
    action = url_for("admin.department_new")
    if request.method == "GET":
        form = _new_department_form(request.args.get("parent", type=int))
        return _department_form_page(form, action, NEW_FORM_ID, _("New department"))
    form = _new_department_form(submitted=True)
    if form.validate_on_submit():
        try:
            department = department_services.create_department(
                form.name.data, form.parent.data, form.roles.data,
                actor=_actor(), meta=request_meta())
        except DepartmentRefused as refused:
            _show_refusal(form, refused)
        else:
            message = _("Added the department “%(name)s”.", name=department.name)
            if not is_htmx():
                flash(message, "success")
                return redirect(url_for("admin.departments"))
            # The tree takes the new node; the form comes back empty, same parent kept.
            fresh_form = render_template(
                "admin/_department_form.html", form=_new_department_form(department.parent_id),
                action=action, form_id=NEW_FORM_ID, title=_("New department"), oob=True,
            )
            return _tree_response(message, extra=fresh_form)
    return _department_form_page(form, action, NEW_FORM_ID, _("New department"))


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@require("edit", "permissions")
def department_edit(department_id: int):
    """Rename a department, move it under another one, or change the roles it hands down."""
    department = department_services.get_department(department_id)
    if request.method == "GET":
        form = DepartmentForm(data={"name": department.name, "parent": department.parent_id,
                                    "roles": [role.id for role in department.roles]})
    else:
        form = DepartmentForm()
    form.set_parents(department_choices(exclude=department))
    form.roles.set_roles(role_choices())
    give_unique_ids(form, f"department-{department.id}")
    if form.validate_on_submit():
        try:
            department_services.update_department(
                department.id, form.name.data, form.parent.data, form.roles.data,
                actor=_actor(), meta=request_meta())
        except DepartmentRefused as refused:
            _show_refusal(form, refused)
        else:
            message = _("Saved the department “%(name)s”.", name=department.name)
            if not is_htmx():
                flash(message, "success")
                return redirect(url_for("admin.departments"))
            return _tree_response(message)
    return _department_form_page(
        form, url_for("admin.department_edit", department_id=department.id),
        f"department-{department.id}", _("Edit department"), department,
    )


@bp.post("/departments/<int:department_id>/delete")
@require("delete", "permissions")
def department_delete(department_id: int):
    """Delete an empty department."""
    try:
        name = department_services.delete_department(department_id)
    except DepartmentRefused as refused:
        message, kind = refused.message, "error"
    else:
        message, kind = _("Deleted the department “%(name)s”.", name=name), "success"
    if is_htmx():
        return _tree_response(message, kind)
    flash(message, kind)
    return redirect(url_for("admin.departments"))
