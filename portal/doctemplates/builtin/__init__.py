"""The shipped templates: an act, an invoice and a contract in English, Russian and Portuguese.

Each kind is written once (act.html, invoice.html, contract.html) with its strings per language
in TOML tables; sources.py makes the nine bodies from them.
"""

from dataclasses import dataclass

from portal import unit
from portal.doctemplates.builtin.sources import (
    KINDS,
    LANGUAGES,
    common_table,
    render_body,
    string_table,
)
from portal.doctemplates.models import DocumentTemplate
from portal.extensions import db

# Field labels in each template's own language (they are shown to the signers).
LABELS = {
    language: {field_type: common_table()[f"field_{field_type}"][language]
               for field_type in ("signature", "stamp", "date", "requisites")}
    for language in LANGUAGES
}
# (role, type, required): a stamp is optional (not every company has one) and the client's
# stamp anchor only exists when the client is a company.
LAYOUT_FIELDS = (
    ("company", "signature", True),
    ("company", "date", True),
    ("company", "stamp", False),
    ("client", "signature", True),
    ("client", "date", True),
    ("client", "stamp", False),
    ("client", "requisites", True),
)
NAMES = {(kind, language): string_table(kind)["name"][language]
         for kind in KINDS for language in LANGUAGES}


@dataclass(frozen=True)
class BuiltinTemplate:
    key: str
    kind: str
    language: str
    name: str

    def body_html(self) -> str:
        return render_body(self.kind, self.language)

    def default_layout(self) -> list[dict]:
        return default_layout(self.language)


def default_layout(language: str) -> list[dict]:
    """Anchored fields: each box takes the size and place of its anchor in the template."""
    labels = LABELS.get(language, LABELS["en"])
    return [{"role": role, "type": field_type, "anchor": f"{role}.{field_type}",
             "dx": 0.0, "dy": 0.0, "required": required, "label": labels[field_type]}
            for role, field_type, required in LAYOUT_FIELDS]


BUILTIN_TEMPLATES = tuple(
    BuiltinTemplate(key=f"{kind}-{language}", kind=kind, language=language, name=name)
    for (kind, language), name in NAMES.items()
)


def install_builtin_templates() -> list:
    """Create the shipped templates or bring their text up to date (by builtin_key); commits.

    An existing template keeps its active flag and its default layout (an administrator may
    have adjusted either).
    """

    existing = {template.builtin_key: template for template in db.session.execute(
        db.select(DocumentTemplate).where(DocumentTemplate.builtin_key.is_not(None))
    ).scalars()}
    installed = []
    for shipped in BUILTIN_TEMPLATES:
        template = existing.get(shipped.key)
        if template is None:
            template = DocumentTemplate(builtin_key=shipped.key, active=True,
                                        default_layout=shipped.default_layout())
            db.session.add(template)
        template.name = shipped.name
        template.kind = shipped.kind
        template.language = shipped.language
        template.body_html = shipped.body_html()
        if not template.default_layout:
            template.default_layout = shipped.default_layout()
        installed.append(template)
    unit.commit()
    return installed
