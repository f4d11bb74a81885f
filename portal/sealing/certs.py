"""The portal's own signing certificate: a local CA and a seal certificate under instance/signing/.

Created once on first use (race-safe between processes through a lock file), then loaded.
Private keys are written with 0600 permissions and never leave the server. The CA keeps its
key: it signs the revocation list (CRL), issues a fresh seal certificate when one is revoked,
and a time-stamping certificate, so the portal can give its seals a time of its own that
chains to the same CA (PAdES B-LT/B-LTA without an outside authority).
"""

import datetime as dt
import fcntl
import json
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
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from flask_babel import lazy_gettext as _l

SIGNING_DIR = "signing"
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
TSA_FILE = "tsa.pem"
TSA_KEY_FILE = "tsa-key.pem"
CRL_FILE = "ca.crl"
REVOKED_FILE = "revoked.json"
SEAL_FILE = "seal.pem"
SEAL_KEY_FILE = "seal-key.pem"
CHAIN_FILE = "chain.pem"
# CA certificates the portal sealed with before: older documents must still verify as ours.
FORMER_ROOTS_DIR = "former-roots"
LOCK_FILE = ".lock"
CA_YEARS = 20
SEAL_YEARS = 5
# Longer than a seal certificate lives: a seal's time stamp still checks after its expiry.
TSA_YEARS = 10
# A time-stamping certificate with less left than this is replaced on the next load.
TSA_RENEW_DAYS = 2 * 365
TSA_COMMON_NAME = "Signet time-stamping"
# Where the portal publishes its CRL and CA certificate (portal/verify/views.py serves them).
CRL_PATH = "/pki/ca.crl"
CA_CERT_PATH = "/pki/ca.cer"
# The served CRL is re-signed this often; readers may cache it until its next update.
CRL_REFRESH = dt.timedelta(hours=1)
CRL_VALIDITY = dt.timedelta(days=7)
REVOCATION_REASONS = ("key_compromise", "superseded", "cessation_of_operation", "unspecified")
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
    # The portal's own CA only (None for an uploaded PKCS#12 from another CA).
    ca_key: PrivateKeyTypes | None = None
    tsa_cert: x509.Certificate | None = None
    tsa_key: PrivateKeyTypes | None = None

    @property
    def own_ca(self) -> bool:
        """The seal certificate was issued by the portal's own CA, whose key it holds."""
        return self.ca_key is not None

    def ca_pem(self) -> bytes:
        """The CA certificate in PEM form, for readers who want to trust it."""
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)


def ensure_portal_certificates(
    instance_path: str | os.PathLike, organisation: str = DEFAULT_ORGANISATION,
    base_url: str = "",
) -> PortalCertificates:
    """Load the portal's CA and seal certificate, creating them on first use.

    An instance from before the CA kept its key gets a new CA (with key), seal and
    time-stamping certificate; the old CA stays a trust root, so its documents still verify.
    """
    directory = Path(instance_path) / SIGNING_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if _needs_work(directory):
        # Only one process creates; the others wait on the lock, then load what it wrote.
        with _exclusive_lock(directory / LOCK_FILE):
            if not (directory / SEAL_FILE).exists():
                _create_certificates(directory, organisation, base_url)
            elif _own_ca_without_key(directory):
                _keep_former_root(directory)
                _create_certificates(directory, _organisation_of(directory) or organisation,
                                     base_url)
            elif _tsa_due(directory):
                _renew_tsa(directory, base_url)
    return _load_certificates(directory)


def _needs_work(directory: Path) -> bool:
    return (not (directory / SEAL_FILE).exists() or _own_ca_without_key(directory)
            or _tsa_due(directory))


def _own_ca_without_key(directory: Path) -> bool:
    # An uploaded PKCS#12 always leaves a chain file; the portal's own CA never does.
    return not (directory / CA_KEY_FILE).exists() and not (directory / CHAIN_FILE).exists()


def _tsa_due(directory: Path) -> bool:
    if not (directory / CA_KEY_FILE).exists():
        return False
    path = directory / TSA_FILE
    if not path.exists():
        return True
    left = x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc - \
        dt.datetime.now(dt.UTC)
    return left < dt.timedelta(days=TSA_RENEW_DAYS)


def _organisation_of(directory: Path) -> str:
    seal = x509.load_pem_x509_certificate((directory / SEAL_FILE).read_bytes())
    names = seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(names[0].value) if names else ""


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


def new_certificates(organisation: str, base_url: str = "") -> PortalCertificates:
    """A fresh CA, seal and time-stamping certificate with their keys, in memory only."""
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
    seal_cert, seal_key = issue_seal_certificate(ca_cert, ca_key, organisation, base_url)
    tsa_cert, tsa_key = issue_tsa_certificate(ca_cert, ca_key, organisation, base_url)
    return PortalCertificates(ca_cert=ca_cert, seal_cert=seal_cert, seal_key=seal_key,
                              ca_key=ca_key, tsa_cert=tsa_cert, tsa_key=tsa_key)


