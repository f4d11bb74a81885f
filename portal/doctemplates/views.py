"""Document templates: list, view, edit with a live preview, copy, (de)activate, delete."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import require
from portal.config import LANGUAGES
from portal.doctemplates import services
from portal.doctemplates.forms import FIELD_TYPE_LABELS, KIND_LABELS, ROLE_LABELS, TemplateForm
from portal.doctemplates.models import TEMPLATE_KINDS, DocumentTemplate
from portal.doctemplates.preview import MAX_PREVIEW_PAGES, page_images
from portal.doctemplates.rendering import ANCHOR_SIZES_MM, TemplateRefused
from portal.doctemplates.services import TemplateInvalid, TemplateLocked
from portal.documents.models import FIELD_TYPES
from portal.extensions import db

bp = Blueprint("doctemplates", __name__, url_prefix="/templates")

STARTER_HTML = """<h1>{{ document.title }} No. {{ document.number }}</h1>
<p>{{ document.place }}, {{ document.date|date }}</p>
<p><b>{{ company.legal_name }}</b> and <b>{{ counterparty.name }}</b></p>

<table class="grid">
  <tr><th>Description</th><th class="num">Qty</th><th class="num">Amount</th></tr>
  {% for item in items %}
  <tr><td>{{ item.name }}</td><td class="num">{{ item.quantity|number }}</td>
      <td class="num">{{ item.amount|money }}</td></tr>
  {% endfor %}
  <tr class="total"><td colspan="2">Total</td>
      <td class="num">{{ totals.gross|money(currency) }}</td></tr>
</table>

<table>
  <tr>
    <td>{{ company.legal_name }}<br/>{{ anchor("company.signature") }}</td>
    <td>{{ counterparty.name }}<br/>{{ anchor("client.signature") }}</td>
  </tr>
</table>
"""


@bp.context_processor
def template_labels():
    return {"template_kind_labels": KIND_LABELS, "template_languages": LANGUAGES,
            "role_labels": ROLE_LABELS, "field_type_labels": FIELD_TYPE_LABELS}


def _template_or_404(template_id: int) -> DocumentTemplate:
    return db.get_or_404(DocumentTemplate, template_id)


@bp.get("/")
@require("view", "templates")
def index():
    """All templates with their kind, language and state."""
    return render_template("doctemplates/index.html", templates=services.list_templates())


@bp.get("/<int:template_id>")
@require("view", "templates")
def view(template_id: int):
    """One template: its details, default field layout and a sample preview."""
    template = _template_or_404(template_id)
    return render_template("doctemplates/view.html", template=template,
                           documents_count=services.documents_using(template),
                           links_count=services.links_publishing(template.id))


def _editor_page(form: TemplateForm, template: DocumentTemplate | None):
    return render_template("doctemplates/edit.html", form=form, template=template,
                           field_types=FIELD_TYPES, anchor_sizes=ANCHOR_SIZES_MM)


def _save(form: TemplateForm, template: DocumentTemplate | None):
    if not form.validate_on_submit():
        return _editor_page(form, template)
    try:
        template = services.save_template(form.values(), current_user, template)
    except TemplateInvalid as refused:
        form.show_errors(refused.errors)
        return _editor_page(form, template)
    flash(_("Template “%(name)s” saved.", name=template.name), "success")
    return redirect(url_for("doctemplates.view", template_id=template.id))


@bp.route("/new", methods=["GET", "POST"])
@require("create", "templates")
def new():
    """Write a new template."""
    form = TemplateForm()
    if request.method == "GET":
        form.body_html.data = STARTER_HTML
        form.kind.data = request.args.get("kind") if request.args.get("kind") in \
            TEMPLATE_KINDS else "other"
        form.language.data = request.args.get("language") if request.args.get("language") in \
            LANGUAGES else "en"
    return _save(form, None)


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@require("edit", "templates")
def edit(template_id: int):
    """Edit a template's name, kind, language and HTML."""
    template = _template_or_404(template_id)
    if template.builtin_key:
        flash(_("Shipped templates cannot be changed. Make a copy and edit the copy."),
              "warning")
        return redirect(url_for("doctemplates.view", template_id=template.id))
    return _save(TemplateForm(obj=template), template)


