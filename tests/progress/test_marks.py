"""Which filled values become marks on the final PDF."""

from portal.documents.models import Document, Field
from portal.sealing.finalize import final_filename, mark_for

BOX = {"page": 2, "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.05}


def test_text_kinds_burn_their_value_and_empty_ones_nothing():
    for kind in ("text", "number", "date", "requisites"):
        mark = mark_for(Field(type=kind, value="12 500,00 ₽", **BOX))
        assert (mark.kind, mark.text, mark.page, mark.w) == ("text", "12 500,00 ₽", 2, 0.3)
        assert mark_for(Field(type=kind, value="  ", **BOX)) is None


def test_a_checkbox_is_ticked_only_when_checked():
    assert mark_for(Field(type="checkbox", value="1", **BOX)).kind == "check"
    assert mark_for(Field(type="checkbox", value="on", **BOX)).kind == "check"
    for unchecked in ("", "0", "false", "off", "no"):
        assert mark_for(Field(type="checkbox", value=unchecked, **BOX)) is None


def test_an_image_field_without_an_image_leaves_no_mark():
    for kind in ("signature", "initials", "stamp"):
        assert mark_for(Field(type=kind, value="", value_sha256=None, **BOX)) is None


def test_the_final_file_is_named_after_the_number():
    assert final_filename(Document(id=7, number="ACT-2026-00001")) == "ACT-2026-00001.pdf"
    assert final_filename(Document(id=7, number="Акт/2026 №5")) == "Акт-2026-5.pdf"
    assert final_filename(Document(id=7, number="")) == "document-7.pdf"
