"""Hostile and broken files: each gets a verdict and a reason, within the sandbox's bounds.

The bounds themselves (time, memory) are the sandbox's job and tested in test_sandbox.py; here
every file must come back as a report, never as an exception.
"""

import io
import re
import zlib

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject

from portal.verify.registry import UploadTooLarge, read_upload_safely
from portal.verify.report import ENCRYPT_ENTRY, build_report
from portal.verify.verdicts import (
    CHANGE_PAGES,
    FOREIGN,
    INVALID,
    MODIFIED,
    PROBLEM_DAMAGED,
    PROBLEM_EMPTY,
    PROBLEM_ENCRYPTED,
    PROBLEM_NOT_PDF,
    PROBLEM_TOO_COMPLEX,
    PROBLEM_TOO_LARGE,
    UNSIGNED,
)
from tests.fixtures import fixture_bytes
from tests.verify import garbage
from tests.verify.support import sealed_by_portal, signature_hole, updated


@pytest.fixture(scope="module")
def sealed(sqlite_only_app):
    with sqlite_only_app.app_context():
        return sealed_by_portal()


def check(app, data: bytes):
    with app.app_context():
        return build_report(data)


def assert_invalid(report, problem: str) -> None:
    assert report.verdict == INVALID
    assert report.problem_code == problem
    assert report.problem  # a sentence for the reader
    assert report.seal is None and report.changes == ()


UNREADABLE = [
    ("empty", b"", PROBLEM_EMPTY),
    ("a PNG image", fixture_bytes("transparent.png"), PROBLEM_NOT_PDF),
    ("a text file named .pdf", fixture_bytes("text-file.pdf"), PROBLEM_NOT_PDF),
    ("a header far into the file", b" " * 2000 + garbage.minimal_pdf(), PROBLEM_NOT_PDF),
    ("only a header", b"%PDF-1.7\n", PROBLEM_DAMAGED),
    ("a truncated plain PDF", fixture_bytes("broken-truncated.pdf"), PROBLEM_DAMAGED),
    ("startxref pointing at garbage", garbage.broken_xref(garbage.minimal_pdf()),
     PROBLEM_DAMAGED),
    ("an encrypted PDF", fixture_bytes("encrypted-empty-password.pdf"), PROBLEM_ENCRYPTED),
    ("arrays nested 100,000 deep", garbage.deeply_nested_arrays(), PROBLEM_DAMAGED),
    ("dictionaries nested 50,000 deep", garbage.deeply_nested_dictionaries(), PROBLEM_DAMAGED),
]


@pytest.mark.parametrize(("name", "data", "problem"), UNREADABLE,
                         ids=[name for name, _data, _problem in UNREADABLE])
def test_unreadable_files_are_invalid_with_a_reason(sqlite_only_app, name, data, problem):
    assert_invalid(check(sqlite_only_app, data), problem)


def test_a_truncated_sealed_pdf_is_invalid_wherever_it_is_cut(sqlite_only_app, sealed):
    for fraction in (0.1, 0.5, 0.9):
        report = check(sqlite_only_app, sealed[:int(len(sealed) * fraction)])
        assert report.verdict == INVALID, fraction
        assert report.problem_code == PROBLEM_DAMAGED, fraction


def test_a_sealed_pdf_with_a_broken_xref_is_invalid(sqlite_only_app, sealed):
    assert_invalid(check(sqlite_only_app, garbage.broken_xref(sealed)), PROBLEM_DAMAGED)


def test_an_encryption_entry_hidden_from_the_quick_look_is_still_found(sqlite_only_app):
    # A later revision whose trailer omits /Encrypt, behind 5 KB of comment: the parent's quick
    # look at both ends of the file misses it, the reader in the sandbox does not.
    encrypted = fixture_bytes("encrypted-empty-password.pdf")
    previous_xref = int(re.findall(rb"startxref\s+(\d+)", encrypted)[-1])
    size = re.findall(rb"/Size\s+(\d+)", encrypted)[-1]
    root = re.findall(rb"/Root\s+(\d+\s+\d+\s+R)", encrypted)[-1]
    body = encrypted + b"%" + b"x" * 5000 + b"\n"
    update = body + b"xref\n0 0\ntrailer\n<< /Size %s /Root %s /Prev %d >>\nstartxref\n%d\n" \
        b"%%%%EOF\n" % (size, root, previous_xref, len(body))
    assert not ENCRYPT_ENTRY.search(update[:4096] + update[-4096:])

    assert_invalid(check(sqlite_only_app, update), PROBLEM_ENCRYPTED)


def test_cyclic_page_and_field_trees_end(sqlite_only_app):
    report = check(sqlite_only_app, garbage.cyclic_trees())
    assert report.verdict in (INVALID, UNSIGNED)


