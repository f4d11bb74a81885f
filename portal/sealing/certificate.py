"""The signing certificate appended to the final PDF, and the footer on every page.

The certificate is laid out with reportlab platypus (tables that wrap long values and split
across pages, no HTML parser between user data and the PDF) in the document's language. The
footer is stamped with the burn-in overlay machinery, so it lands at the bottom of the page
as displayed, whatever the page's rotation or boxes.
"""

import html
import logging
import re
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime
from io import BytesIO

import qrcode
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image as PilImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    Image,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from portal.audit.catalogue import (
    AUTOMATION_RAN,
    DOCUMENT_STAGE_CHANGED,
    FIELD_FILLED,
    PARTY_CODE_CONFIRMED,
    PARTY_INVITED,
    PARTY_PRESIGNED,
    PARTY_SIGNED,
)
from portal.audit.chain import TRAIL_FILENAME, TRAIL_MIME, trail_payload
from portal.audit.labels import event_label, presigned_note
from portal.audit.models import AuditEvent
from portal.config import LANGUAGES
from portal.documents.display import format_zoned_moment, mask_contact
from portal.documents.labels import CHANNEL_LABELS, ROLE_LABELS, STAGE_LABELS
from portal.documents.models import Document, Party
from portal.models_base import end_read_before_slow_work, utcnow
from portal.parties.zones import default_time_zone, document_time_zone
from portal.pdfs.archival import Archive
from portal.pdfs.bounded import run_bounded
from portal.sealing.burn import (
    BOLD_FONT_NAME,
    FONT_NAME,
    PAGE_PLACEHOLDER,
    TOTAL_PLACEHOLDER,
    DocumentInfo,
    Mark,
    compose,
    compose_final,
    register_font,
)

log = logging.getLogger(__name__)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 19 * mm
MARGIN_BOTTOM = 20 * mm  # the footer is stamped into this margin afterwards
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

INK = colors.HexColor("#1b1d24")
MUTED = colors.HexColor("#5b6070")
ACCENT = colors.HexColor("#1f3a68")
RULE = colors.HexColor("#c9ced8")
SHADE = colors.HexColor("#eef1f6")
CARD = colors.HexColor("#f6f7fa")

SECTION_MIN_ROOM = 45 * mm
QR_SIDE = 34 * mm
QR_PIXELS_PER_MODULE = 8
QR_QUIET_ZONE = 4  # modules of white around the code, as the standard asks


EMPTY = "—"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A signer seen from outside the company: "Our signer" would read wrong on the certificate.
CERTIFICATE_ROLE_LABELS = {**ROLE_LABELS, "company": _l("Company signer")}
# The zone of the document being printed (its company's): every time on its certificate is
# in it. Set around one rendering rather than passed through every table that prints a time.
_printed_zone: ContextVar[str] = ContextVar("printed_zone", default="")


# --- the whole final PDF ---------------------------------------------------------------------

def assemble_final(pdf: bytes, document: Document, *, original_sha256: str,
                   events: list[AuditEvent], chain_head: str, verify_url: str,
                   marks: Sequence[Mark] = ()) -> bytes:
    """pdf with `marks` burned in + the certificate pages + a footer on every page, as an
    archival PDF/A-3b file carrying the audit trail (portal/pdfs/archival.py).

    The pages are composed in the sandbox (the source is a file someone uploaded);
    PdfRejected if that is too much for its bounds. Call inside an app context: the texts are
    in the document's language, the times in the company's time zone with their UTC offset
    (parties.zones). A source that keeps the file from being PDF/A (an upload with fonts it
    does not embed...) gives the same file without the PDF/A claim; the log says why.
    """
    certificate = certificate_pages(document, original_sha256=original_sha256, events=events,
                                    chain_head=chain_head, verify_url=verify_url)
    footer = footer_pattern(document.id, document.verification_code, language_of(document))
    about = describe(document)
    archive = archive_of(document, about, events)
    end_read_before_slow_work()
    final, obstacles = run_bounded(compose_final, pdf, list(marks), certificate, footer, about,
                                   archive)
    if obstacles:
        log.warning("The final PDF of document %s is not PDF/A-3b: %s", document.id,
                    "; ".join(obstacles))
    return final


