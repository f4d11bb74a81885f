"""Rendering a document template: sandboxed HTML -> PDF with field anchors.

Public API (the documents area calls these):
    build_context(company, counterparty, *, number, title, date, place, items, vat_rate,
                  currency, language) -> dict
    render_document_pdf(template_or_html, context) -> RenderedPdf
    resolve_layout(default_layout, anchors, page_count) -> list[dict]
    TemplateRefused, RenderedPdf, AnchorBox
"""

from flask_babel import gettext as _

from portal.doctemplates.layout import LayoutRefused, clean_layout, resolve_layout
from portal.doctemplates.pdf import (
    ANCHOR_SIZES_MM,
    AnchorBox,
    AnchorRecorder,
    RenderedPdf,
    RenderFailed,
    render_pdf,
)
from portal.doctemplates.sandbox import (
    TemplateRefused,
    format_long_date,
    format_money,
    format_number,
    render_html,
)
from portal.doctemplates.variables import (
    REQUISITE_FIELDS,
    build_context,
    compute_totals,
    item_rows,
)
from portal.pdfs.bounded import run_bounded
from portal.pdfs.errors import PdfRejected


def _source_of(template_or_html) -> str:
    return template_or_html if isinstance(template_or_html, str) else (
        template_or_html.body_html or "")


def render_template_html(template_or_html, context: dict) -> tuple[str, AnchorRecorder]:
    """The template's HTML output and the anchors it asked for (no PDF)."""
    recorder = AnchorRecorder()
    # The bound method, not the object: its state stays out of reach (__self__ is refused).
    html = render_html(_source_of(template_or_html), {**context, "anchor": recorder.__call__})
    return html, recorder


def render_document_pdf(template_or_html, context: dict, preview_pages: int = 0) -> RenderedPdf:
    """Render a template (a DocumentTemplate or its HTML) with `context` to a PDF.

    The PDF is made in the sandbox (a template's images are files nobody checked); with
    `preview_pages`, images of the first pages come back too. TemplateRefused says why not.
    """
    html, recorder = render_template_html(template_or_html, context)
    try:
        return run_bounded(render_pdf, html, recorder.anchors, preview_pages)
    except RenderFailed as failed:
        raise TemplateRefused(_("The PDF could not be made: %(error)s",
                                error=failed.args[0])) from None
    except PdfRejected as refused:
        raise TemplateRefused(refused.message) from None


__all__ = [
    "ANCHOR_SIZES_MM",
    "AnchorBox",
    "LayoutRefused",
    "RenderedPdf",
    "TemplateRefused",
    "build_context",
    "clean_layout",
    "compute_totals",
    "format_long_date",
    "format_money",
    "format_number",
    "item_rows",
    "render_document_pdf",
    "render_template_html",
    "resolve_layout",
]


def _marker(index: int) -> str:
    return f"QZ{index}REQUISITEQZ"  # letters and digits: no filter or escaping changes it


def printed_requisites(template) -> tuple[str, ...]:
    """The client's requisites a template prints (REQUISITE_FIELDS order): those its HTML shows
    for a company client whose every requisite is a marker (a template may print them through a
    macro, under another name), or all of them when its layout gives the client a requisites
    field. () when it cannot render (no document could be made from it either)."""
    if any(isinstance(entry, dict) and entry.get("role") == "client"
           and entry.get("type") == "requisites" for entry in template.default_layout or []):
        return REQUISITE_FIELDS
    probe = {"kind": "company", "name": "Probe", "representative_name": "Probe",
             **{name: _marker(index) for index, name in enumerate(REQUISITE_FIELDS)}}
    context = build_context(None, probe, number="1", title="", date=None, place="", items=[],
                            vat_rate=None, currency="", language=template.language)
    try:
        html, _recorder = render_template_html(template, context)
    except TemplateRefused:
        return ()
    html = html.upper()
    return tuple(name for index, name in enumerate(REQUISITE_FIELDS) if _marker(index) in html)
