"""The shipped templates are made from one source and one strings table per kind.

Each of the nine bodies is rendered through the product path (the sandbox, and the PDF for
the full sample): every string of its language reaches the document wherever the English
one reaches the English document, no English is left in a Russian or Portuguese one, and
all languages of a kind use the same variables and the same field anchors.
"""

import html
import io
import re
from collections import Counter

import pytest
from jinja2 import nodes
from pypdf import PdfReader

from portal.doctemplates.builtin import BUILTIN_TEMPLATES, LAYOUT_FIELDS
from portal.doctemplates.builtin.sources import (
    FOLDER,
    KINDS,
    LANGUAGES,
    _environment,
    common_table,
    string_table,
)
from portal.doctemplates.rendering import render_document_pdf, render_template_html
from portal.doctemplates.sample import SAMPLE_COMPANIES, sample_context
from portal.doctemplates.variables import company_variables

# Strings that are no visible text of the body: the comment at its top and the stamp
# field's label in the default layout (the body's caption under the stamp is stamp_caption).
NOT_SHOWN = {"in_language", "variables_hint", "field_stamp"}
# Only the Russian invoice counts its items ("Всего наименований 3, на сумму ...").
EXTRA_TEMPLATE_CODE = {("invoice", "ru"): {"{{ items|length }}"}}
PLACEHOLDER = re.compile(r"\{\w+\}")
TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
ANCHOR_CALL = re.compile(r'anchor\("([a-z]+\.[a-z]+)", \d+, \d+\)')


def _full_context(kind: str, language: str, vat: bool) -> dict:
    """The sample, with every requisite the templates can show (KPP, correspondent account)
    and with or without VAT, so that each conditional string has its turn."""
    company = {"kpp": "770701001", "correspondent_account": "30101810400000000225",
               **SAMPLE_COMPANIES[language]}
    context = {**sample_context(kind, language), "company": company_variables(company)}
    if not vat:
        context["totals"] = {**context["totals"], "vat_rate": None}
    return context


def _pdf_text(pdf_bytes: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def _html_text(rendered_html: str) -> str:
    without_style = re.sub(r"<style>.*?</style>", " ", rendered_html, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", without_style))


def _squeezed(text: str) -> str:
    """Without any whitespace: a PDF wraps lines where it likes."""
    return "".join(text.replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def shown():
    """{(kind, language): the text a signer sees}, from a PDF with VAT and HTML without."""
    texts = {}
    for shipped in BUILTIN_TEMPLATES:
        kind, language = shipped.kind, shipped.language
        with_vat = render_document_pdf(shipped.body_html(), _full_context(kind, language, True))
        without_vat, _anchors = render_template_html(
            shipped.body_html(), _full_context(kind, language, False))
        texts[(kind, language)] = (_pdf_text(with_vat.pdf_bytes) + "\n"
                                   + _html_text(without_vat))
    return texts


def _fragments(text: str) -> list[str]:
    """The literal parts of a string, around its {placeholders}."""
    return [part for part in (_squeezed(piece) for piece in PLACEHOLDER.split(text)) if part]


def _strings_read(tree) -> set[str]:
    """The keys of the `s.key` a parsed source reads."""
    return {node.attr for node in tree.find_all(nodes.Getattr)
            if isinstance(node.node, nodes.Name) and node.node.name == "s"}


def _parsed(source_name: str):
    return _environment().parse((FOLDER / source_name).read_text(encoding="utf-8"))


def _keys_used(kind: str) -> set[str]:
    """The strings a kind's body is made of: its source's and those of the shared parts
    it calls (the invoice has no requisites() and so no bank account label)."""
    source, parts = _parsed(f"{kind}.html"), _parsed("_parts.html")
    by_macro = {macro.name: _strings_read(macro) for macro in parts.find_all(nodes.Macro)}
    called = {node.attr for node in source.find_all(nodes.Getattr)
              if isinstance(node.node, nodes.Name) and node.node.name == "parts"}
    return _strings_read(source).union(*(by_macro.get(name, set()) for name in called))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_string_of_the_language_is_shown(shown, kind, language):
    text = _squeezed(shown[(kind, language)])
    used = _keys_used(kind) - NOT_SHOWN
    assert len(used) >= 25  # the tables make the document, not only a handful of strings
    for key in sorted(used):
        for part in _fragments(string_table(kind)[key][language]):
            assert part in text, (kind, language, key, part)


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z]{4,}", text)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_no_english_is_left_in_a_translated_document(shown, kind, language):
    table = string_table(kind)
    # English words of the strings that no string of the language uses too (BIC, SWIFT...).
    english_only = (_words(" ".join(texts["en"] for texts in table.values()))
                    - _words(" ".join(texts[language] for texts in table.values())))
    # And the sample data's own words ("Signet", "Demo", an e-mail address...) are fine.
    data_words = _words(str(_full_context(kind, language, True)))
    left = (_words(shown[(kind, language)]) & english_only) - data_words
    assert not left, (kind, language, sorted(left))


@pytest.mark.parametrize("kind", KINDS)
def test_the_languages_of_a_kind_use_the_same_template_code(kind):
    bodies = {t.language: t.body_html() for t in BUILTIN_TEMPLATES if t.kind == kind}
    code = {language: set(TEMPLATE_CODE.findall(body)) for language, body in bodies.items()}
    for language in LANGUAGES:
        assert code[language] == code["en"] | EXTRA_TEMPLATE_CODE.get((kind, language), set())


def test_every_body_has_the_default_layouts_anchors_once():
    layout_anchors = Counter(f"{role}.{field_type}" for role, field_type, _ in LAYOUT_FIELDS)
    for shipped in BUILTIN_TEMPLATES:
        assert Counter(ANCHOR_CALL.findall(shipped.body_html())) == layout_anchors, shipped.key


def test_every_table_has_every_language_and_no_key_twice():
    for kind in KINDS:
        for key, texts in string_table(kind).items():
            assert set(texts) == set(LANGUAGES), (kind, key)
            assert all(isinstance(text, str) for text in texts.values()), (kind, key)
            placeholders = {language: set(PLACEHOLDER.findall(text))
                            for language, text in texts.items()}
            # A language may leave a placeholder out (only Russian counts the invoice's
            # items) but never bring one the source does not fill.
            assert placeholders["ru"] | placeholders["pt"] <= placeholders["en"] | {"{count}"}


def test_every_string_is_used_and_every_used_string_exists():
    used = {kind: _keys_used(kind) for kind in KINDS}
    for kind in KINDS:
        assert _strings_read(_parsed(f"{kind}.html")) <= string_table(kind).keys(), kind
        own = string_table(kind).keys() - common_table().keys()
        assert own <= used[kind], (kind, own - used[kind])
    # The field labels are read by the default layout (LABELS), not by a source.
    labels = {f"field_{field_type}" for _, field_type, _ in LAYOUT_FIELDS}
    assert common_table().keys() <= set().union(*used.values()) | labels
    assert _strings_read(_parsed("_parts.html")) <= common_table().keys()