def issue_seal_certificate(ca_cert, ca_key, organisation: str, base_url: str = ""):
    """A new seal certificate and its key, issued by the portal's CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _issued(ca_cert, ca_key, key, _name(SEAL_COMMON_NAME, organisation), SEAL_YEARS,
                      base_url).add_extension(_key_usage(cert_sign=False), critical=True)
    return builder.sign(ca_key, hashes.SHA256()), key


def issue_tsa_certificate(ca_cert, ca_key, organisation: str, base_url: str = ""):
    """A time-stamping certificate (RFC 3161: timeStamping, the only and critical usage)."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=False, crl_sign=False, encipher_only=False,
                          decipher_only=False)
    builder = (_issued(ca_cert, ca_key, key, _name(TSA_COMMON_NAME, organisation), TSA_YEARS,
                       base_url)
               .add_extension(usage, critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                              critical=True))
    return builder.sign(ca_key, hashes.SHA256()), key


def _issued(ca_cert, ca_key, key, subject: x509.Name, years: int, base_url: str):
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    not_after = min(now + dt.timedelta(days=365 * years), ca_cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
    )
    if base_url:
        base = base_url.rstrip("/")
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(base + CRL_PATH)], relative_name=None,
            reasons=None, crl_issuer=None)]), critical=False)
        builder = builder.add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier(base + CA_CERT_PATH))]),
            critical=False)
    return builder


def _create_certificates(directory: Path, organisation: str, base_url: str = "") -> None:
    made = new_certificates(organisation, base_url)
    pem = serialization.Encoding.PEM
    # A new CA starts with no revocations; the CA key goes first, the seal certificate last:
    # its presence (with the CA key) means the set is complete.
    (directory / REVOKED_FILE).unlink(missing_ok=True)
    (directory / CRL_FILE).unlink(missing_ok=True)
    _write_atomically(directory / CA_KEY_FILE, _key_pem(made.ca_key), 0o600)
    _write_atomically(directory / TSA_KEY_FILE, _key_pem(made.tsa_key), 0o600)
    _write_atomically(directory / TSA_FILE, made.tsa_cert.public_bytes(pem), 0o644)
    _write_atomically(directory / SEAL_KEY_FILE, _key_pem(made.seal_key), 0o600)
    _write_atomically(directory / CA_FILE, made.ca_pem(), 0o644)
    _write_atomically(directory / SEAL_FILE, made.seal_cert.public_bytes(pem), 0o644)


