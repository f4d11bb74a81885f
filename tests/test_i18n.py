"""Every user-facing string is translated into Russian and Portuguese, placeholders intact."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOGS = Path(__file__).resolve().parent.parent / "portal" / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _messages(language):
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return [message for message in read_po(handle) if message.id]


def _template_ids():
    with open(CATALOGS / "messages.pot", "rb") as handle:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(handle) if message.id}


@pytest.mark.parametrize("language", ["ru", "pt"])
def test_catalog_is_complete_and_current(language):
    messages = _messages(language)
    untranslated = [m.id for m in messages
                    if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert untranslated == []
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in messages}
    assert ids == _template_ids(), "run `make i18n-extract` and translate the new strings"


@pytest.mark.parametrize("language", ["ru", "pt"])
def test_translations_keep_every_placeholder(language):
    for message in _messages(language):
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(" ".join(sources)))
        for target in targets:
            # A plural form may drop the number ("one file"), never add or rename a name.
            assert set(PLACEHOLDER.findall(target)) <= expected, (message.id, target)
            named = {p for p in expected if not p.startswith("%(num)")}
            assert named <= set(PLACEHOLDER.findall(target)), (message.id, target)


def test_templates_and_macros_imported_without_context_speak_the_requests_language(app):
    from flask import render_template_string

    page = ('{% from "macros/pager.html" import pager %}'
            '{{ _("Password") }}|{{ ngettext("%(num)d day", "%(num)d days", 5) }}|'
            '{{ pager(2, 3, "home.index", "#list") }}')
    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        russian = render_template_string(page)
    with app.test_request_context("/", headers={"Accept-Language": "pt"}):
        portuguese = render_template_string(page)
    assert russian.startswith("Пароль|5 дней|") and "Страница 2 из 3" in russian
    assert portuguese.startswith("Palavra-passe|5 dias|") and "Página 2 de 3" in portuguese