def archive_of(document: Document, about: DocumentInfo, events: list[AuditEvent]) -> Archive:
    """What the archival file says of itself (its XMP) and the trail it carries."""
    trail = trail_payload(
        {"id": document.id, "number": document.number, "title": document.title,
         "verification_code": document.verification_code, "language": document.language,
         "source_sha256": document.source_sha256},
        events, document_time_zone(document))
    signers = "; ".join(_party_line(party) for party in document.parties if party.signs)
    with force_locale(about.language):
        description = _("%(subject)s. Signed by: %(signers)s", subject=about.subject,
                        signers=signers or EMPTY)
        trail_description = _("Audit trail of document %(number)s: every event with its "
                              "hash chain (JSON)", number=document.number)
    return Archive(title=about.title, author=about.author, description=description,
                   identifier=document.number or str(document.id), language=about.language,
                   created=utcnow(), trail=trail, trail_filename=TRAIL_FILENAME,
                   trail_mime=TRAIL_MIME, trail_description=trail_description)


def _party_line(party: Party) -> str:
    organization = _clean(party.organization)
    return f"{_clean(party.name)} ({organization})" if organization else _clean(party.name)


def describe(document: Document) -> DocumentInfo:
    """The final PDF's title, author (the company), subject and language."""
    language = language_of(document)
    with force_locale(language):
        subject = _("Signed electronically: document %(number)s, verification code %(code)s",
                    number=document.number, code=document.verification_code)
    return DocumentInfo(title=document.title, author=document.company.legal_name,
                        subject=subject, language=language)


def language_of(document: Document) -> str:
    return document.language if document.language in LANGUAGES else "en"


# --- the footer ------------------------------------------------------------------------------

def add_footer(pdf_bytes: bytes, *, document_id: int, verification_code: str,
               locale: str | None = None) -> bytes:
    """The PDF with "Document 12 · Verification code … · Page 2 of 5" at the foot of every page.

    In `locale` when given, else in the current one.
    """
    footer = footer_pattern(document_id, verification_code, locale)
    return run_bounded(compose, pdf_bytes, [], None, footer)


def footer_text(document_id: int, verification_code: str, page, total) -> str:
    return _("Document %(id)s · Verification code %(code)s · Page %(page)s of %(total)s",
             id=document_id, code=verification_code, page=page, total=total)


def footer_pattern(document_id: int, verification_code: str, locale: str | None) -> str:
    """The footer in `locale` (else the current language) with the page numbers left open."""
    with force_locale(locale) if locale else nullcontext():
        return footer_text(document_id, verification_code, PAGE_PLACEHOLDER, TOTAL_PLACEHOLDER)


# --- the certificate pages -------------------------------------------------------------------

def certificate_pages(document: Document, *, original_sha256: str, events: list[AuditEvent],
                      chain_head: str, verify_url: str) -> bytes:
    """The signing certificate of a document as a standalone A4 PDF, in its language."""
    register_font()
    with force_locale(language_of(document)), _times_in(document_time_zone(document)):
        story = _story(document, original_sha256, events, chain_head, verify_url)
        return _rendered(story, _("Signing certificate"), document.number)


def _rendered(story: list, header: str, number: str) -> bytes:
    def decorate(pdf, _layout) -> None:
        _draw_page_header(pdf, header, number)

    # No frame padding: tables span exactly the text width, in line with the paragraphs.
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, CONTENT_WIDTH, PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    buffer = BytesIO()
    # initialFontName: no page may name reportlab's unembedded Helvetica (archival PDF).
    layout = BaseDocTemplate(buffer, pagesize=A4, invariant=1, pageCompression=1,
                             initialFontName=FONT_NAME,
                             pageTemplates=[PageTemplate(frames=[frame], onPage=decorate)],
                             title=f"{header} {number}", author="Signet", creator="Signet")
    layout.build(story)
    return buffer.getvalue()


def _draw_page_header(pdf, header: str, number: str) -> None:
    top = PAGE_HEIGHT - 12 * mm
    pdf.saveState()
    pdf.setFillColor(ACCENT)
    pdf.rect(MARGIN_X, top + 3.2 * mm, CONTENT_WIDTH, 1.1, stroke=0, fill=1)
    pdf.setFont(BOLD_FONT_NAME, 7.5)
    pdf.drawString(MARGIN_X, top, header.upper())
    pdf.setFont(FONT_NAME, 7.5)
    pdf.setFillColor(MUTED)
    shown = _clean(number)
    room = CONTENT_WIDTH - pdfmetrics.stringWidth(header.upper(), BOLD_FONT_NAME, 7.5) - 20
    while len(shown) > 1 and pdfmetrics.stringWidth(shown, FONT_NAME, 7.5) > room:
        shown = shown[:-2] + "…"
    pdf.drawRightString(MARGIN_X + CONTENT_WIDTH, top, shown)
    pdf.restoreState()


