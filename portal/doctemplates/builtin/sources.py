"""The shipped templates' bodies, made from one HTML source and one strings table per kind.

A source (act.html, invoice.html, contract.html) is the body an administrator sees, written
once for all languages. It is rendered here, when the body is asked for, by a plain Jinja
environment of ours (these files are trusted) whose tags are square: `[[ s.key ]]` puts in a
string of the template's language, `[% ... %]` is load-time logic and `[# ... #]` a load-time
comment. The curly tags, `{{ ... }}` and `{% ... %}`, are left as they are: they are the
document template the portal stores and renders in its sandbox when a document is made.

Strings live in TOML tables, one section per string with a value per language: common.toml
for the strings several kinds share, <kind>.toml for the rest. A string may hold `{name}`
placeholders, filled by the source with pieces of the document template (`fill`), so each
language orders its sentence as it needs.
"""

import tomllib
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

FOLDER = Path(__file__).resolve().parent
KINDS = ("act", "invoice", "contract")
LANGUAGES = ("en", "ru", "pt")
COMMON = "common"


def _read_table(name: str) -> dict[str, dict[str, str]]:
    """{key: {language: text}} from name.toml; every key has every language."""
    table = tomllib.loads((FOLDER / f"{name}.toml").read_text(encoding="utf-8"))
    for key, texts in table.items():
        missing = set(LANGUAGES) - set(texts)
        if missing:
            raise ValueError(f"{name}.toml: [{key}] has no {', '.join(sorted(missing))}")
    return table


@cache
def common_table() -> dict[str, dict[str, str]]:
    """The strings every kind may use, the field labels of the default layout among them."""
    return _read_table(COMMON)


@cache
def string_table(kind: str) -> dict[str, dict[str, str]]:
    """The strings a kind's source may use: the common ones and its own (no key in both)."""
    common, own = common_table(), _read_table(kind)
    shared = set(common) & set(own)
    if shared:
        raise ValueError(f"{kind}.toml repeats common keys: {', '.join(sorted(shared))}")
    return {**common, **own}


def strings(kind: str, language: str) -> dict[str, str]:
    """{key: text} of one kind in one language."""
    return {key: texts[language] for key, texts in string_table(kind).items()}


def fill(text: str, **pieces: str) -> str:
    """`text` with its {name} placeholders replaced by pieces of the document template."""
    return text.format_map(pieces)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(FOLDER),
        block_start_string="[%", block_end_string="%]",
        variable_start_string="[[", variable_end_string="]]",
        comment_start_string="[#", comment_end_string="#]",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        # A misspelt string key fails here, not as an empty gap in a shipped document.
        undefined=StrictUndefined,
        # Our own trusted sources, and the output is template source, not HTML for a browser.
        autoescape=False,  # noqa: S701
    )
    environment.filters["fill"] = fill
    return environment


@cache
def render_body(kind: str, language: str) -> str:
    """The document template body of `kind` in `language`, as the portal stores it."""
    template = _environment().get_template(f"{kind}.html")
    return template.render(s=strings(kind, language), language=language)
