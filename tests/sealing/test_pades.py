"""The PAdES seal: valid and trusted with the portal's CA, and any later change shows.

Each seal is judged as /verify judges it (its inspection), never by a checker of its own.
"""

import io
import socket

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError

from portal.sealing.certs import ensure_portal_certificates
from portal.sealing.pades import (
    TimestampUnavailable,
    outside_event_loop,
    seal_pdf,
    signer_for,
)
from portal.verify.verdicts import PROBLEM_DAMAGED
from tests.fixtures import fixture_bytes
from tests.verify.support import inspected, seal_verdict


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return ensure_portal_certificates(tmp_path_factory.mktemp("instance"), "Acme Ltd")


@pytest.fixture(scope="module")
def foreign_certificates(tmp_path_factory):
    return ensure_portal_certificates(tmp_path_factory.mktemp("elsewhere"), "Someone Else")


@pytest.fixture(scope="module")
def sealed(certificates):
    return seal_pdf(
        fixture_bytes("plain.pdf"), certificates, reason="Signed with Signet", location="Lisbon"
    )


def test_sealed_pdf_is_intact_valid_trusted_and_covers_the_whole_file(certificates, sealed):
    check = seal_verdict(sealed, [certificates.ca_cert])

    assert check.signed and check.intact and check.valid and check.trusted
    assert check.covers_whole_file
    assert check.modification_level == "NONE"
    assert check.signature_count == 1
    assert "Signet document seal" in check.signer_subject
    assert check.signed_at is not None
    assert check.timestamp is None


def test_seal_keeps_the_original_bytes_and_adds_an_update(sealed):
    original = fixture_bytes("plain.pdf")

    assert sealed.startswith(original)
    assert len(sealed) > len(original)


def test_a_seal_checked_against_another_ca_is_not_trusted(sealed, foreign_certificates):
    check = seal_verdict(sealed, [foreign_certificates.ca_cert])

    assert check.signed and check.intact and check.valid
    assert not check.trusted


def test_a_pdf_sealed_by_another_ca_is_not_trusted_by_ours(certificates, foreign_certificates):
    foreign = seal_pdf(
        fixture_bytes("plain.pdf"), foreign_certificates, reason="Elsewhere", location="Nowhere"
    )

    check = seal_verdict(foreign, [certificates.ca_cert])

    assert check.signed and check.intact
    assert not check.trusted
    assert "Someone Else" in check.signer_subject


def test_bytes_appended_after_the_seal_are_detected(certificates, sealed):
    check = seal_verdict(sealed + b"\n% appended later\n", [certificates.ca_cert])

    assert check.signed
    assert not check.covers_whole_file


def test_an_incremental_update_after_the_seal_is_detected(certificates, sealed):
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    info = writer.set_info(generic.DictionaryObject()).get_object()
    info[generic.NameObject("/Title")] = generic.TextStringObject("Quietly edited")
    output = io.BytesIO()
    writer.write(output)

    check = seal_verdict(output.getvalue(), [certificates.ca_cert])

    assert check.signed
    assert not check.covers_whole_file
    assert check.modification_level != "NONE" or not check.intact


def test_a_changed_byte_inside_the_signed_range_breaks_the_seal(certificates, sealed):
    original = fixture_bytes("plain.pdf")
    position = original.index(b"endobj")
    tampered = sealed[:position] + b"EndObj" + sealed[position + 6 :]

    check = seal_verdict(tampered, [certificates.ca_cert])

    assert not (check.intact and check.valid and check.trusted and check.covers_whole_file)


def test_an_unsigned_pdf_is_not_signed(certificates):
    check = seal_verdict(fixture_bytes("plain.pdf"), [certificates.ca_cert])

    assert not check.signed
    assert check.signature_count == 0
    assert not check.trusted


def test_a_non_pdf_is_unreadable(certificates):
    inspection = inspected(b"this is not a PDF at all", [certificates.ca_cert])

    assert inspection.problem == PROBLEM_DAMAGED and inspection.seal is None


def test_a_sealed_pdf_cannot_be_sealed_again(certificates, sealed):
    with pytest.raises(SigningError, match="filled already"):
        seal_pdf(sealed, certificates, reason="Again", location="Lisbon")


def test_the_certification_forbids_any_later_signature(certificates, sealed):
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    metadata = signers.PdfSignatureMetadata(field_name="Countersignature")

    with pytest.raises(SigningError, match="forbids all changes"):
        outside_event_loop(signers.sign_pdf, writer, metadata,
                            signer=signer_for(certificates))


def test_an_unreachable_timestamp_authority_refuses_to_seal(certificates):
    closed_ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_ports.append(probe.getsockname()[1])
    urls = [f"http://127.0.0.1:{port}/tsa" for port in closed_ports]

    with pytest.raises(TimestampUnavailable):
        seal_pdf(
            fixture_bytes("plain.pdf"),
            certificates,
            reason="Signed",
            location="Lisbon",
            timestamp_urls=urls,
        )
