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
from flask_babel import lazy_gettext as _l

SIGNING_DIR = "signing"
CA_FILE = "ca.pem"
SEAL_FILE = "seal.pem"
SEAL_KEY_FILE = "seal-key.pem"
CHAIN_FILE = "chain.pem"
# CA certificates the portal sealed with before: older documents must still verify as ours.
FORMER_ROOTS_DIR = "former-roots"
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
        raise ValueError(_l("This is not a PKCS#12 (.p12 / .pfx) file."))
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, secret)
    except ValueError as error:
        if secret is None:
            raise ValueError(
                _l("This PKCS#12 file is protected by a password: enter it.")) from error
        raise ValueError(_l("The password does not open this PKCS#12 file.")) from error
    if key is None:
        raise ValueError(_l("The PKCS#12 file has no private key."))
    if cert is None:
        raise ValueError(_l("The PKCS#12 file has no certificate for its key."))
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


def new_certificates(organisation: str) -> PortalCertificates:
    """A fresh CA and seal certificate with its key, in memory only."""
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
    return PortalCertificates(ca_cert=ca_cert, seal_cert=seal_cert, seal_key=seal_key)


def _create_certificates(directory: Path, organisation: str) -> None:
    made = new_certificates(organisation)
    key_pem = made.seal_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The seal certificate is written last: its presence means the set is complete.
    _write_atomically(directory / SEAL_KEY_FILE, key_pem, 0o600)
    _write_atomically(directory / CA_FILE, made.ca_pem(), 0o644)
    _write_atomically(
        directory / SEAL_FILE, made.seal_cert.public_bytes(serialization.Encoding.PEM), 0o644
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
    chain_pem = (directory / CHAIN_FILE).read_bytes() if (directory / CHAIN_FILE).exists() else b""
    chain = x509.load_pem_x509_certificates(chain_pem) if chain_pem.strip() else []
    return PortalCertificates(ca_cert=ca_cert, seal_cert=seal_cert, seal_key=seal_key,
                              chain=chain)


def seal_file_of(instance_path: str | os.PathLike) -> Path:
    """The file whose change means the seal certificate was replaced (for caches)."""
    return Path(instance_path) / SIGNING_DIR / SEAL_FILE


def trust_roots(instance_path: str | os.PathLike) -> list[x509.Certificate]:
    """Every CA the portal has sealed with: the current one first, then the former ones."""
    directory = Path(instance_path) / SIGNING_DIR
    roots: dict[bytes, x509.Certificate] = {}
    files = [directory / CA_FILE, *sorted((directory / FORMER_ROOTS_DIR).glob("*.pem"))]
    for path in files:
        if path.exists():
            for cert in x509.load_pem_x509_certificates(path.read_bytes()):
                roots.setdefault(cert.fingerprint(hashes.SHA256()), cert)
    return list(roots.values())


def install_pkcs12(instance_path: str | os.PathLike, data: bytes,
                   password: str | None) -> PortalCertificates:
    """Make an uploaded PKCS#12 the portal's seal; the former CA stays trusted for old files."""
    key, cert, chain = load_pkcs12(data, password)
    _check_usable_for_sealing(key, cert)
    anchor = _anchor_of(cert, chain)
    directory = Path(instance_path) / SIGNING_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = serialization.Encoding.PEM
    with _exclusive_lock(directory / LOCK_FILE):
        _keep_former_root(directory)
        intermediates = [c for c in chain if c != anchor and c != cert]
        key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        _write_atomically(directory / SEAL_KEY_FILE, key_pem, 0o600)
        _write_atomically(directory / CHAIN_FILE,
                          b"".join(c.public_bytes(pem) for c in intermediates), 0o644)
        _write_atomically(directory / CA_FILE, anchor.public_bytes(pem), 0o644)
        _write_atomically(directory / SEAL_FILE, cert.public_bytes(pem), 0o644)
    return _load_certificates(directory)


def _keep_former_root(directory: Path) -> None:
    current = directory / CA_FILE
    if not current.exists():
        return
    cert = x509.load_pem_x509_certificate(current.read_bytes())
    former = directory / FORMER_ROOTS_DIR
    former.mkdir(exist_ok=True, mode=0o700)
    name = cert.fingerprint(hashes.SHA256()).hex()[:32] + ".pem"
    _write_atomically(former / name, current.read_bytes(), 0o644)


def _check_usable_for_sealing(key, cert: x509.Certificate) -> None:
    now = dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ValueError(_l("The certificate in this file is not valid today."))
    public = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo) != public:
        raise ValueError(_l("The private key in this file does not belong to its certificate."))
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    # Readers treat a seal without non-repudiation as untrusted for documents.
    if not (usage.digital_signature and usage.content_commitment):
        raise ValueError(_l("The certificate may not sign documents: it needs the digital "
                            "signature and non-repudiation key usages."))


def _anchor_of(cert: x509.Certificate, chain: list[x509.Certificate]) -> x509.Certificate:
    """The top of the chain that issued cert (the cert itself when it stands alone)."""
    by_subject = {c.subject: c for c in chain}
    current, seen = cert, set()
    while current.issuer != current.subject and current.issuer in by_subject:
        if current.issuer in seen:
            break
        seen.add(current.issuer)
        current = by_subject[current.issuer]
    return current