def test_a_huge_image_is_never_decoded(sqlite_only_app):
    report = check(sqlite_only_app, garbage.huge_image())
    assert report.verdict == UNSIGNED


def with_huge_image_page(pdf: bytes) -> bytes:
    """An incremental update adding a page that draws a 100000 x 100000 Flate image."""
    def edit(writer):
        data = zlib.compress(b"\0" * (4 * 1024 * 1024), 9)
        image = writer.add_object(generic.StreamObject({
            generic.NameObject(key): value for key, value in (
                ("/Type", generic.NameObject("/XObject")),
                ("/Subtype", generic.NameObject("/Image")),
                ("/Width", generic.NumberObject(100_000)),
                ("/Height", generic.NumberObject(100_000)),
                ("/ColorSpace", generic.NameObject("/DeviceRGB")),
                ("/BitsPerComponent", generic.NumberObject(8)),
                ("/Filter", generic.NameObject("/FlateDecode")))}, encoded_data=data))
        contents = writer.add_object(generic.StreamObject(
            stream_data=b"q 595 0 0 842 0 0 cm /Im0 Do Q"))
        resources = generic.DictionaryObject({generic.NameObject("/XObject"):
                                              generic.DictionaryObject({
                                                  generic.NameObject("/Im0"): image})})
        writer.insert_page(PageObject(contents=contents, media_box=[0, 0, 595, 842],
                                      resources=resources))
    return updated(pdf, edit)


def test_a_huge_image_added_after_our_seal_is_an_added_page(sqlite_only_app, sealed):
    report = check(sqlite_only_app, with_huge_image_page(sealed))
    assert report.verdict == MODIFIED
    assert report.changes == (CHANGE_PAGES,) and report.added_pages == 1


def test_a_compressed_stream_bomb_is_refused(sqlite_only_app):
    report = check(sqlite_only_app, garbage.object_stream_bomb())
    assert report.verdict == INVALID
    assert report.problem_code in (PROBLEM_DAMAGED, PROBLEM_TOO_COMPLEX)


def test_a_huge_object_graph_is_too_complex(sqlite_only_app):
    data = garbage.huge_object_graph()
    assert len(data) < sqlite_only_app.config["SIGNET_UPLOAD_MAX_BYTES"]
    report = check(sqlite_only_app, data)
    assert report.verdict in (INVALID, UNSIGNED)
    if report.verdict == INVALID:
        assert report.problem_code == PROBLEM_TOO_COMPLEX


def test_thousands_of_broken_signatures_are_counted_not_validated(sqlite_only_app):
    report = check(sqlite_only_app, garbage.signature_field_flood(3000))
    assert report.verdict == FOREIGN
    assert report.seal.signature_count == 3000
    assert report.seal.signatures == ()  # none could even be parsed


def test_thousands_of_copies_of_our_signature_are_capped_and_still_ours(sqlite_only_app,
                                                                        sealed, monkeypatch):
    # Twenty real validations: ~2 s alone, near the short test limit on a loaded machine.
    monkeypatch.setitem(sqlite_only_app.config, "SIGNET_VERIFY_TIMEOUT", 30)
    start, end = signature_hole(sealed)
    flood = garbage.signature_field_flood(3000, contents_hex=sealed[start:end])
    report = check(sqlite_only_app, flood)
    assert report.verdict == MODIFIED  # our certificate, over bytes it never signed
    assert report.seal.signature_count == 3000
    assert 0 < len(report.seal.signatures) <= 20
    assert not report.seal.intact


def test_a_file_over_the_size_limit_is_refused(make_app):
    app = make_app(SIGNET_UPLOAD_MAX_BYTES=64 * 1024)
    big = garbage.minimal_pdf() + b"%" + b"x" * (64 * 1024) + b"\n"
    assert_invalid(check(app, big), PROBLEM_TOO_LARGE)
    with app.app_context(), pytest.raises(UploadTooLarge):
        read_upload_safely(io.BytesIO(big), app.config["SIGNET_UPLOAD_MAX_BYTES"])


def test_a_page_tree_cycle_added_after_our_seal_ends(sqlite_only_app, sealed):
    def loop_the_page_tree(writer):
        pages = writer.root["/Pages"]
        pages[generic.NameObject("/Kids")] = generic.ArrayObject(
            [*pages["/Kids"], writer.root.raw_get("/Pages")])
        writer.update_container(pages)

    report = check(sqlite_only_app, updated(sealed, loop_the_page_tree))
    assert report.verdict in (MODIFIED, INVALID)
    assert report.verdict == MODIFIED or report.problem_code == PROBLEM_TOO_COMPLEX
