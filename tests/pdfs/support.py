"""Helpers shared by the PDF and burn-in tests: a light app, rendering, pixel boxes."""

from contextlib import contextmanager
from io import BytesIO

import pypdfium2
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject

from portal import create_app


def light_app(tmp_path, **overrides):
    """An app for code that reads config only: in-memory SQLite, its own instance folder."""
    return create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        **overrides,
    })


@contextmanager
def configured(app, **config):
    """The app with some settings changed for one block (the app is shared by the module)."""
    saved = {key: app.config[key] for key in config}
    app.config.update(config)
    try:
        with app.app_context():
            yield
    finally:
        app.config.update(saved)


def render(pdf_bytes: bytes, page: int = 1, scale: float = 1.0) -> Image.Image:
    """The displayed page as PDFium draws it, in greyscale."""
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return document[page - 1].render(scale=scale).to_pil().convert("L")
    finally:
        document.close()


def darkened_box(before: bytes, after: bytes, page: int = 1):
    """Bounding box (fractions x0, y0, x1, y1) of what turned dark between two renders."""
    old, new = render(before, page), render(after, page)
    assert old.size == new.size
    difference = ImageChops.subtract(old, new).point(lambda v: 255 if v > 100 else 0)
    box = difference.getbbox()
    if box is None:
        return None
    width, height = new.size
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)


def with_rotation(pdf_bytes: bytes, rotation: int, page: int = 1) -> bytes:
    """The same PDF with /Rotate set on one page."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf_bytes)))
    writer.pages[page - 1][NameObject("/Rotate")] = NumberObject(rotation)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def png(width: int, height: int, colour="black", mode="RGB") -> bytes:
    """A one-colour PNG."""
    out = BytesIO()
    Image.new(mode, (width, height), colour).save(out, "PNG")
    return out.getvalue()
