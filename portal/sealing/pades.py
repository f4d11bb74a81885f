"""The PAdES seal over a final PDF, and the check of one signature, with pyHanko.

The seal is an invisible certifying signature ("no changes allowed") over the whole file:
PAdES B-B, or B-T when TSA URLs are configured. Asked for the long term (`LongTerm`, what
finalize does), it also embeds its chain's revocation data (DSS, B-LT) and a document time
stamp (B-LTA): the time comes from the configured authority, or, with none, from the portal's
own time-stamping certificate under its CA. Missing revocation data never fails a seal: it
falls back to B-T (or B-B) and logs why. Checking never fetches anything from the network.
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

from asn1crypto import algos, cms, core
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, general, signers, timestamps
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.registry import SimpleCertificateStore

from portal.sealing.certs import PortalCertificates

log = logging.getLogger(__name__)


class _OfflineOnPurpose(logging.Filter):
    """pyHanko warns on every seal that embeds validation data without fetching: ours does
    so on purpose (the portal's own CRL is handed over), so the warning says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_OfflineOnPurpose())

SEAL_FIELD_NAME = "SignetSeal"
DIGEST = "sha256"
TIMESTAMP_TIMEOUT_SECONDS = 10
TIMESTAMP_ERRORS = (OSError, asyncio.TimeoutError, timestamps.TimestampRequestError)
# What can keep the revocation data from being gathered: the seal is then made without it.
LONG_TERM_ERRORS = (SigningError, PathBuildingError, PathValidationError, ValueError,
                    OSError)
FETCH_TIMEOUT_SECONDS = 5
# The portal's own time stamps name this policy (the arc pyHanko's test authority uses).
OWN_TSA_POLICY = "1.3.6.1.4.1.4146.2.2"

LEVEL_B_B, LEVEL_B_T, LEVEL_B_LT, LEVEL_B_LTA = "B-B", "B-T", "B-LT", "B-LTA"
LEVELS = (LEVEL_B_B, LEVEL_B_T, LEVEL_B_LT, LEVEL_B_LTA)

_signers: "weakref.WeakKeyDictionary[PortalCertificates, signers.SimpleSigner]" = (
    weakref.WeakKeyDictionary()
)
_signers_lock = threading.Lock()


@dataclass(frozen=True)
class LongTerm:
    """What a long-term seal needs besides the certificates: the portal's CRLs (DER, made in
    this process: never fetched from ourselves), the roots of a configured authority, and the
    portal's public address (its URLs are never fetched)."""

    crls: tuple[bytes, ...] = ()
    timestamp_roots: tuple = ()
    own_url_prefix: str = ""


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
    # The time-stamping authority chains to a configured TSA root (SIGNET_TSA_ROOTS) or to
    # one of the portal's own roots (its own time stamps).
    timestamp_trusted: bool = False
    # Set by the inspection: the PAdES level, document time stamps after the signature, and
    # when the portal's CA revoked the signer's certificate (before the signature's time).
    level: str = ""
    document_timestamps: int = 0
    revoked_at: dt.datetime | None = None


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
    level: str = ""
    document_timestamps: int = 0
    revoked_at: dt.datetime | None = None
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
    long_term: LongTerm | None = None,
) -> bytes:
    """Certify the whole PDF with the portal's seal (B-T when TSA URLs are given; with
    `long_term`, B-LT/B-LTA as far as the chain's revocation data allows)."""
    signer = signer_for(certificates)
    urls = [url for url in timestamp_urls if url]
    if not urls:
        own = own_timestamper(certificates) if long_term is not None else None
        return _sign_long_term(pdf_bytes, signer, certificates, reason, location,
                               timestamper=own, long_term=long_term)
    for url in urls:
        timestamper = timestamps.HTTPTimeStamper(url, timeout=TIMESTAMP_TIMEOUT_SECONDS)
        try:
            return _sign_long_term(pdf_bytes, signer, certificates, reason, location,
                                   timestamper=timestamper, long_term=long_term)
        except TIMESTAMP_ERRORS as error:
            log.warning("Time-stamping authority %s did not answer: %s", url, error)
    raise TimestampUnavailable(
        f"None of the {len(urls)} time-stamping authorities answered; the PDF was not sealed."
    )


