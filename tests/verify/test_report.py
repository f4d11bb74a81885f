"""build_report: one verdict per file, from the registry and the embedded signatures."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.verify.report import build_report
from portal.verify.verdicts import (
    AUTHENTIC,
    CHANGE_ANNOTATIONS,
    CHANGE_FORM,
    CHANGE_OTHER,
    CHANGE_PAGES,
    CODE_DIFFERS,
    CODE_MATCHES,
    CODE_NO_FILE,
    CODE_NONE,
    CODE_NOT_FINAL,
    CODE_OTHER_DOCUMENT,
    CODE_UNKNOWN,
    FOREIGN,
    INVALID,
    MODIFIED,
    PROBLEM_NO_FILE,
    UNSIGNED,
)
from tests.fixtures import fixture_bytes
from tests.verify.support import (
    draft_with_code,
    form_pdf,
    register_final,
    sealed_by_portal,
    sealed_elsewhere,
    signature_hole,
    with_added_page,
    with_comment,
    with_field_filled,
    with_new_title,
)


@pytest.fixture
def issued(app, admin):
    """A sealed PDF registered as a completed document's final PDF: (bytes, document id)."""
    with app.app_context():
        pdf = sealed_by_portal(fixture_bytes("three-pages.pdf"))
        return pdf, register_final(admin["id"], pdf)


