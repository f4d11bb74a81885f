"""Rendering a document template: sandboxed HTML -> PDF with field anchors.

Public API (the documents area calls these):
    build_context(company, counterparty, *, number, title, date, place, items, vat_rate,
                  currency, language) -> dict
    render_document_pdf(template_or_html, context) -> RenderedPdf
    resolve_layout(default_layout, anchors, page_count) -> list[dict]
    TemplateRefused, RenderedPdf, AnchorBox
"""

from portal.doctemplates.layout import LayoutRefused, clean_layout, resolve_layout
from portal.doctemplates.pdf import (
    ANCHOR_SIZES_MM,
    AnchorBox,
    AnchorRecorder,
    RenderedPdf,
    html_to_pdf,
    locate_anchors,
)
from portal.doctemplates.sandbox import (
    TemplateRefused,
    format_long_date,
    format_money,
    format_number,
    render_html,
)
from portal.doctemplates.variables import build_context, compute_totals, item_rows


def _source_of(template_or_html) -> str:
    return template_or_html if isinstance(template_or_html, str) else (
        template_or_html.body_html or "")


def render_template_html(template_or_html, context: dict) -> tuple[str, AnchorRecorder]:
    """The template's HTML output and the anchors it asked for (no PDF)."""
    recorder = AnchorRecorder()
    # The bound method, not the object: its state stays out of reach (__self__ is refused).
    html = render_html(_source_of(template_or_html), {**context, "anchor": recorder.__call__})
    return html, recorder


def render_document_pdf(template_or_html, context: dict) -> RenderedPdf:
    """Render a template (a DocumentTemplate or its HTML) with `context` to a PDF."""
    html, recorder = render_template_html(template_or_html, context)
    pdf_bytes = html_to_pdf(html)
    page_count, anchors = locate_anchors(pdf_bytes, recorder.anchors)
    return RenderedPdf(pdf_bytes=pdf_bytes, page_count=page_count, anchors=anchors)


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