def _sign_long_term(pdf_bytes, signer, certificates, reason, location, *, timestamper,
                    long_term: LongTerm | None) -> bytes:
    if long_term is None or timestamper is None:
        return _sign(pdf_bytes, signer, reason, location, timestamper=timestamper)
    context = signing_context(certificates, long_term, external=not _is_own(timestamper))
    try:
        return _sign(pdf_bytes, signer, reason, location, timestamper=timestamper,
                     validation_context=context)
    except TIMESTAMP_ERRORS:
        raise
    except LONG_TERM_ERRORS as error:
        log.warning("Revocation data for the seal could not be gathered (%s): sealed at B-T",
                    error)
        return _sign(pdf_bytes, signer, reason, location, timestamper=timestamper)


def _sign(pdf_bytes, signer, reason, location, *, timestamper,
          validation_context: ValidationContext | None = None) -> bytes:
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD_NAME,
        md_algorithm=DIGEST,
        reason=reason,
        location=location,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=validation_context is not None,
        use_pades_lta=validation_context is not None,
        validation_context=validation_context,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    output = io.BytesIO()
    signers.PdfSigner(metadata, signer=signer, timestamper=timestamper).sign_pdf(
        writer, output=output,
        bytes_reserved=None if timestamper else _room_for_signature(signer),
    )
    return output.getvalue()


def signing_context(certificates: PortalCertificates, long_term: LongTerm, *,
                    external: bool) -> ValidationContext:
    """The context pyHanko gathers the seal's revocation data with: our CRLs handed over,
    fetching only for an outside chain (an authority's, an uploaded PKCS#12's), never from
    the portal's own URLs."""
    roots = [to_asn1_cert(certificates.ca_cert)] + \
        [to_asn1_cert(cert) for cert in certificates.chain] + \
        [to_asn1_cert(cert) for cert in long_term.timestamp_roots]
    fetching = external or not certificates.own_ca
    return ValidationContext(
        trust_roots=roots,
        other_certs=[to_asn1_cert(cert) for cert in certificates.chain],
        crls=[asn1_crl.CertificateList.load(der) for der in long_term.crls],
        allow_fetching=fetching,
        fetcher_backend=_NotFromOurselves(long_term.own_url_prefix) if fetching else None,
        revocation_mode="hard-fail",
    )


class _CrlFetcherNotFromOurselves(RequestsCRLFetcher):
    def __init__(self, own_prefix: str, **kwargs):
        super().__init__(**kwargs)
        self.own_prefix = own_prefix

    async def _fetch_single(self, url):
        if self.own_prefix and url.startswith(self.own_prefix):
            # Our own CRL is handed over in-process; a request to ourselves could deadlock.
            raise OSError(f"not fetching the portal's own CRL {url}")
        return await super()._fetch_single(url)


class _NotFromOurselves(RequestsFetcherBackend):
    def __init__(self, own_prefix: str):
        super().__init__(per_request_timeout=FETCH_TIMEOUT_SECONDS)
        self.own_prefix = own_prefix

    def get_fetchers(self) -> Fetchers:
        fetchers = super().get_fetchers()
        return Fetchers(ocsp_fetcher=fetchers.ocsp_fetcher, cert_fetcher=fetchers.cert_fetcher,
                        crl_fetcher=_CrlFetcherNotFromOurselves(
                            self.own_prefix, per_request_timeout=FETCH_TIMEOUT_SECONDS))


class OwnTimeStamper(DummyTimeStamper):
    """RFC 3161 tokens signed in-process with the portal's time-stamping key (EC or RSA)."""

    def __init__(self, tsa_cert: x509.Certificate, tsa_key, chain=()):
        self._key = tsa_key
        super().__init__(tsa_cert=to_asn1_cert(tsa_cert), tsa_key=None,
                         certs_to_embed=[to_asn1_cert(cert) for cert in chain])

    def _build_tst_info(self, message_imprint, moment, req):
        info = super()._build_tst_info(message_imprint, moment, req)
        info["policy"] = OWN_TSA_POLICY
        return info

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, moment):
        attributes = _signed_attributes(self, tst_info_data, md_algorithm, moment)
        digest = _hash(md_algorithm)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            signature = self._key.sign(attributes.dump(), ec.ECDSA(digest))
        else:
            signature = self._key.sign(attributes.dump(), PKCS1v15(), digest)
        return signature, attributes

    def _build_signed_data(self, tst_info_data, md_algorithm, signature, signed_attrs):
        data = super()._build_signed_data(tst_info_data, md_algorithm, signature, signed_attrs)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            info = data["signer_infos"][0]
            info["signature_algorithm"] = algos.SignedDigestAlgorithm(
                {"algorithm": f"{md_algorithm}_ecdsa"})
        return data