def _story(document, original_sha256, events, chain_head, verify_url) -> list:
    signers = [party for party in document.parties if party.signs]
    copies = [party for party in document.parties if not party.signs]
    story = [
        _p(_("Signing certificate"), STYLES["title"]),
        _p(_("Evidence of how and by whom this document was signed electronically."),
           STYLES["subtitle"]),
        _summary(document, original_sha256, verify_url),
        *_section(_("Signers")),
    ]
    story += [KeepTogether([_signer_card(party, events), Spacer(1, 3.5 * mm)])
              for party in signers]
    if not signers:
        story.append(_p(_("Nobody signed this document."), STYLES["note"]))
    if copies:
        story += [*_section(_("Copies sent to")), _copies_table(copies)]
    story += [*_section(_("Event history")), _events_table(events)]
    story += [*_section(_("Integrity")),
              _integrity(original_sha256, chain_head, verify_url)]
    return story


# --- text ------------------------------------------------------------------------------------

def _style(name: str, size: float = 8.2, *, bold=False, colour=INK, leading=None, **extra):
    return ParagraphStyle(name, fontName=BOLD_FONT_NAME if bold else FONT_NAME, fontSize=size,
                          leading=leading or size * 1.3, textColor=colour,
                          splitLongWords=1, **extra)


STYLES = {
    "title": _style("title", 19, bold=True, colour=ACCENT, spaceAfter=1.5 * mm),
    "subtitle": _style("subtitle", 9.5, colour=MUTED, spaceAfter=5 * mm),
    "section": _style("section", 11, bold=True, colour=ACCENT),
    "label": _style("label", 7.2, colour=MUTED),
    "value": _style("value", 8),
    "strong": _style("strong", 8, bold=True),
    "document": _style("document", 11, bold=True, leading=13.5),
    "code": _style("code", 15, bold=True, colour=ACCENT, leading=18),
    "hash": _style("hash", 7.6, leading=10),
    "party": _style("party", 9.5, bold=True),
    "role": _style("role", 8, bold=True, colour=ACCENT, alignment=TA_RIGHT),
    "cell": _style("cell", 7.2, leading=9.2),
    "head": _style("head", 7.2, bold=True, colour=MUTED, leading=9.2),
    "caption": _style("caption", 6.8, colour=MUTED, alignment=TA_CENTER, leading=8.6),
    "note": _style("note", 7.8, colour=MUTED, leading=10.5, spaceBefore=1.5 * mm),
}


def _clean(value) -> str:
    """One line of plain text: control characters and runs of spaces become one space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", str(value if value is not None else "")).split())


def _p(value, style: ParagraphStyle) -> Paragraph:
    """A paragraph that prints `value` literally: it is text, never markup."""
    return Paragraph(html.escape(_clean(value), quote=False) or EMPTY, style)


@contextmanager
def _times_in(zone_name: str):
    token = _printed_zone.set(zone_name)
    try:
        yield
    finally:
        _printed_zone.reset(token)


def _table(rows, **options) -> Table:
    """A reportlab table whose cells start in our font: its default, Helvetica, is named by
    every cell (even one without text) and never embedded, which no archival PDF may do."""
    table = Table(rows, **options)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT_NAME)]))
    return table


def _when(moment) -> str:
    """ "Dec 3, 2026, 10:15:04 PM (UTC+03:00, Europe/Moscow)" in the document's zone."""
    return format_zoned_moment(moment, _printed_zone.get() or default_time_zone()) or EMPTY


def _section(title: str) -> list:
    # A heading needs a few lines of its content under it, else it starts the next page;
    # spaceBefore is dropped at the top of a page.
    rule = _table([[_p(title, STYLES["section"])]], colWidths=[CONTENT_WIDTH],
                 spaceBefore=7 * mm, spaceAfter=2.5 * mm)
    rule.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 0.6, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return [CondPageBreak(SECTION_MIN_ROOM), rule]


# --- the summary -----------------------------------------------------------------------------

