"""What a page looks like on screen: its displayed size, rotation and crop box.

Field positions are stored as fractions (x, y, w, h; origin top-left) of the DISPLAYED page:
the CropBox (clipped to the MediaBox) turned by /Rotate. That is exactly the preview image,
so a box drawn on the preview maps to the page without knowing anything about PDF boxes.
"""

from dataclasses import dataclass
from io import BytesIO

from pypdf import PdfReader
from pypdf.generic import RectangleObject


@dataclass(frozen=True)
class PageGeometry:
    """One page as displayed: size in points after rotation, and where it sits in PDF space."""

    number: int  # 1-based
    width: float  # displayed width in points (after /Rotate)
    height: float  # displayed height in points (after /Rotate)
    rotation: int  # 0, 90, 180 or 270 (clockwise, as viewers turn the page)
    crop_box: tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF user space

    @property
    def is_landscape(self) -> bool:
        return self.width > self.height

    @property
    def ctm(self) -> tuple[float, float, float, float, float, float]:
        """The matrix taking displayed points (origin bottom-left) to PDF user space."""
        x0, y0, x1, y1 = self.crop_box
        return {
            0: (1, 0, 0, 1, x0, y0),
            90: (0, 1, -1, 0, x1, y0),
            180: (-1, 0, 0, -1, x1, y1),
            270: (0, -1, 1, 0, x0, y1),
        }[self.rotation]

    def to_displayed_points(self, x: float, y: float, w: float, h: float):
        """Fractions (top-left origin) -> (left, bottom, width, height) in displayed points."""
        return (
            x * self.width,
            (1 - y - h) * self.height,
            w * self.width,
            h * self.height,
        )


def normalise_rotation(value) -> int:
    """/Rotate as PDFium reads it: whole quarter turns (truncated), in 0..270."""
    try:
        quarters = int(int(value) / 90)
    except (TypeError, ValueError):
        return 0
    return (quarters % 4) * 90


def _box(rect) -> tuple[float, float, float, float]:
    rect = RectangleObject(rect)
    xs = (float(rect[0]), float(rect[2]))
    ys = (float(rect[1]), float(rect[3]))
    return min(xs), min(ys), max(xs), max(ys)


def _visible_box(media, crop) -> tuple[float, float, float, float]:
    """The CropBox clipped to the MediaBox; an empty overlap falls back to the MediaBox."""
    x0, y0 = max(media[0], crop[0]), max(media[1], crop[1])
    x1, y1 = min(media[2], crop[2]), min(media[3], crop[3])
    if x1 <= x0 or y1 <= y0:
        return media
    return x0, y0, x1, y1


def _inherited(page, key):
    """A page attribute, looked up the page tree as the PDF spec says for boxes and /Rotate."""
    node, seen = page, 0
    while node is not None and seen < 64:
        if key in node:
            return node[key].get_object()
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
        seen += 1
    return None


def geometry_of(page, number: int) -> PageGeometry:
    """The PageGeometry of one pypdf page."""
    media_value = _inherited(page, "/MediaBox")
    # No MediaBox at all is broken; viewers (and PDFium) assume US Letter.
    media = _box(media_value) if media_value is not None else (0.0, 0.0, 612.0, 792.0)
    crop_value = _inherited(page, "/CropBox")
    box = _visible_box(media, _box(crop_value)) if crop_value is not None else media
    rotation = normalise_rotation(_inherited(page, "/Rotate") or 0)
    width, height = box[2] - box[0], box[3] - box[1]
    if rotation in (90, 270):
        width, height = height, width
    return PageGeometry(number, width, height, rotation, box)


def reader_for(pdf_bytes: bytes) -> PdfReader:
    return PdfReader(BytesIO(pdf_bytes), strict=False)


def page_geometry(pdf_bytes: bytes) -> list[PageGeometry]:
    """Every page's displayed size, rotation and crop box, in page order."""
    reader = reader_for(pdf_bytes)
    return [geometry_of(page, number) for number, page in enumerate(reader.pages, start=1)]


def page_count(pdf_bytes: bytes) -> int:
    """How many pages the PDF has."""
    return len(reader_for(pdf_bytes).pages)
