"""The registry: a file is recognised only by its exact bytes; codes and uploads are checked."""

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfWriter

from portal.documents.models import Document, Party
from portal.extensions import db
from portal.storage import store
from portal.verify.registry import (
    UploadTooLarge,
    check_registry,
    find_by_code,
    read_upload_safely,
)
from tests.factories import make_company, make_document_row

SIGNED_AT = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
COMPLETED_AT = datetime(2025, 3, 4, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def final_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Act of completed work"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _completed_document(admin, pdf_bytes: bytes, code="ABCD-EFGH-JKMN") -> int:
    company = make_company(legal_name="Acme Limited Liability Company", short_name="Acme")
    document = make_document_row(admin["id"], company=company, number="ACT-2025-00007",
                                 stage="completed", completed_at=COMPLETED_AT)
    document.verification_code = code
    document.parties = [
        Party(order=1, role="company", name="Anna Director", email="anna@acme.example",
              channel="email", status="signed", signed_at=SIGNED_AT),
        Party(order=2, role="client", name="Maria Silva", phone="+351912345678",
              channel="sms", status="sent"),
        Party(order=3, role="cc", name="Archive", email="archive@acme.example"),
    ]
    blob = store(pdf_bytes, "application/pdf")
    document.final_sha256 = blob.sha256
    db.session.commit()
    return document.id


def test_the_exact_final_pdf_is_found_with_its_parties(app, admin, final_pdf):
    with app.app_context():
        document_id = _completed_document(admin, final_pdf)
        db.session.expire_all()

        match = check_registry(final_pdf)

        assert match is not None
        assert (match.document_id, match.number) == (document_id, "ACT-2025-00007")
        assert match.title == "Act of completed work"
        assert match.company_name == "Acme"
        assert match.completed_at == COMPLETED_AT
        assert match.verification_code == "ABCD-EFGH-JKMN"
        # Copy recipients do not sign, so they are not listed.
        assert [(p.role, p.name) for p in match.parties] == [
            ("company", "Anna Director"), ("client", "Maria Silva")]
        company_signer, client = match.parties
        assert company_signer.signed_at == SIGNED_AT
        assert client.signed_at is None
        # Contacts are masked: recognisable, not harvestable.
        assert company_signer.masked_contact == "a***a@acme.example"
        assert "anna@" not in company_signer.masked_contact
        assert client.masked_contact.startswith("+351") and "912345" not in client.masked_contact


def test_one_changed_byte_is_not_found(app, admin, final_pdf):
    with app.app_context():
        _completed_document(admin, final_pdf)
        for position in (0, len(final_pdf) // 2, len(final_pdf) - 1):
            changed = bytearray(final_pdf)
            changed[position] ^= 0x01
            assert check_registry(bytes(changed)) is None
        assert check_registry(final_pdf + b"\n") is None
        assert check_registry(b"") is None


def test_a_document_without_a_final_pdf_is_never_matched(app, admin, final_pdf):
    with app.app_context():
        make_document_row(admin["id"])  # a draft: final_sha256 is NULL
        assert check_registry(final_pdf) is None


def test_code_lookup_ignores_case_spacing_and_dashes(app, admin, final_pdf):
    with app.app_context():
        document_id = _completed_document(admin, final_pdf)
        for typed in ("ABCD-EFGH-JKMN", "abcd-efgh-jkmn", "  AbCd-eFgH-jKmN \n",
                      "abcdefghjkmn", "abcd efgh jkmn"):
            found = find_by_code(typed)
            assert found is not None and found.id == document_id, typed


@pytest.mark.parametrize("typed", ["", "   ", None, "ABCD-EFGH-JKMX", "ABCD-EFGH",
                                   "%", "' OR 1=1 --", "A" * 5000])
def test_unknown_or_garbage_codes_find_nothing(app, admin, final_pdf, typed):
    with app.app_context():
        _completed_document(admin, final_pdf)
        assert find_by_code(typed) is None


def test_code_lookup_also_finds_lowercase_codes(app, admin):
    with app.app_context():
        document = make_document_row(admin["id"])
        document.verification_code = "a1b2c3d4e5f6"
        db.session.commit()
        assert find_by_code(" A1B2C3D4E5F6 ").id == document.id
        assert isinstance(find_by_code("a1b2c3d4e5f6"), Document)


def test_an_upload_within_the_limit_is_read_whole(app):
    with app.app_context():
        assert read_upload_safely(io.BytesIO(b"x" * 1000), 1000) == b"x" * 1000
        assert read_upload_safely(io.BytesIO(b""), 1000) == b""


class _Trickle(io.RawIOBase):
    """A stream that hands out at most 7 bytes per read, like a slow socket."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def read(self, size=-1):
        return self._data.read(min(size, 7) if size and size > 0 else 7)


def test_an_oversize_upload_is_refused_with_a_clear_message(app):
    with app.app_context():
        with pytest.raises(UploadTooLarge) as refused:
            read_upload_safely(io.BytesIO(b"x" * 1001), 1000)
        assert refused.value.status == 413
        assert "larger than" in refused.value.message

        with pytest.raises(UploadTooLarge, match="20 MB"):
            read_upload_safely(io.BytesIO(b"x" * (20 * 1024 * 1024 + 1)), 20 * 1024 * 1024)

        # Short reads are joined up, and the limit still holds.
        assert read_upload_safely(_Trickle(b"y" * 100), 100) == b"y" * 100
        with pytest.raises(UploadTooLarge):
            read_upload_safely(_Trickle(b"y" * 101), 100)


def test_reading_stops_just_past_the_limit(app):
    with app.app_context():
        stream = io.BytesIO(b"z" * 10_000)
        with pytest.raises(UploadTooLarge):
            read_upload_safely(stream, 100)
        assert stream.tell() == 101
