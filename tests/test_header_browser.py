"""The desktop header: brand, links, the administration menu and the user's corner side by
side, none shrunk under its label nor pushing the page sideways, in every language."""

import pytest

from tests.helpers import browser_log_in

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"

# The header's items as boxes; which pairs overlap, the narrowest gap, the sideways overflow.
MEASURE = """() => {
  const items = [...document.querySelectorAll(
      '.brand, .menu-panel > a, .menu-group > summary, .menu-profile, .menu-user .button')]
    .filter(item => item.offsetParent);
  const boxes = items.map(item => [item.textContent.trim(), item.getBoundingClientRect()])
    .sort((a, b) => a[1].left - b[1].left);
  const overlapping = [], gaps = [];
  for (let i = 1; i < boxes.length; i++) {
    const gap = boxes[i][1].left - boxes[i - 1][1].right;
    gaps.push(gap);
    if (gap < 0) overlapping.push(boxes[i - 1][0] + ' / ' + boxes[i][0]);
  }
  const truncated = items.filter(item => item.scrollWidth > item.clientWidth + 1
                                 && !item.classList.contains('menu-profile'))
    .map(item => item.textContent.trim());
  const root = document.documentElement;
  return {overlapping, truncated, narrowest: Math.min(...gaps),
          overflow: root.scrollWidth - root.clientWidth, count: boxes.length};
}"""


@pytest.mark.parametrize("language", ["en", "ru", "pt"])
def test_the_header_fits_from_the_narrowest_desktop_to_a_wide_screen(browser, live_server,
                                                                      admin, language):
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  base_url=live_server.url, locale=language)
    try:
        page = context.new_page()
        browser_log_in(page, admin["email"], PASSWORD)
        for width in (1150, 1280, 1920):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto("/documents")
            measured = page.evaluate(MEASURE)
            assert measured["count"] >= 9, measured
            assert measured["overlapping"] == [], (width, measured)
            assert measured["truncated"] == [], (width, measured)
            assert measured["narrowest"] >= 3, (width, measured)
            assert measured["overflow"] == 0, (width, measured)
    finally:
        context.close()