def _summary(document: Document, original_sha256: str, verify_url: str) -> Table:
    qr_column = QR_SIDE + 8 * mm
    label_column = 36 * mm
    value_column = CONTENT_WIDTH - qr_column - label_column
    rows = [
        (_("Document"), _p(document.title, STYLES["document"])),
        (_("Number"), _p(document.number, STYLES["strong"])),
        (_("Company"), _p(document.company.display_name, STYLES["value"])),
        (_("Verification code"), _p(document.verification_code, STYLES["code"])),
        (_("Pages"), _p(document.page_count or EMPTY, STYLES["value"])),
        (_("Sent for signing"), _p(_when(document.sent_at), STYLES["value"])),
        (_("Completed"), _p(_when(document.completed_at), STYLES["value"])),
        (_("Time zone"), _p(_("%(zone)s: every time here is shown in it, with its offset "
                              "from UTC", zone=_printed_zone.get() or default_time_zone()),
                            STYLES["value"])),
    ]
    details = _table([[_p(label, STYLES["label"]), value] for label, value in rows],
                    colWidths=[label_column, value_column])
    details.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 1.6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6),
        ("TOPPADDING", (0, 3), (-1, 3), 3),
        ("BOTTOMPADDING", (0, 3), (-1, 3), 3),
        ("VALIGN", (0, 3), (0, 3), "MIDDLE"),
    ]))
    qr = _table([[Image(BytesIO(qr_png(verify_url)), QR_SIDE, QR_SIDE)],
                [_p(_("Scan to check this document"), STYLES["caption"])]],
               colWidths=[qr_column - 4 * mm])
    qr.setStyle(TableStyle([
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]))
    link = _p(_("Check it at %(url)s", url=verify_url), STYLES["note"])
    card = _table([[details, qr], [link, ""]],
                 colWidths=[label_column + value_column + 2 * mm, qr_column - 2 * mm])
    card.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), CARD),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("LINEBEFORE", (1, 0), (1, 0), 0.6, RULE),
        ("LINEABOVE", (0, 1), (-1, 1), 0.6, RULE),
        ("SPAN", (0, 1), (1, 1)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (0, -1), 3.5 * mm),
        ("TOPPADDING", (0, 0), (-1, 0), 3 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 3 * mm),
        ("TOPPADDING", (0, 1), (-1, 1), 1.5 * mm),
        ("BOTTOMPADDING", (0, 1), (-1, 1), 2.5 * mm),
    ]))
    return card


def qr_png(data: str) -> bytes:
    """A black-on-white QR code of `data` as a PNG, sharp edges (whole pixels per module)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                         border=QR_QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    side = len(matrix)
    image = PilImage.new("1", (side, side), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    scaled = side * QR_PIXELS_PER_MODULE
    buffer = BytesIO()
    image.resize((scaled, scaled), PilImage.Resampling.NEAREST).save(buffer, "PNG")
    return buffer.getvalue()


# --- the parties -----------------------------------------------------------------------------

def _role_label(role: str) -> str:
    return str(CERTIFICATE_ROLE_LABELS.get(role, role))


def _channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def in_confirmed_session(party: Party, events: list[AuditEvent]) -> bool:
    """Whether every field of the party was filled, and the signature given, in a browser
    session that a confirmed code opened (the events carry the session's public tag)."""
    own = [event for event in events
           if event.actor_type == "party" and event.actor_id == party.id]
    opened = {(event.details or {}).get("session") for event in own
              if event.type == PARTY_CODE_CONFIRMED.name} - {None}
    acts = [event for event in own if event.type in (FIELD_FILLED.name, PARTY_SIGNED.name)]
    return (party.status == "signed" and any(event.type == PARTY_SIGNED.name for event in acts)
            and all((event.details or {}).get("session") in opened for event in acts))


def _signer_card(party: Party, events: list[AuditEvent]) -> Table:
    label, value = STYLES["label"], STYLES["value"]
    label_column, value_column = 28 * mm, CONTENT_WIDTH / 2 - 28 * mm
    rows = [
        [_p(party.name, STYLES["party"]), "", "", _p(_role_label(party.role), STYLES["role"])],
        [_p(_("Organisation"), label), _p(party.organization, value),
         _p(_("Position"), label), _p(party.position, value)],
        [_p(_("Contact"), label), _p(mask_contact(party.contact), value),
         _p(_("Channel"), label), _p(_channel_label(party.channel), value)],
        [_p(_("Agreement accepted"), label), _p(_when(party.consent_at), value),
         _p(_("Code confirmed"), label), _p(_when(party.code_confirmed_at), value)],
        [_p(_("Signed"), label), _p(_when(party.signed_at), STYLES["strong"]),
         _p(_("IP address"), label), _p(party.ip, value)],
        [_p(_("Browser"), label), _p(party.user_agent, value), "", ""],
    ]
    if in_confirmed_session(party, events):
        rows.append([_p(_("Session"), label), _p(_(
            "Fields filled and signed in the browser session opened by the confirmed code."),
            value), "", ""])
    card = _table(rows, colWidths=[label_column, value_column] * 2)
    card.setStyle(TableStyle([
        ("SPAN", (0, 0), (2, 0)),
        ("SPAN", (1, 5), (3, 5)),
        ("SPAN", (1, -1), (3, -1)),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 1.8),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8),
        ("TOPPADDING", (0, 0), (-1, 0), 3.5),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 3.5),
        ("TOPPADDING", (0, 1), (-1, 1), 3.5),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 3.5),
    ]))
    return card