def _renew_tsa(directory: Path, base_url: str) -> None:
    ca_cert, ca_key = _load_ca(directory)
    tsa_cert, tsa_key = issue_tsa_certificate(ca_cert, ca_key, _organisation_of(directory),
                                              base_url)
    _write_atomically(directory / TSA_KEY_FILE, _key_pem(tsa_key), 0o600)
    _write_atomically(directory / TSA_FILE,
                      tsa_cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_ca(directory: Path):
    ca_cert = x509.load_pem_x509_certificate((directory / CA_FILE).read_bytes())
    ca_key = serialization.load_pem_private_key((directory / CA_KEY_FILE).read_bytes(), None)
    return ca_cert, ca_key


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
    own = {}
    if (directory / CA_KEY_FILE).exists() and not (directory / CHAIN_FILE).exists():
        own["ca_key"] = _load_ca(directory)[1]
        if (directory / TSA_FILE).exists():
            own["tsa_cert"] = x509.load_pem_x509_certificate((directory / TSA_FILE).read_bytes())
            own["tsa_key"] = serialization.load_pem_private_key(
                (directory / TSA_KEY_FILE).read_bytes(), password=None)
    return PortalCertificates(ca_cert=ca_cert, seal_cert=seal_cert, seal_key=seal_key,
                              chain=chain, **own)


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
    name = cert.fingerprint(hashes.SHA256()).hex()[:32]
    _write_atomically(former / f"{name}.pem", current.read_bytes(), 0o644)
    if (directory / CA_KEY_FILE).exists() and not (directory / CHAIN_FILE).exists():
        # Its revocations keep counting for the documents it sealed: a last CRL stays.
        _write_atomically(former / f"{name}.crl", _fresh_crl(directory), 0o644)
    for own_file in (CA_KEY_FILE, TSA_FILE, TSA_KEY_FILE, CRL_FILE, REVOKED_FILE):
        (directory / own_file).unlink(missing_ok=True)


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


# --- revocation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Revocation:
    """A seal certificate the portal's CA revoked."""

    serial: int
    revoked_at: dt.datetime
    reason: str
    subject: str = ""

    def as_record(self) -> dict:
        return {"serial": str(self.serial), "revoked_at": self.revoked_at.isoformat(),
                "reason": self.reason, "subject": self.subject}


def revocations(instance_path: str | os.PathLike) -> list[Revocation]:
    """The certificates the current CA revoked, oldest first."""
    path = Path(instance_path) / SIGNING_DIR / REVOKED_FILE
    if not path.exists():
        return []
    return [Revocation(serial=int(item["serial"]),
                       revoked_at=dt.datetime.fromisoformat(item["revoked_at"]),
                       reason=item["reason"], subject=item.get("subject", ""))
            for item in json.loads(path.read_text())]


def revoke_seal_certificate(instance_path: str | os.PathLike, reason: str,
                            base_url: str = "",
                            when: dt.datetime | None = None) -> tuple[Revocation, x509.Certificate]:
    """Revoke the current seal certificate, issue a fresh one under the same CA, sign a new CRL.

    ValueError when the seal certificate is not the portal CA's own (an uploaded PKCS#12).
    """
    if reason not in REVOCATION_REASONS:
        raise ValueError(_l("Unknown revocation reason."))
    directory = Path(instance_path) / SIGNING_DIR
    with _exclusive_lock(directory / LOCK_FILE):
        if not (directory / CA_KEY_FILE).exists() or (directory / CHAIN_FILE).exists():
            raise ValueError(_l("The seal certificate was not issued by the portal's own "
                                "authority: ask its issuer to revoke it."))
        ca_cert, ca_key = _load_ca(directory)
        old = x509.load_pem_x509_certificate((directory / SEAL_FILE).read_bytes())
        revocation = Revocation(serial=old.serial_number, revoked_at=_next_second(when),
                                reason=reason, subject=old.subject.rfc4514_string())
        listed = [item.as_record() for item in revocations(instance_path)]
        _write_atomically(directory / REVOKED_FILE,
                          json.dumps([*listed, revocation.as_record()], indent=1).encode(),
                          0o644)
        cert, key = issue_seal_certificate(ca_cert, ca_key, _organisation_of(directory),
                                           base_url)
        _write_atomically(directory / SEAL_KEY_FILE, _key_pem(key), 0o600)
        _write_atomically(directory / SEAL_FILE,
                          cert.public_bytes(serialization.Encoding.PEM), 0o644)
        _write_atomically(directory / CRL_FILE, _fresh_crl(directory), 0o644)
    return revocation, cert


def _next_second(when: dt.datetime | None) -> dt.datetime:
    # A CRL states whole seconds: rounded up, a seal made before the revocation in the same
    # second still counts as made before it.
    moment = when or dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0) + dt.timedelta(seconds=1 if moment.microsecond else 0)


def current_crl(instance_path: str | os.PathLike) -> bytes | None:
    """The current CA's CRL in DER form (re-signed once it is CRL_REFRESH old); None when
    the portal's CA is not the one sealing (an uploaded PKCS#12)."""
    directory = Path(instance_path) / SIGNING_DIR
    if not (directory / CA_KEY_FILE).exists() or (directory / CHAIN_FILE).exists():
        return None
    path = directory / CRL_FILE
    if _crl_fresh(path):
        return path.read_bytes()
    with _exclusive_lock(directory / LOCK_FILE):
        if not _crl_fresh(path):
            _write_atomically(path, _fresh_crl(directory), 0o644)
        return path.read_bytes()


def revocation_lists(instance_path: str | os.PathLike) -> list[bytes]:
    """Every CRL the portal has: the current CA's, then the last ones of its former CAs."""
    directory = Path(instance_path) / SIGNING_DIR
    current = current_crl(instance_path)
    former = [path.read_bytes() for path in sorted((directory / FORMER_ROOTS_DIR).glob("*.crl"))]
    return ([current] if current else []) + former


def _crl_fresh(path: Path) -> bool:
    if not path.exists():
        return False
    crl = x509.load_der_x509_crl(path.read_bytes())
    return dt.datetime.now(dt.UTC) - crl.last_update_utc < CRL_REFRESH


CRL_REASONS = {
    "key_compromise": x509.ReasonFlags.key_compromise,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
    "unspecified": x509.ReasonFlags.unspecified,
}


def _fresh_crl(directory: Path) -> bytes:
    ca_cert, ca_key = _load_ca(directory)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    listed = revocations(directory.parent)
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(ca_cert.subject)
               .last_update(now - dt.timedelta(minutes=1))
               .next_update(now + CRL_VALIDITY)
               .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False))
    for item in listed:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(item.serial)
            .revocation_date(item.revoked_at)
            .add_extension(x509.CRLReason(CRL_REASONS[item.reason]), critical=False)
            .build())
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
