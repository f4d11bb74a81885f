"""Active content in words: what was removed from an upload, what /verify found in a file."""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.pdfs import active

LABELS = {
    active.JAVASCRIPT: _l("JavaScript"),
    active.OPEN_ACTION: _l("an action that runs when the file is opened"),
    active.ADDITIONAL_ACTIONS: _l("actions set off by opening, closing, printing or typing"),
    active.LAUNCH: _l("a command that starts a program or opens a file on the reader's "
                      "computer"),
    active.SUBMIT_FORM: _l("a form that sends what is typed into it to an address"),
    active.IMPORT_DATA: _l("form data loaded from another file"),
    active.EXTERNAL_ACTION: _l("links that open other PDF files"),
    active.UNKNOWN_ACTION: _l("actions of an unknown kind"),
    active.UNSAFE_LINK: _l("links that are not web, e-mail or phone addresses"),
    active.EMBEDDED_FILES: _l("attached files"),
    active.RICH_MEDIA: _l("video, sound or 3D content"),
    active.XFA: _l("an XFA form layer"),
    active.EXTRA_DATA: _l("data hidden before or after the PDF itself"),
}
# Kinds whose detail names a file the reader may recognise ("page 1: attached file 'a.exe'");
# the other details say where, in English, and stay in the JSON and the audit trail.
NAMED_DETAILS = {active.EMBEDDED_FILES}
QUOTED_NAME = re.compile(r"'([^']+)'")


def as_records(findings) -> list[dict]:
    """Findings as plain JSON values, the way documents and the audit trail keep them."""
    return [{"kind": finding.kind, "detail": finding.detail, "count": finding.count}
            for finding in findings]


def describe(records) -> list[str]:
    """One line per kind, in the current language: "attached files: setup.exe, a.js"."""
    lines, details = [], {}
    for record in records or ():
        kind = record["kind"] if isinstance(record, dict) else record.kind
        detail = record["detail"] if isinstance(record, dict) else record.detail
        if kind not in details:
            details[kind] = []
        name = QUOTED_NAME.search(detail or "") if kind in NAMED_DETAILS else None
        if name and name.group(1) not in details[kind]:
            details[kind].append(name.group(1))
    for kind, named in details.items():
        label = str(LABELS.get(kind, kind))
        lines.append(_("%(what)s: %(names)s", what=label, names=", ".join(named[:5]))
                     if named else label)
    return lines