def _copies_table(parties: list[Party]) -> Table:
    head, cell = STYLES["head"], STYLES["cell"]
    rows = [[_p(_("Name"), head), _p(_("Organisation"), head), _p(_("Contact"), head),
             _p(_("Channel"), head)]]
    rows += [[_p(party.name, cell), _p(party.organization, cell),
              _p(mask_contact(party.contact), cell), _p(_channel_label(party.channel), cell)]
             for party in parties]
    widths = [0.3, 0.34, 0.24, 0.12]
    return _grid(rows, [CONTENT_WIDTH * share for share in widths])


def _grid(rows: list[list], widths: list[float]) -> Table:
    """A plain table: shaded head repeated on every page, hairlines between rows."""
    table = _table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


# --- the audit events ------------------------------------------------------------------------

def masked_actor(label: str) -> str:
    """ "Name <address>" with the address masked; "Signet" stays as it is."""
    label = label or ""
    if "<" not in label:
        return label
    name, contact = label.rsplit("<", 1)
    return f"{name.strip()} <{mask_contact(contact.rstrip('> '))}>"


def event_description(event: AuditEvent) -> str:
    """What happened, in words; an unknown type reads as "Other event", never as its key."""
    text = event_label(event.type)
    details = event.details if isinstance(event.details, dict) else {}
    if event.type == PARTY_INVITED.name and details.get("name"):
        return f"{text}: {details['name']}"
    if event.type == PARTY_PRESIGNED.name:
        return f"{text}: {presigned_note(details)}"
    if event.type == AUTOMATION_RAN.name and details.get("rule"):
        return f"{text}: {details['rule']}"
    if event.type == DOCUMENT_STAGE_CHANGED.name and details.get("stage") in STAGE_LABELS:
        return f"{text}: {STAGE_LABELS[details['stage']]}"
    occurred = _moment_of(details.get("occurred_at"))
    if occurred is not None:  # recorded later than it happened (a batch ceremony's steps)
        happened = _("happened at %(time)s", time=_when(occurred))
        return f"{text} ({happened})"
    return text


def _moment_of(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _events_table(events: list[AuditEvent]):
    if not events:
        return _p(_("No events were recorded."), STYLES["note"])
    head, cell = STYLES["head"], STYLES["cell"]
    rows = [[_p(_("Time"), head), _p(_("Event"), head), _p(_("By"), head),
             _p(_("IP address"), head)]]
    rows += [[_p(_when(event.created_at), cell), _p(event_description(event), cell),
              _p(masked_actor(event.actor_label), cell), _p(event.ip, cell)]
             for event in events]
    widths = [0.3, 0.25, 0.3, 0.15]
    table = _grid(rows, [CONTENT_WIDTH * share for share in widths])
    # Zebra rows: a long history stays readable across the page.
    table.setStyle(TableStyle([("BACKGROUND", (0, row), (-1, row), CARD)
                               for row in range(2, len(rows), 2)]))
    return table


# --- integrity -------------------------------------------------------------------------------

def _integrity(original_sha256: str, chain_head: str, verify_url: str) -> KeepTogether:
    label_column = 42 * mm
    rows = [
        [_p(_("SHA-256 of the original"), STYLES["label"]),
         _p(original_sha256, STYLES["hash"])],
        [_p(_("Audit chain head (SHA-256)"), STYLES["label"]), _p(chain_head, STYLES["hash"])],
    ]
    hashes = _table(rows, colWidths=[label_column, CONTENT_WIDTH - label_column])
    hashes.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    notes = [
        _("The SHA-256 of the original is the fingerprint of the PDF as it was sent for "
          "signing: any change to that file gives a different value."),
        _("Each event's hash covers the event and the hash of the event before it, so the "
          "chain head above is the hash of the last listed event and changes if any event is "
          "altered, removed or reordered."),
        _("This file carries the electronic seal of the signing portal over every page, this "
          "certificate included. To check that it is unchanged, scan the QR code or open "
          "%(url)s.", url=verify_url),
    ]
    return KeepTogether([hashes, *[_p(note, STYLES["note"]) for note in notes]])
