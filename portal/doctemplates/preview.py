"""Page images for the template editor: the sample PDF with its anchors outlined.

The images are drawn in the sandbox with the render (portal/doctemplates/pdf.py); here they
only become data: URIs (not cached: previews of unsaved edits are throwaway).
"""

import base64
from dataclasses import dataclass

from portal.doctemplates.pdf import RenderedPdf
from portal.pdfs.preview import preview_mimetype

PREVIEW_WIDTH = 700
MAX_PREVIEW_PAGES = 4


@dataclass(frozen=True)
class PageImage:
    number: int
    data_uri: str


def page_images(rendered: RenderedPdf) -> list[PageImage]:
    """The page images the render made, as data: URIs."""
    return [PageImage(number, f"data:{preview_mimetype()};base64,"
                              f"{base64.b64encode(image).decode('ascii')}")
            for number, image in enumerate(rendered.previews, 1)]
