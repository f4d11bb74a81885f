"""Whether a text value fits a field's box, and how it is set there: the one authority.

The burn-in (portal/sealing/burn.py) draws a text value with the size and lines fit_in_box()
gives; the placement editor, the send step and the signing page ask text_fits() the same
question about values known before signing, so a warning and the drawing cannot disagree.

A value is wrapped (words, then long words broken) and shrunk until it fits the box, down to
READABLE_FONT_SIZE. A value that does not fit even then is "not readable": the sender is
warned (and refused sending) and a signer's typed value is refused, so it should not reach
the burn-in. If one does (requisites changed after the check, a hand-made document), the
burn-in never drops content: it shrinks below the readable floor until every line fits the
box (still vector text: it zooms and extracts), and only past LAST_RESORT_FONT_SIZE does the
block run past the box's bottom edge rather than lose lines.

Sizes are in points. Needs no app: it also runs in the sandbox with the burn-in.
"""

import threading
from dataclasses import dataclass

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from portal.config import REPO_ROOT

FONT_NAME = "Signet-DejaVuSans"
BOLD_FONT_NAME = "Signet-DejaVuSans-Bold"
FONT_PATH = REPO_ROOT / "portal" / "fonts" / "DejaVuSans.ttf"
BOLD_FONT_PATH = REPO_ROOT / "portal" / "fonts" / "DejaVuSans-Bold.ttf"

READABLE_FONT_SIZE = 6.0  # the smallest size a printed value still reads at arm's length
LAST_RESORT_FONT_SIZE = 1.0
MAX_FONT_SIZE = 48.0
# A value's size when none is asked for: as large as the box allows, up to about the size of
# a document's own text (requisites in a tall box must not come out as a headline).
AUTO_FONT_SIZE = 10.0
LINE_SPACING = 1.2
TEXT_PADDING = 0.04  # of the box height (or width), at most 2 pt, left and right of the text
MAX_PADDING = 2.0
SEARCH_STEPS = 12  # binary search of the size: (48 - 1) / 2**12, finer than 0.02 pt

_font_lock = threading.Lock()
_font_registered = False


def register_font() -> str:
    """Register DejaVu Sans (regular and bold) with reportlab once per process; the name."""
    global _font_registered
    with _font_lock:
        if not _font_registered:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
            pdfmetrics.registerFont(TTFont(BOLD_FONT_NAME, str(BOLD_FONT_PATH)))
            # <b> in reportlab paragraphs picks the bold face of the family.
            addMapping(FONT_NAME, 0, 0, FONT_NAME)
            addMapping(FONT_NAME, 1, 0, BOLD_FONT_NAME)
            addMapping(FONT_NAME, 0, 1, FONT_NAME)
            addMapping(FONT_NAME, 1, 1, BOLD_FONT_NAME)
            _font_registered = True
    return FONT_NAME


@dataclass(frozen=True)
class TextFit:
    """How a value is set in its box."""

    size: float  # points
    lines: tuple[str, ...]
    padding: float  # left and right of the lines, in points
    readable: bool  # every line inside the box at READABLE_FONT_SIZE or larger
    inside: bool  # every line inside the box (False: past the last resort, runs below it)

    @property
    def block_height(self) -> float:
        return block_height(len(self.lines), self.size)


def padding_for(width: float, height: float) -> float:
    return min(MAX_PADDING, height * TEXT_PADDING, width * TEXT_PADDING)


def fit_in_box(text: str, width: float, height: float,
               font_size: float | None = None) -> TextFit:
    """The size and lines of `text` in a box `width` x `height` points.

    `font_size`: the size wanted (None: as large as the box allows, at most AUTO_FONT_SIZE);
    it is only ever shrunk.
    """
    padding = padding_for(width, height)
    return fit_lines(text, max(width - 2 * padding, 0.01), height, font_size, padding)


def fit_lines(text: str, inner: float, height: float, font_size: float | None = None,
              padding: float = 0.0) -> TextFit:
    """fit_in_box for lines `inner` points wide (the box less its padding)."""
    register_font()
    if not text.strip():
        return TextFit(font_size or READABLE_FONT_SIZE, (), padding, True, True)
    wanted = font_size or min(AUTO_FONT_SIZE, height / LINE_SPACING * 0.95)
    wanted = max(LAST_RESORT_FONT_SIZE, wanted)
    lines = wrap(text, wanted, inner)
    if fits(lines, wanted, inner, height):
        return TextFit(wanted, tuple(lines), padding, wanted >= READABLE_FONT_SIZE, True)
    floor = min(wanted, READABLE_FONT_SIZE)
    at_floor = wrap(text, floor, inner)
    if floor >= READABLE_FONT_SIZE and fits(at_floor, floor, inner, height):
        size, lines = _largest_fitting(text, floor, wanted, inner, height, at_floor)
        return TextFit(size, tuple(lines), padding, True, True)
    # Not readable in this box. Never drop a line: smaller still, down to the last resort.
    last = wrap(text, LAST_RESORT_FONT_SIZE, inner)
    if not fits(last, LAST_RESORT_FONT_SIZE, inner, height):
        return TextFit(LAST_RESORT_FONT_SIZE, tuple(last), padding, False, False)
    size, lines = _largest_fitting(text, LAST_RESORT_FONT_SIZE, floor, inner, height, last)
    return TextFit(size, tuple(lines), padding, False, True)


def text_fits(text: str, width: float, height: float, font_size: float | None = None) -> bool:
    """Whether all of `text` fits a `width` x `height` point box at a readable size."""
    return fit_in_box(text, width, height, font_size).readable


def smallest_height(text: str, width: float) -> float:
    """The box height (points) `text` needs at the readable floor in a box `width` wide."""
    register_font()
    inner = max(width - 2 * min(MAX_PADDING, width * TEXT_PADDING), 0.01)
    return block_height(len(wrap(text, READABLE_FONT_SIZE, inner)), READABLE_FONT_SIZE)


def _largest_fitting(text: str, low: float, high: float, width: float, height: float,
                     at_low: list[str]) -> tuple[float, list[str]]:
    """The largest size in [low, high] whose lines fit; `at_low` (the lines at `low`) fit."""
    best = (low, at_low)
    for _step in range(SEARCH_STEPS):
        middle = (low + high) / 2
        candidate = wrap(text, middle, width)
        if fits(candidate, middle, width, height):
            best, low = (middle, candidate), middle
        else:
            high = middle
    return best


def wrap(text: str, size: float, max_width: float) -> list[str]:
    """Lines that fit `max_width`: words wrap, explicit newlines stay, long words break."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if width_of(candidate, size) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            while width_of(word, size) > max_width and len(word) > 1:
                cut = _longest_prefix(word, size, max_width)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def _longest_prefix(word: str, size: float, max_width: float) -> int:
    cut = 1
    while cut < len(word) and width_of(word[: cut + 1], size) <= max_width:
        cut += 1
    return cut


def width_of(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, FONT_NAME, size)


def block_height(line_count: int, size: float) -> float:
    """The height of `line_count` lines: baseline steps plus one line's ascent and descent."""
    if line_count == 0:
        return 0.0
    ascent, descent = pdfmetrics.getAscentDescent(FONT_NAME, size)
    return (line_count - 1) * size * LINE_SPACING + (ascent - descent)


def fits(lines: list[str], size: float, width: float, height: float) -> bool:
    return (block_height(len(lines), size) <= height
            and all(width_of(line, size) <= width for line in lines))
