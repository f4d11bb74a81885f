"""Checking an uploaded stamp image by its content, never by its name."""

from io import BytesIO

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

MAX_SIDE = 2000
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg"}


class InvalidStamp(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def size_text(size: int) -> str:
    """A byte count as people read it: 2 MB, 1.5 MB, 300 KB."""
    megabytes = size / (1024 * 1024)
    if megabytes >= 1:
        if megabytes == int(megabytes):
            return _("%(size)d MB", size=int(megabytes))
        return _("%(size).1f MB", size=megabytes)
    return _("%(size)d KB", size=max(1, round(size / 1024)))


def read_upload(upload, max_bytes: int) -> bytes:
    """The uploaded bytes (a file-like or bytes), refusing more than `max_bytes`."""
    data = upload if isinstance(upload, bytes) else upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidStamp(
            _("The stamp image is larger than %(limit)s. Save it smaller and upload it again.",
              limit=size_text(max_bytes))
        )
    if not data:
        raise InvalidStamp(_("The file is empty. Choose a PNG or JPEG image."))
    return data


def check_stamp(data: bytes) -> str:
    """The content type of a usable PNG or JPEG stamp, or InvalidStamp with the reason."""
    try:
        with Image.open(BytesIO(data), formats=("PNG", "JPEG")) as image:
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE:
                raise InvalidStamp(
                    _("The image is %(width)d×%(height)d pixels; a stamp may be at most "
                      "%(max)d×%(max)d. Make it smaller and upload it again.",
                      width=width, height=height, max=MAX_SIDE)
                )
            content_type = CONTENT_TYPES[image.format]
            image.load()  # decodes everything: a truncated or corrupt file fails here
    except InvalidStamp:
        raise
    except UnidentifiedImageError as error:
        raise InvalidStamp(
            _("This file is not a PNG or JPEG image. Upload the stamp as PNG (best, keeps a "
              "transparent background) or JPEG.")
        ) from error
    except Image.DecompressionBombError as error:
        raise InvalidStamp(
            _("The image has too many pixels; a stamp may be at most %(max)d×%(max)d.",
              max=MAX_SIDE)
        ) from error
    except (OSError, SyntaxError, ValueError, KeyError) as error:
        raise InvalidStamp(
            _("The image is damaged or incomplete. Save it again as PNG or JPEG and upload it.")
        ) from error
    return content_type
