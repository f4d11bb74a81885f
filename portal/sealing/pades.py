"""The PAdES seal over a final PDF, and the check of one signature, with pyHanko.

The seal is an invisible certifying signature ("no changes allowed") over the whole file:
PAdES B-B, or B-T when TSA URLs are configured. Checking never fetches anything from the network.
The verdict on a whole file is portal/verify's alone (inspection.py): it calls check_signature.
"""

import asyncio
import datetime as dt
import io
import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from portal.sealing.certs import PortalCertificates

log = logging.getLogger(__name__)

SEAL_FIELD_NAME = "SignetSeal"
DIGEST = "sha256"
TIMESTAMP_TIMEOUT_SECONDS = 10
TIMESTAMP_ERRORS = (OSError, asyncio.TimeoutError, timestamps.TimestampRequestError)

_signers: "weakref.WeakKeyDictionary[PortalCertificates, signers.SimpleSigner]" = (
    weakref.WeakKeyDictionary()
)
_signers_lock = threading.Lock()


class TimestampUnavailable(RuntimeError):
    """No configured time-stamping authority answered: the seal must not be made without one."""


@dataclass(frozen=True)
class SignatureCheck:
    """What validation says about one embedded signature."""

    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    modification_level: str
    signer_subject: str
    signed_at: dt.datetime | None
    timestamp: dt.datetime | None
    # The time-stamping authority chains to a configured TSA root (SIGNET_TSA_ROOTS).
    timestamp_trusted: bool = False


@dataclass(frozen=True)
class SealCheck:
    """The verdict on a PDF's signatures; the headline fields describe the reported signature.

    Built by portal/verify/inspection.py only. The reported signature is the latest one
    chaining to the given trust roots, or the latest signature when none does; `signatures`
    lists the validated ones in signing order and `signature_count` counts them all.
    """

    signed: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    covers_whole_file: bool = False
    modification_level: str = ""
    signer_subject: str = ""
    signed_at: dt.datetime | None = None
    timestamp: dt.datetime | None = None
    timestamp_trusted: bool = False
    signature_count: int = 0
    signatures: tuple[SignatureCheck, ...] = field(default_factory=tuple)


def seal_pdf(*args, **kwargs) -> bytes:
    """Seal the PDF (see _seal_pdf); safe to call where an event loop already runs."""
    return outside_event_loop(_seal_pdf, *args, **kwargs)


def _seal_pdf(
    pdf_bytes: bytes,
    certificates: PortalCertificates,
    *,
    reason: str,
    location: str,
    timestamp_urls=(),
) -> bytes:
    """Certify the whole PDF with the portal's seal (B-T when TSA URLs are given)."""
    signer = signer_for(certificates)
    urls = [url for url in timestamp_urls if url]
    if not urls:
        return _sign(pdf_bytes, signer, reason, location, timestamper=None)
    for url in urls:
        timestamper = timestamps.HTTPTimeStamper(url, timeout=TIMESTAMP_TIMEOUT_SECONDS)
        try:
            return _sign(pdf_bytes, signer, reason, location, timestamper=timestamper)
        except TIMESTAMP_ERRORS as error:
            log.warning("Time-stamping authority %s did not answer: %s", url, error)
    raise TimestampUnavailable(
        f"None of the {len(urls)} time-stamping authorities answered; the PDF was not sealed."
    )


def _sign(pdf_bytes, signer, reason, location, *, timestamper) -> bytes:
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD_NAME,
        md_algorithm=DIGEST,
        reason=reason,
        location=location,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    output = io.BytesIO()
    signers.PdfSigner(metadata, signer=signer, timestamper=timestamper).sign_pdf(
        writer, output=output,
        bytes_reserved=None if timestamper else _room_for_signature(signer),
    )
    return output.getvalue()


# The signed attributes, the algorithm identifiers and the signature value itself fit in this
# many bytes with any key pyHanko signs with (an RSA-4096 signature takes 512).
SIGNATURE_OVERHEAD_BYTES = 1536


def _room_for_signature(signer: signers.SimpleSigner) -> int:
    """The /Contents space for a seal without a time stamp, in hex digits.

    pyHanko would otherwise size it by signing a dummy first: half the cost of a seal. A time
    stamp's size is the authority's to decide, so with one pyHanko still measures.
    """
    certificates = [signer.signing_cert, *signer.cert_registry]
    der_bytes = sum(len(certificate.dump()) for certificate in certificates)
    return 2 * (der_bytes + SIGNATURE_OVERHEAD_BYTES)


def signer_for(certificates: PortalCertificates) -> signers.SimpleSigner:
    # Converting and loading the key is the slow part of a seal: do it once per certificate set.
    with _signers_lock:
        signer = _signers.get(certificates)
        if signer is None:
            registry = SimpleCertificateStore.from_certs(
                [to_asn1_cert(certificates.ca_cert)]
                + [to_asn1_cert(cert) for cert in certificates.chain]
            )
            key_der = certificates.seal_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            signer = signers.SimpleSigner(
                signing_cert=to_asn1_cert(certificates.seal_cert),
                signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
                cert_registry=registry,
            )
            _signers[certificates] = signer
        return signer


def to_asn1_cert(cert) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return asn1_x509.Certificate.load(cert)


def _offline_context(roots) -> ValidationContext:
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def check_signature(signature, roots, tsa_roots=()) -> SignatureCheck:
    status = validate_pdf_signature(
        signature,
        signer_validation_context=_offline_context(roots),
        ts_validation_context=_offline_context(tsa_roots),
    )
    level = status.modification_level
    stamp = status.timestamp_validity
    return SignatureCheck(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modification_level=level.name if level is not None else "UNKNOWN",
        signer_subject=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
        timestamp=stamp.timestamp if stamp else None,
        timestamp_trusted=bool(stamp and stamp.intact and stamp.valid and stamp.trusted),
    )


__all__ = [
    "ModificationLevel",
    "SealCheck",
    "SignatureCheck",
    "TimestampUnavailable",
    "seal_pdf",
]


def outside_event_loop(func, *args, **kwargs):
    """pyHanko's sync API calls asyncio.run(), which refuses to run inside a running loop
    (an async server, or a test session driving a browser): then use a thread of our own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args, **kwargs).result()