def test_the_issued_file_is_authentic_with_its_document_and_seal(app, issued):
    pdf, document_id = issued
    with app.app_context():
        report = build_report(pdf)

    assert report.verdict == AUTHENTIC
    assert report.registry.document_id == document_id
    assert [party.name for party in report.registry.parties] == ["Anna Director", "Maria Silva"]
    assert report.seal.signed and report.seal.intact and report.seal.valid
    assert report.seal.trusted and report.seal.covers_whole_file
    assert "Signet document seal" in report.seal.signer_subject
    assert report.changes == () and report.problem == "" and report.code_status == CODE_NONE
    assert report.size == len(pdf) and len(report.sha256) == 64
    assert abs(report.checked_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_registered_file_without_any_seal_is_still_authentic(app, admin):
    # Documents finalized before sealing existed: the registry alone vouches for them.
    with app.app_context():
        pdf = fixture_bytes("plain.pdf")
        register_final(admin["id"], pdf)
        report = build_report(pdf)

    assert report.verdict == AUTHENTIC
    assert report.seal is not None and not report.seal.signed


def test_our_seal_on_a_file_we_never_registered_is_not_authentic(app):
    with app.app_context():
        report = build_report(sealed_by_portal())

    assert report.verdict == MODIFIED
    assert report.registry is None
    assert report.seal.trusted and report.seal.covers_whole_file
    assert report.changes == (CHANGE_OTHER,)


@pytest.mark.parametrize(("edit", "expected"), [
    (with_added_page, (CHANGE_PAGES,)),
    (with_comment, (CHANGE_ANNOTATIONS,)),
    (with_new_title, (CHANGE_OTHER,)),
    (lambda pdf: pdf + b"\n% appended later\n", (CHANGE_OTHER,)),
])
def test_a_change_after_the_seal_is_modified_and_named(app, issued, edit, expected):
    pdf, _document_id = issued
    with app.app_context():
        report = build_report(edit(pdf))

    assert report.verdict == MODIFIED
    assert report.registry is None
    assert report.changes == expected
    assert report.seal.intact and report.seal.trusted
    assert not report.seal.covers_whole_file
    assert report.added_pages == (1 if expected == (CHANGE_PAGES,) else 0)


def test_two_added_pages_and_a_comment_are_all_reported(app, issued):
    pdf, _document_id = issued
    with app.app_context():
        report = build_report(with_comment(with_added_page(with_added_page(pdf))))

    assert report.verdict == MODIFIED
    assert report.changes == (CHANGE_PAGES, CHANGE_ANNOTATIONS)
    assert report.added_pages == 2


def test_a_form_filled_in_after_the_seal_is_a_form_change(app):
    with app.app_context():
        report = build_report(with_field_filled(sealed_by_portal(form_pdf())))

    assert report.verdict == MODIFIED
    assert report.changes == (CHANGE_FORM,)


def test_a_byte_changed_under_the_seal_breaks_it_and_is_modified(app, issued):
    pdf, _document_id = issued
    at = pdf.index(b"Page 2 of 3") if b"Page 2 of 3" in pdf else pdf.index(b"endobj")
    tampered = pdf[:at] + bytes([pdf[at] ^ 0x20]) + pdf[at + 1:]
    with app.app_context():
        report = build_report(tampered)

    assert report.verdict == MODIFIED
    assert not report.seal.intact
    assert report.changes == (CHANGE_OTHER,)


def test_a_changed_digit_in_the_signature_padding_is_not_the_issued_file(app, issued):
    # The zero padding after the signature is not signed: readers still call the seal valid,
    # only the registry knows these are not the bytes we issued.
    pdf, _document_id = issued
    start, end = signature_hole(pdf)
    at = end - 10
    assert pdf[at:at + 1] == b"0"
    with app.app_context():
        report = build_report(pdf[:at] + b"7" + pdf[at + 1:])

    assert report.verdict == MODIFIED
    assert report.changes == (CHANGE_OTHER,)


def test_a_seal_by_another_ca_is_foreign(app, tmp_path):
    with app.app_context():
        report = build_report(sealed_elsewhere(tmp_path / "elsewhere"))

    assert report.verdict == FOREIGN
    assert report.seal.signed and report.seal.intact and not report.seal.trusted
    assert "Someone Else" in report.seal.signer_subject
    assert report.changes == ()


def test_a_pdf_without_signatures_is_unsigned(app):
    with app.app_context():
        report = build_report(fixture_bytes("three-pages.pdf"))

    assert report.verdict == UNSIGNED
    assert report.seal is not None and not report.seal.signed
    assert report.registry is None and report.problem == ""


# --- a typed verification code ---------------------------------------------------------------

def test_the_code_of_the_uploaded_file_matches(app, issued):
    pdf, document_id = issued
    with app.app_context():
        report = build_report(pdf, code=" abcd efgh jkmn ")

    assert report.verdict == AUTHENTIC
    assert report.code_status == CODE_MATCHES
    assert report.code_document.document_id == document_id == report.registry.document_id


def test_a_code_alone_shows_its_document_and_asks_for_the_file(app, issued):
    _pdf, document_id = issued
    with app.app_context():
        report = build_report(None, code="ABCD-EFGH-JKMN")

    assert report.needs_file
    assert report.verdict == INVALID and report.problem_code == PROBLEM_NO_FILE
    assert report.problem
    assert report.code_status == CODE_NO_FILE
    assert report.code_document.document_id == document_id
    assert report.registry is None and report.seal is None and report.sha256 == ""


def test_the_file_of_another_document_is_authentic_but_not_the_coded_one(app, admin, issued):
    pdf, document_id = issued
    with app.app_context():
        other_pdf = sealed_by_portal()
        other_id = register_final(admin["id"], other_pdf, code="WXYZ-WXYZ-WXYZ",
                                  number="ACT-2025-00099")
        report = build_report(other_pdf, code="ABCD-EFGH-JKMN")

    assert report.verdict == AUTHENTIC
    assert report.registry.document_id == other_id
    assert report.code_document.document_id == document_id
    assert report.code_status == CODE_OTHER_DOCUMENT


def test_a_changed_copy_with_the_right_code_differs(app, issued):
    pdf, document_id = issued
    with app.app_context():
        report = build_report(with_comment(pdf), code="ABCD-EFGH-JKMN")

    assert report.verdict == MODIFIED
    assert report.code_status == CODE_DIFFERS
    assert report.code_document.document_id == document_id


@pytest.mark.parametrize("typed", ["ZZZZ-ZZZZ-ZZZZ", "' OR 1=1 --", "A" * 5000])
def test_an_unknown_code_says_so(app, issued, typed):
    pdf, _document_id = issued
    with app.app_context():
        with_file = build_report(pdf, code=typed)
        alone = build_report(None, code=typed)

    assert with_file.verdict == AUTHENTIC and with_file.code_status == CODE_UNKNOWN
    assert with_file.code_document is None
    assert alone.code_status == CODE_UNKNOWN and alone.code_document is None and alone.needs_file


def test_the_code_of_a_document_still_being_signed_reveals_nothing(app, admin):
    with app.app_context():
        draft_with_code(admin["id"], "QQQQ-RRRR-SSSS")
        report = build_report(None, code="QQQQ-RRRR-SSSS")

    assert report.code_status == CODE_NOT_FINAL
    assert report.code_document is None


def test_the_report_is_plain_json(app, issued):
    pdf, document_id = issued
    with app.app_context():
        data = build_report(with_added_page(pdf), code="ABCD-EFGH-JKMN").as_json()

    assert data["verdict"] == MODIFIED
    assert data["changes"] == [CHANGE_PAGES] and data["added_pages"] == 1
    assert data["code_document"]["document_id"] == document_id
    assert data["seal"]["signatures"][0]["trusted"] is True
    assert datetime.fromisoformat(data["checked_at"]).tzinfo is not None
