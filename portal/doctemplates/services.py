"""Managing document templates. Each service commits; none reads the request."""

from flask_babel import gettext as _
from flask_babel import ngettext

from portal import unit
from portal.config import LANGUAGES
from portal.doctemplates.builtin import install_builtin_templates
from portal.doctemplates.layout import LayoutRefused, clean_layout
from portal.doctemplates.models import TEMPLATE_KINDS, DocumentTemplate
from portal.doctemplates.publishing import links_publishing
from portal.doctemplates.rendering import (
    RenderedPdf,
    TemplateRefused,
    render_document_pdf,
    render_template_html,
)
from portal.doctemplates.sample import sample_context
from portal.documents.models import Document
from portal.errors import DomainError
from portal.extensions import db

NAME_MAX = 200


class TemplateInvalid(DomainError):
    """Some fields cannot be saved; `errors` maps a field name to its message."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


class TemplateLocked(DomainError):
    """The action is not possible on this template (shipped, or used by documents)."""

    status = 409


# --- reading -------------------------------------------------------------------------------

def list_templates() -> list[DocumentTemplate]:
    """Every template: active ones first, then by kind, language and name."""
    return list(db.session.execute(db.select(DocumentTemplate).order_by(
        DocumentTemplate.active.desc(), DocumentTemplate.kind, DocumentTemplate.language,
        DocumentTemplate.name, DocumentTemplate.id)).scalars())


def active_templates(kind: str | None = None, language: str | None = None):
    """Templates a new document may use, optionally of one kind or language."""
    query = db.select(DocumentTemplate).where(DocumentTemplate.active.is_(True))
    if kind:
        query = query.where(DocumentTemplate.kind == kind)
    if language:
        query = query.where(DocumentTemplate.language == language)
    return list(db.session.execute(query.order_by(
        DocumentTemplate.kind, DocumentTemplate.language, DocumentTemplate.name)).scalars())


def documents_using(template: DocumentTemplate) -> int:
    """How many documents were made from this template."""

    return db.session.scalar(db.select(db.func.count(Document.id)).where(
        Document.template_id == template.id)) or 0


# --- saving --------------------------------------------------------------------------------

def _clean(data: dict) -> dict:
    errors = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the template a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("At most %(count)s characters.", count=NAME_MAX)
    kind = data.get("kind")
    if kind not in TEMPLATE_KINDS:
        errors["kind"] = _("Choose the kind of document.")
    language = data.get("language")
    if language not in LANGUAGES:
        errors["language"] = _("Choose the language of the document.")
    body = (data.get("body_html") or "").replace("\r\n", "\n")
    if not body.strip():
        errors["body_html"] = _("The template needs its HTML.")
    elif not errors:
        try:
            # Rendered with the sample data (HTML only, no PDF): a syntax error or a forbidden
            # construct is refused now rather than when a document is made.
            render_template_html(body, sample_context(kind, language))
        except TemplateRefused as refused:
            errors["body_html"] = refused.message
    if errors:
        raise TemplateInvalid(errors)
    return {"name": name, "kind": kind, "language": language, "body_html": body}


def _refuse_if_shipped(template: DocumentTemplate) -> None:
    if template.builtin_key:
        raise TemplateLocked(_("Shipped templates cannot be changed. Make a copy and edit "
                               "the copy."))


def save_template(data: dict, actor, template: DocumentTemplate | None = None):
    """Create (template=None) or update a template from name, kind, language and body_html."""
    if template is not None:
        _refuse_if_shipped(template)
    cleaned = _clean(data)
    if template is None:
        template = DocumentTemplate(created_by_id=getattr(actor, "id", None), active=True,
                                    default_layout=[])
        db.session.add(template)
    for name, value in cleaned.items():
        setattr(template, name, value)
    unit.commit()
    return template


def copy_template(template: DocumentTemplate, actor) -> DocumentTemplate:
    """A new, editable template with the same text and default layout."""
    copy = DocumentTemplate(
        name=_("Copy of %(name)s", name=template.name)[:NAME_MAX],
        kind=template.kind,
        language=template.language,
        body_html=template.body_html,
        default_layout=list(template.default_layout or []),
        active=True,
        builtin_key=None,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(copy)
    unit.commit()
    return copy


def set_active(template: DocumentTemplate, active: bool, actor) -> DocumentTemplate:
    """Offer the template for new documents again, or stop offering it."""
    template.active = bool(active)
    unit.commit()
    return template


def delete_template(template: DocumentTemplate, actor) -> None:
    """Delete a template no document was made from (otherwise deactivate it)."""
    if template.builtin_key:
        raise TemplateLocked(_("Shipped templates cannot be deleted; deactivate it instead."))
    used = documents_using(template)
    if used:
        raise TemplateLocked(_(
            "%(count)s document(s) were made from this template, so it cannot be deleted. "
            "Deactivate it instead: it will no longer be offered for new documents.",
            count=used))
    links = links_publishing(template.id)
    if links:
        # A link's page and QR code may be printed somewhere: it must not vanish unnoticed.
        raise TemplateLocked(ngettext(
            "%(num)d public link publishes this template, so it cannot be deleted: delete the "
            "link first, or deactivate the template.",
            "%(num)d public links publish this template, so it cannot be deleted: delete the "
            "links first, or deactivate the template.", links))
    db.session.delete(template)
    unit.commit()


def save_default_layout(template_id: int, layout: list[dict], actor) -> DocumentTemplate:
    """Replace a template's default field layout after checking every entry."""
    template = db.session.get(DocumentTemplate, template_id)
    if template is None:
        raise DomainError(_("The template no longer exists."), 404)
    try:
        template.default_layout = clean_layout(layout)
    except LayoutRefused:
        unit.rollback()
        raise
    unit.commit()
    return template


# --- previews ------------------------------------------------------------------------------

def render_sample(body_html: str, kind: str, language: str,
                  preview_pages: int = 0) -> RenderedPdf:
    """The template rendered with the sample company, client and three items.

    With `preview_pages`, images of that many first pages come with it (anchors outlined).
    """
    kind = kind if kind in TEMPLATE_KINDS else "other"
    language = language if language in LANGUAGES else "en"
    return render_document_pdf(body_html, sample_context(kind, language), preview_pages)


__all__ = [
    "TemplateInvalid",
    "TemplateLocked",
    "active_templates",
    "copy_template",
    "delete_template",
    "documents_using",
    "links_publishing",
    "install_builtin_templates",
    "list_templates",
    "render_sample",
    "save_default_layout",
    "save_template",
    "set_active",
]
