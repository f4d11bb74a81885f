"""The portal's own signing certificate: a local CA and a seal certificate under instance/signing/.

Created once on first use (race-safe between processes through a lock file), then loaded.
The private key is written with 0600 permissions and never leaves the server.
"""

import datetime as dt
import fcntl
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

SIGNING_DIR = "signing"
CA_FILE = "ca.pem"
SEAL_FILE = "seal.pem"
SEAL_KEY_FILE = "seal-key.pem"
LOCK_FILE = ".lock"
CA_YEARS = 20
SEAL_YEARS = 5
SEAL_COMMON_NAME = "Signet document seal"
CA_COMMON_NAME = "Signet local CA"
DEFAULT_ORGANISATION = "Signet"


@dataclass(eq=False)
class PortalCertificates:
    """The loaded CA and seal certificate with the seal's private key."""

    ca_cert: x509.Certificate
    seal_cert: x509.Certificate
    seal_key: PrivateKeyTypes
    chain: list[x509.Certificate] = field(default_factory=list)

    def ca_pem(self) -> bytes:
        """The CA certificate in PEM form, for readers who want to trust it."""
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)


def ensure_portal_certificates(
    instance_path: str | os.PathLike, organisation: str = DEFAULT_ORGANISATION
) -> PortalCertificates:
    """Load the portal's CA and seal certificate, creating them on first use."""
    directory = Path(instance_path) / SIGNING_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (directory / SEAL_FILE).exists():
        # Only one process creates; the others wait on the lock, then load what it wrote.
        with _exclusive_lock(directory / LOCK_FILE):
            if not (directory / SEAL_FILE).exists():
                _create_certificates(directory, organisation)
    return _load_certificates(directory)


def load_pkcs12(data: bytes, password: str | None):
    """Read an uploaded PKCS#12 file into (key, certificate, chain); ValueError when unusable."""
    secret = password.encode() if password else None
    if not _looks_like_pkcs12(data):
        raise ValueError("This is not a PKCS#12 (.p12 / .pfx) file.")
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, secret)
    except ValueError as error:
        if secret is None:
            raise ValueError("This PKCS#12 file is protected by a password.") from error
        raise ValueError("The password does not open this PKCS#12 file.") from error
    if key is None:
        raise ValueError("The PKCS#12 file has no private key.")
    if cert is None:
        raise ValueError("The PKCS#12 file has no certificate for its key.")
    return key, cert, list(chain or [])


def _looks_like_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        pfx["auth_safe"]["content_type"].native  # noqa: B018 -- parsing is the check
    except (ValueError, TypeError, KeyError):
        return False
    return True


class _exclusive_lock:
    """An flock on a lock file: excludes other processes and other threads alike."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = -1

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _create_certificates(directory: Path, organisation: str) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(CA_COMMON_NAME, organisation)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SEAL_COMMON_NAME, organisation))
        .issuer_name(ca_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * SEAL_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = seal_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The seal certificate is written last: its presence means the set is complete.
    _write_atomically(directory / SEAL_KEY_FILE, key_pem, 0o600)
    _write_atomically(directory / CA_FILE, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_atomically(
        directory / SEAL_FILE, seal_cert.public_bytes(serialization.Encoding.PEM), 0o644
    )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation or DEFAULT_ORGANISATION),
        ]
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _load_certificates(directory: Path) -> PortalCertificates:
    ca_cert = x509.load_pem_x509_certificate((directory / CA_FILE).read_bytes())
    seal_cert = x509.load_pem_x509_certificate((directory / SEAL_FILE).read_bytes())
    seal_key = serialization.load_pem_private_key(
        (directory / SEAL_KEY_FILE).read_bytes(), password=None
    )
    return PortalCertificates(ca_cert=ca_cert, seal_cert=seal_cert, seal_key=seal_key)