def _hash(md_algorithm: str):
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
            "sha512": hashes.SHA512()}[md_algorithm.lower()]


def _signed_attributes(stamper: DummyTimeStamper, tst_info_data: bytes, md_algorithm: str,
                       moment) -> cms.CMSAttributes:
    """The signed attributes DummyTimeStamper builds, without its RSA-only signing step."""
    digest = hashes.Hash(_hash(md_algorithm))
    digest.update(tst_info_data)
    return cms.CMSAttributes([
        general.simple_cms_attribute("content_type", "tst_info"),
        general.simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(moment)})),
        general.simple_cms_attribute("signing_certificate",
                                     general.as_signing_certificate(stamper.tsa_cert)),
        general.simple_cms_attribute("message_digest", digest.finalize()),
    ])


_own_stampers: "weakref.WeakKeyDictionary[PortalCertificates, OwnTimeStamper]" = (
    weakref.WeakKeyDictionary()
)


def own_timestamper(certificates: PortalCertificates) -> OwnTimeStamper | None:
    """The portal's own time-stamping authority (None without one: an uploaded PKCS#12)."""
    if certificates.tsa_cert is None or certificates.tsa_key is None:
        return None
    with _signers_lock:
        stamper = _own_stampers.get(certificates)
        if stamper is None:
            stamper = OwnTimeStamper(certificates.tsa_cert, certificates.tsa_key)
            _own_stampers[certificates] = stamper
        return stamper


def _is_own(timestamper) -> bool:
    return isinstance(timestamper, OwnTimeStamper)


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


# --- archive time stamps ---------------------------------------------------------------------

def add_archive_timestamp(*args, **kwargs) -> bytes:
    """Add DSS + a document time stamp (see _add_archive_timestamp); event-loop safe."""
    return outside_event_loop(_add_archive_timestamp, *args, **kwargs)


def _add_archive_timestamp(pdf_bytes: bytes, certificates: PortalCertificates, *,
                           roots, long_term: LongTerm, timestamp_urls=()) -> bytes:
    """The file with the revocation data of its last time stamp and a fresh document time
    stamp over it all (an authority's when configured, else the portal's own)."""
    urls = [url for url in timestamp_urls if url]
    stampers = [timestamps.HTTPTimeStamper(url, timeout=TIMESTAMP_TIMEOUT_SECONDS)
                for url in urls] or [own_timestamper(certificates)]
    if stampers[0] is None:
        raise TimestampUnavailable("No time-stamping authority: neither configured nor own.")
    context = ValidationContext(
        trust_roots=[to_asn1_cert(root) for root in roots]
        + [to_asn1_cert(root) for root in long_term.timestamp_roots],
        crls=[asn1_crl.CertificateList.load(der) for der in long_term.crls],
        allow_fetching=bool(urls),
        fetcher_backend=_NotFromOurselves(long_term.own_url_prefix) if urls else None,
        # Revocation data that cannot be had must not keep the document from a new stamp.
        revocation_mode="soft-fail",
    )
    for stamper in stampers:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        output = io.BytesIO()
        try:
            signers.PdfTimeStamper(stamper).update_archival_timestamp_chain(
                reader, context, in_place=False, output=output)
        except TIMESTAMP_ERRORS as error:
            log.warning("Time-stamping authority did not answer: %s", error)
            continue
        return output.getvalue()
    raise TimestampUnavailable("No time-stamping authority answered; nothing was stamped.")


def last_timestamp_expiry(pdf_bytes: bytes) -> dt.datetime | None:
    """When the certificate of the file's last time stamp (a document time stamp, else the
    seal's signature time stamp) expires; None when the file has no time stamp."""
    reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
    stamps = reader.embedded_timestamp_signatures
    if stamps:
        return _not_after(stamps[-1].signer_cert)
    for signature in reversed(reader.embedded_regular_signatures):
        for token in extract_tst_data_iter(signature.signer_info, signed=False):
            return _not_after(general.extract_certificate_info(token).signer_cert)
    return None


def _not_after(cert: asn1_x509.Certificate) -> dt.datetime:
    return cert["tbs_certificate"]["validity"]["not_after"].native
