"""Signature, initials and stamp images: drawn, typed (rendered here) or uploaded."""

import base64
import binascii
import functools
from io import BytesIO

from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from portal.config import REPO_ROOT
from portal.signing.access import StepRefused

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_SIDE = 3000
DATA_URL_PREFIX = "data:image/png;base64,"
FONTS = REPO_ROOT / "portal" / "fonts"
# Dancing Script (OFL) looks handwritten but has Latin letters only; names in other scripts
# (Cyrillic) fall back to DejaVu Sans Oblique, which has them all.
HANDWRITING_FONT = FONTS / "DancingScript-Regular.otf"
FALLBACK_FONT = FONTS / "DejaVuSans-Oblique.ttf"
TYPED_FONT_SIZE = 110
TYPED_MAX_LENGTH = 80
INK = (22, 34, 110, 255)
MARGIN = 8


class ImageRefused(StepRefused):
    """An image that cannot be used; the message says why and what to do."""


def _size_text(size: int) -> str:
    return _("%(size)d MB", size=size // (1024 * 1024))


def read_limited(upload, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """The uploaded bytes, refusing an empty file or one over `max_bytes`."""
    data = upload.read(max_bytes + 1) if upload is not None else b""
    if not data:
        raise ImageRefused(_("Choose a PNG or JPEG image to upload."))
    if len(data) > max_bytes:
        raise ImageRefused(_("The image is larger than %(limit)s. Save it smaller and upload "
                             "it again.", limit=_size_text(max_bytes)))
    return data


def clean_image(data: bytes) -> tuple[bytes, str]:
    """Check a PNG or JPEG by its content and re-encode it upright: (bytes, content type).

    PNG stays PNG (transparency kept); JPEG stays JPEG. Re-encoding drops metadata and any
    trailing payload, and turns a photo taken sideways (EXIF orientation) the right way up.
    """
    try:
        with Image.open(BytesIO(data), formats=("PNG", "JPEG")) as image:
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE:
                raise ImageRefused(_(
                    "The image is %(width)d×%(height)d pixels; at most %(max)d×%(max)d is "
                    "accepted. Make it smaller and upload it again.",
                    width=width, height=height, max=MAX_SIDE))
            source_format = image.format
            image.load()  # decodes everything: a truncated or corrupt file fails here
            upright = ImageOps.exif_transpose(image)
    except ImageRefused:
        raise
    except UnidentifiedImageError as error:
        raise ImageRefused(_("This file is not a PNG or JPEG image. Upload a PNG (best: it "
                             "keeps a transparent background) or a JPEG.")) from error
    except Image.DecompressionBombError as error:
        raise ImageRefused(_("The image has too many pixels; at most %(max)d×%(max)d is "
                             "accepted.", max=MAX_SIDE)) from error
    except (OSError, SyntaxError, ValueError, KeyError) as error:
        raise ImageRefused(_("The image is damaged or incomplete. Save it again as PNG or "
                             "JPEG and upload it.")) from error
    return _encode(upright, source_format)


def _encode(image: Image.Image, source_format: str) -> tuple[bytes, str]:
    buffer = BytesIO()
    if source_format == "PNG":
        if image.mode not in ("RGBA", "LA", "RGB", "L", "P", "1"):
            image = image.convert("RGBA")
        image.save(buffer, "PNG")
        return buffer.getvalue(), "image/png"
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue(), "image/jpeg"


def drawn_image(data_url: str) -> bytes:
    """The PNG drawn on the signature pad (a data URL), cropped to the ink."""
    value = (data_url or "").strip()
    if not value:
        raise ImageRefused(_("Draw your signature in the box first."))
    if not value.startswith(DATA_URL_PREFIX):
        raise ImageRefused(_("The drawing did not arrive. Draw your signature again."))
    encoded = value[len(DATA_URL_PREFIX):]
    if len(encoded) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ImageRefused(_("The drawing is too large. Clear it and draw again."))
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageRefused(_("The drawing did not arrive. Draw your signature again.")) from error
    png, content_type = clean_image(data)
    if content_type != "image/png":
        raise ImageRefused(_("The drawing did not arrive. Draw your signature again."))
    with Image.open(BytesIO(png)) as image:
        cropped = crop_to_ink(image.convert("RGBA"))
    if cropped is None:
        raise ImageRefused(_("The box is empty. Draw your signature in it first."))
    return _png(cropped)


def crop_to_ink(image: Image.Image) -> Image.Image | None:
    """The image cut to its non-transparent part plus a small margin; None when all clear."""
    box = image.getchannel("A").getbbox()
    if box is None:
        return None
    left, top, right, bottom = box
    return image.crop((max(0, left - MARGIN), max(0, top - MARGIN),
                       min(image.width, right + MARGIN), min(image.height, bottom + MARGIN)))


def _png(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@functools.lru_cache(maxsize=4)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=2048)
def _handwriting_has(character: str) -> bool:
    """Whether the handwriting font draws `character` (not its empty-box "missing" glyph)."""
    if character.isspace():
        return True
    font = _font(str(HANDWRITING_FONT), 40)
    missing = font.getmask("\uffff")
    glyph = font.getmask(character)
    return (glyph.size, bytes(glyph)) != (missing.size, bytes(missing))


def font_for(text: str) -> str:
    """The handwriting font when it has every letter of `text`, else the oblique fallback."""
    if all(_handwriting_has(character) for character in text):
        return str(HANDWRITING_FONT)
    return str(FALLBACK_FONT)


def clean_typed_name(text: str) -> str:
    name = " ".join(str(text or "").split())
    if not name:
        raise ImageRefused(_("Type your name to make the signature."))
    if len(name) > TYPED_MAX_LENGTH:
        raise ImageRefused(_("Too long: at most %(max)d characters.", max=TYPED_MAX_LENGTH))
    return name


def typed_image(text: str) -> bytes:
    """`text` written in a handwriting-like font on a transparent PNG, cut to the ink."""
    name = clean_typed_name(text)
    font = _font(font_for(name), TYPED_FONT_SIZE)
    left, top, right, bottom = font.getbbox(name)
    width, height = right - left + 4 * MARGIN, bottom - top + 4 * MARGIN
    image = Image.new("RGBA", (max(1, width), max(1, height)), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((2 * MARGIN - left, 2 * MARGIN - top), name, font=font, fill=INK)
    return _png(crop_to_ink(image) or image)


def initials_of(name: str) -> str:
    """"Anna Petrova" -> "A. P."; what the initials field offers to type."""
    letters = [part[0].upper() for part in str(name or "").replace("-", " ").split() if part]
    return " ".join(f"{letter}." for letter in letters[:3])
