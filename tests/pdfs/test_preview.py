"""Previews: the displayed page as an image, rendered once and then read from disk."""

import hashlib
import threading
from io import BytesIO

import pytest
from PIL import Image

from portal.extensions import db
from portal.pdfs import preview as preview_module
from portal.pdfs import preview_mimetype, render_preview
from portal.storage import path_for, store
from tests.fixtures import fixture_bytes
from tests.pdfs.support import light_app


@pytest.fixture
def app(tmp_path):
    return light_app(tmp_path)


def image_of(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


def test_the_preview_is_an_image_of_the_requested_width_in_the_page_aspect(app):
    with app.app_context():
        data = render_preview(fixture_bytes("plain.pdf"), 1, width=600)
    image = image_of(data)
    assert preview_mimetype() == "image/jpeg" and image.format == "JPEG"
    assert image.width == 600
    assert image.height == round(600 * 841.8898 / 595.2756)
    # Text is drawn: some pixels are dark, the margin is white.
    grey = image.convert("L")
    assert grey.getextrema()[0] < 60
    assert grey.getpixel((10, 10)) > 245


def test_a_rotated_page_previews_landscape(app):
    with app.app_context():
        image = image_of(render_preview(fixture_bytes("rotated-90.pdf"), 1, width=800))
    assert image.width == 800
    assert image.height == round(800 * 595.2756 / 841.8898)


def test_a_cropped_page_previews_only_its_crop_box(app):
    with app.app_context():
        image = image_of(render_preview(fixture_bytes("cropped-offset.pdf"), 1, width=495))
    assert image.size == (495, 700)


def test_the_width_is_clamped(app):
    plain = fixture_bytes("plain.pdf")
    with app.app_context():
        assert image_of(render_preview(plain, 1, width=10)).width == 200
        assert image_of(render_preview(plain, 1, width=10_000)).width == 2000


def test_pages_are_one_based_and_must_exist(app):
    three = fixture_bytes("three-pages.pdf")
    with app.app_context():
        assert image_of(render_preview(three, 3, width=300)).width == 300
        with pytest.raises(ValueError):
            render_preview(three, 4, width=300)
        with pytest.raises(ValueError):
            render_preview(three, 0, width=300)


def test_a_second_call_reads_the_cached_file_without_rendering(app, monkeypatch):
    calls = []
    real_run = preview_module.run_bounded

    def counting_run(target, *args):
        calls.append(args[1:])
        return real_run(target, *args)

    monkeypatch.setattr(preview_module, "run_bounded", counting_run)
    data = fixture_bytes("plain.pdf")
    sha256 = hashlib.sha256(data).hexdigest()
    with app.app_context():
        first = render_preview(data, 1, width=400)
        cached = preview_module.preview_path(sha256, 1, 400)
        assert cached.is_file()
        assert cached.is_relative_to(app.instance_path)
        second = render_preview(data, 1, width=400)
        render_preview(data, 1, width=500)  # another width is another image
    assert first == second
    assert calls == [(1, 400), (1, 500)]


def test_the_cache_folder_can_be_configured(tmp_path):
    app = light_app(tmp_path, SIGNET_PREVIEW_DIR=str(tmp_path / "elsewhere"))
    with app.app_context():
        render_preview(fixture_bytes("plain.pdf"), 1, width=300)
    assert len(list((tmp_path / "elsewhere").rglob("*.jpg"))) == 1


def test_a_stored_blob_previews_by_its_sha256_and_then_needs_no_file(app):
    data = fixture_bytes("three-pages.pdf")
    with app.app_context():
        db.create_all()
        blob = store(data, "application/pdf")
        db.session.commit()
        first = render_preview(blob.sha256, 2, width=300)
        path_for(blob.sha256).unlink()  # a cached preview never reads the PDF again
        assert render_preview(blob.sha256, 2, width=300) == first
        with pytest.raises(ValueError):
            render_preview("../../etc/passwd", 1)


def test_concurrent_renders_are_serialised_and_all_succeed(app):
    data = fixture_bytes("three-pages.pdf")
    results, errors = {}, []

    def work(width):
        try:
            with app.app_context():
                results[width] = image_of(render_preview(data, 1 + width % 3, width)).width
        except Exception as error:  # collected: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=(300 + n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == {300 + n: 300 + n for n in range(6)}
