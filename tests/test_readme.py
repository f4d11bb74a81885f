"""The README's walkthrough pictures exist, and no document links outside the repository."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SCREENSHOTS = REPO / "docs" / "screenshots"
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HTML_SOURCE = re.compile(r"""<img[^>]*\ssrc=["']([^"']+)["']""")
MAX_PICTURE_BYTES = 200 * 1024


def _targets(markdown: str) -> list[str]:
    return MARKDOWN_LINK.findall(markdown) + HTML_SOURCE.findall(markdown)


def _is_local(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:|^#", target)


def test_every_screenshot_the_readme_shows_exists_and_is_small():
    shown = {target for target in _targets(README.read_text()) if target.endswith(".png")}
    assert shown, "the README shows no screenshots"
    for target in shown:
        picture = REPO / target
        assert picture.parent == SCREENSHOTS, f"{target} is not in docs/screenshots"
        assert picture.is_file(), f"the README shows {target}, which does not exist"
        assert picture.stat().st_size < MAX_PICTURE_BYTES, f"{target} is over 200 KB"
    stale = {f"docs/screenshots/{p.name}" for p in SCREENSHOTS.glob("*.png")} - shown
    assert not stale, f"pictures the README does not show: {sorted(stale)}"


def test_no_document_links_outside_the_repository():
    assert "../" not in README.read_text(), "the README points outside the repository"
    for document in [README, *sorted((REPO / "docs").glob("*.md"))]:
        for target in filter(_is_local, _targets(document.read_text())):
            path = (document.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(REPO), f"{document.name} links outside: {target}"
            assert path.exists(), f"{document.name} links to a missing {target}"
