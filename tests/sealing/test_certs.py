"""The portal's own CA and seal certificate: created once, kept private, loaded again."""

import stat
import tempfile
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from portal.sealing import trial
from portal.sealing.certs import ensure_portal_certificates, load_pkcs12
from tests.fixtures import fixture_bytes


@pytest.fixture(scope="module")
def instance_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="module")
def certificates(instance_dir):
    return ensure_portal_certificates(instance_dir, "Acme Ltd")


def test_certificates_are_created_once_and_reloaded(instance_dir, certificates):
    again = ensure_portal_certificates(instance_dir, "Another name")

    assert again.ca_cert.serial_number == certificates.ca_cert.serial_number
    assert again.seal_cert.serial_number == certificates.seal_cert.serial_number
    assert again.ca_pem() == (instance_dir / "signing" / "ca.pem").read_bytes()


def test_private_key_is_readable_by_the_owner_only(instance_dir, certificates):
    key_file = instance_dir / "signing" / "seal-key.pem"

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert loaded.public_key() == certificates.seal_cert.public_key()


def test_seal_certificate_is_issued_by_the_ca_for_non_repudiation(certificates):
    seal, ca = certificates.seal_cert, certificates.ca_cert
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value

    assert usage.digital_signature and usage.content_commitment
    assert not usage.key_cert_sign
    assert seal.issuer == ca.subject
    seal.verify_directly_issued_by(ca)
    assert seal.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == (
        "Signet document seal"
    )
    assert seal.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == (
        "Acme Ltd"
    )


def test_ca_is_a_certificate_authority(certificates):
    ca = certificates.ca_cert
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value

    assert constraints.ca
    assert usage.key_cert_sign and usage.crl_sign
    assert ca.issuer == ca.subject
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days >= 365 * 19


def test_two_threads_starting_at_once_end_with_one_ca(tmp_path):
    barrier = threading.Barrier(4)
    results = []

    def start():
        barrier.wait()
        results.append(ensure_portal_certificates(tmp_path, "Race"))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({result.ca_cert.serial_number for result in results}) == 1
    assert len({result.seal_cert.serial_number for result in results}) == 1
    on_disk = x509.load_pem_x509_certificate((tmp_path / "signing" / "ca.pem").read_bytes())
    assert on_disk.serial_number == results[0].ca_cert.serial_number
    assert not list((tmp_path / "signing").glob("*.tmp"))


@pytest.fixture(scope="module")
def pkcs12_file(certificates):
    return pkcs12.serialize_key_and_certificates(
        b"seal",
        certificates.seal_key,
        certificates.seal_cert,
        [certificates.ca_cert],
        serialization.BestAvailableEncryption(b"correct horse"),
    )


def test_pkcs12_with_the_right_password_gives_key_cert_and_chain(certificates, pkcs12_file):
    key, cert, chain = load_pkcs12(pkcs12_file, "correct horse")

    assert cert == certificates.seal_cert
    assert key.public_key() == certificates.seal_cert.public_key()
    assert chain == [certificates.ca_cert]


@pytest.mark.parametrize("password", ["wrong", None])
def test_pkcs12_with_a_wrong_or_missing_password_is_refused(pkcs12_file, password):
    with pytest.raises(ValueError, match="password"):
        load_pkcs12(pkcs12_file, password)


def test_pkcs12_without_a_key_is_refused(certificates):
    certificates_only = pkcs12.serialize_key_and_certificates(
        b"ca", None, None, [certificates.ca_cert], serialization.NoEncryption()
    )

    with pytest.raises(ValueError, match="no private key"):
        load_pkcs12(certificates_only, None)


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7 not a key store", b"\x30\x03\x02\x01\x03"])
def test_garbage_is_not_a_pkcs12_file(data):
    with pytest.raises(ValueError, match="not a PKCS#12"):
        load_pkcs12(data, "any")



def test_the_upload_dry_run_leaves_no_key_behind(tmp_path, monkeypatch):
    """The dry run at each upload certifies with a throw-away set: it must not stay on disk."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    trial._throwaway_certificates.cache_clear()  # as in each sandbox child: made anew
    trial.check_sealable(fixture_bytes("plain.pdf"))

    assert list(tmp_path.iterdir()) == []
