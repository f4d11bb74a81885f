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
    PortalCertificates,
    ensure_portal_certificates,
    install_pkcs12,
    seal_file_of,
)
from portal.sealing.certs import trust_roots as _trust_roots_in

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
    if not seal_file.exists():
        ensure_portal_certificates(instance, _organisation())
    stamp = seal_file.stat().st_mtime_ns
    with _cache_lock:
        cached = _cache.get(instance)
        if cached is None or cached[0] != stamp:
            cached = (stamp, ensure_portal_certificates(instance))
            _cache[instance] = cached
        return cached[1]


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
