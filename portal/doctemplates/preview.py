"""Page images for the template editor: the sample PDF with its anchors outlined."""

import base64
from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageDraw, ImageFont

from portal.doctemplates.pdf import FONT_DIR, RenderedPdf
from portal.pdfs.preview import encode_preview, preview_mimetype, render_page_image

PREVIEW_WIDTH = 700
MAX_PREVIEW_PAGES = 4
ROLE_COLOURS = {"company": (37, 99, 235), "client": (22, 163, 74), "approver": (217, 119, 6)}


@dataclass(frozen=True)
class PageImage:
    number: int
    data_uri: str


@lru_cache(maxsize=1)
def _label_font():
    return ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), 11)


def _outline_anchors(image, anchors: dict, page: int) -> None:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for name, box in anchors.items():
        if box.page != page:
            continue
        colour = ROLE_COLOURS.get(name.split(".")[0], (100, 100, 100))
        left, top = box.x * width, box.y * height
        right, bottom = left + box.w * width, top + box.h * height
        draw.rectangle((left, top, right, bottom), outline=colour, width=2)
        draw.text((left + 3, top + 2), name, fill=colour, font=_label_font())


def page_images(rendered: RenderedPdf, max_pages: int = MAX_PREVIEW_PAGES) -> list[PageImage]:
    """The first pages as data: URIs (not cached: previews of unsaved edits are throwaway)."""
    images = []
    for page in range(1, min(rendered.page_count, max_pages) + 1):
        image = render_page_image(rendered.pdf_bytes, page, PREVIEW_WIDTH)
        _outline_anchors(image, rendered.anchors, page)
        encoded = base64.b64encode(encode_preview(image)).decode("ascii")
        images.append(PageImage(page, f"data:{preview_mimetype()};base64,{encoded}"))
    return images