@bp.post("/<int:template_id>/copy")
@require("create", "templates")
def copy(template_id: int):
    """Make an editable copy (the way to change a shipped template)."""
    copied = services.copy_template(_template_or_404(template_id), current_user)
    flash(_("Copied. This is your own template now: edit it as you like."), "success")
    return redirect(url_for("doctemplates.edit", template_id=copied.id))


@bp.post("/<int:template_id>/activate")
@require("edit", "templates")
def activate(template_id: int):
    """Offer the template for new documents again."""
    template = services.set_active(_template_or_404(template_id), True, current_user)
    flash(_("“%(name)s” is offered for new documents.", name=template.name), "success")
    return redirect(url_for("doctemplates.view", template_id=template.id))


@bp.post("/<int:template_id>/deactivate")
@require("edit", "templates")
def deactivate(template_id: int):
    """Stop offering the template for new documents (existing ones are not affected)."""
    template = services.set_active(_template_or_404(template_id), False, current_user)
    flash(_("“%(name)s” is no longer offered for new documents.", name=template.name),
          "success")
    return redirect(url_for("doctemplates.view", template_id=template.id))


@bp.post("/<int:template_id>/delete")
@require("delete", "templates")
def delete(template_id: int):
    """Delete a template that no document uses."""
    template = _template_or_404(template_id)
    name = template.name
    try:
        services.delete_template(template, current_user)
    except TemplateLocked as refused:
        flash(refused.message, "error")
        return redirect(url_for("doctemplates.view", template_id=template_id))
    flash(_("Template “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("doctemplates.index"))


# --- previews ------------------------------------------------------------------------------

def _preview_fragment(body_html: str, kind: str, language: str):
    context = {"error": None, "pages": [], "anchors": {}, "page_count": 0,
               "max_pages": MAX_PREVIEW_PAGES}
    try:
        rendered = services.render_sample(body_html, kind, language, MAX_PREVIEW_PAGES)
    except TemplateRefused as refused:
        context["error"] = refused
    else:
        context.update(pages=page_images(rendered), anchors=rendered.anchors,
                       page_count=rendered.page_count)
    return render_template("doctemplates/_preview.html", **context)


def _pdf_response(pdf_bytes: bytes, filename: str):
    response = make_response(pdf_bytes)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/preview")
@require("edit", "templates")
def preview():
    """The live preview of the editor: sample pages and anchors, or the error and its line."""
    form = request.form
    return _preview_fragment(form.get("body_html", ""), form.get("kind", ""),
                             form.get("language", ""))


@bp.post("/preview.pdf")
@require("edit", "templates")
def preview_pdf():
    """The editor's current HTML as a sample PDF download."""
    form = request.form
    rendered = services.render_sample(form.get("body_html", ""), form.get("kind", ""),
                                      form.get("language", ""))
    return _pdf_response(rendered.pdf_bytes, "sample.pdf")


@bp.get("/<int:template_id>/preview")
@require("view", "templates")
def saved_preview(template_id: int):
    """The saved template's sample pages (loaded into the view page by htmx)."""
    template = _template_or_404(template_id)
    response = make_response(_preview_fragment(template.body_html, template.kind,
                                               template.language))
    return response


@bp.get("/<int:template_id>/sample.pdf")
@require("view", "templates")
def sample_pdf(template_id: int):
    """The saved template rendered with sample data, as a PDF download."""
    template = _template_or_404(template_id)
    rendered = services.render_sample(template.body_html, template.kind, template.language)
    return _pdf_response(rendered.pdf_bytes, f"template-{template.id}-sample.pdf")
