"""The portal's seal certificates for the running app: loaded once, reloaded when replaced.

A worker process keeps its loaded key; when an administrator uploads a new PKCS#12 the seal
file changes on disk and the next call here picks it up (its mtime is the cache key).
"""

import logging
import threading
from pathlib import Path

from cryptography import x509
from flask import current_app

from portal.extensions import db
from portal.parties.models import Company
from portal.sealing.certs import (
    CRL_PATH,
    PortalCertificates,
    Revocation,
    ensure_portal_certificates,
    install_pkcs12,
    revoke_seal_certificate,
    seal_file_of,
)
from portal.sealing.certs import current_crl as _current_crl_in
from portal.sealing.certs import revocation_lists as _revocation_lists_in
from portal.sealing.certs import revocations as _revocations_in
from portal.sealing.certs import trust_roots as _trust_roots_in
from portal.sealing.pades import LEVEL_B_B, LEVEL_B_LTA, LEVEL_B_T, LongTerm

log = logging.getLogger(__name__)
_cache: dict[str, tuple[int, PortalCertificates]] = {}
_cache_lock = threading.Lock()


def _organisation() -> str:

    company = db.session.execute(db.select(Company).order_by(Company.id).limit(1)).scalar()
    return company.display_name if company is not None else ""


def portal_certificates() -> PortalCertificates:
    """The certificates the portal seals with now (created on first use)."""
    instance = current_app.instance_path
    seal_file = seal_file_of(instance)
    with _cache_lock:
        cached = _cache.get(instance)
        if cached is None or not seal_file.exists() or cached[0] != seal_file.stat().st_mtime_ns:
            # Also where an instance from before the CA kept its key gets its new CA.
            loaded = ensure_portal_certificates(instance, _organisation(), _base_url())
            cached = (seal_file.stat().st_mtime_ns, loaded)
            _cache[instance] = cached
        return cached[1]


def _base_url() -> str:
    return current_app.config["SIGNET_BASE_URL"]


def long_term() -> LongTerm:
    """What a long-term seal needs now: the portal's CRLs, the authorities' roots."""
    portal_certificates()
    return LongTerm(crls=tuple(_revocation_lists_in(current_app.instance_path)),
                    timestamp_roots=tuple(timestamp_roots()), own_url_prefix=_base_url())


TIME_OWN = "own"  # the portal's own time-stamping certificate, under its own CA
TIME_EXTERNAL = "external"  # a configured time-stamping authority (SIGNET_TSA_URLS)
TIME_NONE = ""


def seal_level() -> tuple[str, str]:
    """The PAdES level seals reach now and whose time they carry (TIME_*).

    With an authority or an uploaded PKCS#12, B-LTA needs their revocation data to be
    fetchable when sealing; without it a seal stays at B-T (the page says so).
    """
    certificates = portal_certificates()
    config = current_app.config
    if config["SIGNET_TSA_URLS"]:
        # Without the authority's root its chain, and so its revocation data, cannot be checked.
        return (LEVEL_B_LTA if config["SIGNET_TSA_ROOTS"].strip() else LEVEL_B_T), TIME_EXTERNAL
    if certificates.own_ca and certificates.tsa_cert is not None:
        return LEVEL_B_LTA, TIME_OWN
    return LEVEL_B_B, TIME_NONE


def crl_url() -> str:
    """Where the CRL of the portal's CA is published."""
    return _base_url().rstrip("/") + CRL_PATH


def current_crl() -> bytes | None:
    """The current CA's CRL (DER), None when an uploaded PKCS#12 seals."""
    portal_certificates()
    return _current_crl_in(current_app.instance_path)


def revocation_lists() -> list[bytes]:
    """Every CRL of the portal's CAs, current and former (DER), for verification."""
    portal_certificates()
    return _revocation_lists_in(current_app.instance_path)


def revocations() -> list[Revocation]:
    """The seal certificates the current CA revoked."""
    return _revocations_in(current_app.instance_path)


def revoke_seal(reason: str) -> tuple[Revocation, x509.Certificate]:
    """Revoke the seal certificate and seal with a fresh one (ValueError when not ours)."""
    portal_certificates()
    revocation, fresh = revoke_seal_certificate(current_app.instance_path, reason, _base_url())
    forget_certificates(current_app.instance_path)
    return revocation, fresh


def trust_roots() -> list[x509.Certificate]:
    """Every CA this portal has sealed with (current first): what 'ours' means to verification."""
    portal_certificates()
    return _trust_roots_in(current_app.instance_path)


def timestamp_roots() -> list[x509.Certificate]:
    """The roots of the configured time-stamping authorities (SIGNET_TSA_ROOTS, PEM files)."""
    roots = []
    for name in current_app.config["SIGNET_TSA_ROOTS"].replace(",", " ").split():
        try:
            roots.extend(x509.load_pem_x509_certificates(Path(name).read_bytes()))
        except (OSError, ValueError) as error:
            # A wrong setting must not break verification: the time stamp just shows untrusted.
            log.error("SIGNET_TSA_ROOTS: cannot read %s: %s", name, error)
    return roots


def replace_with_pkcs12(data: bytes, password: str | None) -> PortalCertificates:
    """Seal from now on with an uploaded PKCS#12 (ValueError with a reason when unusable)."""
    installed = install_pkcs12(current_app.instance_path, data, password)
    forget_certificates(current_app.instance_path)
    return installed


def forget_certificates(instance_path: str) -> None:
    """Load the certificates from the instance folder again on next use."""
    with _cache_lock:
        _cache.pop(instance_path, None)
