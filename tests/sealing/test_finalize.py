"""The sealed final PDF: certificate pages, PAdES seal over the whole file, time stamps, retries."""

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from portal.audit.service import events_for
from portal.documents.services.common import as_utc
from portal.jobs import QuickStopWorker
from portal.sealing.certs import ensure_portal_certificates
from portal.sealing.finalize import finalize_document, unsealed_documents
from portal.sealing.store import portal_certificates, trust_roots
from portal.storage import read
from tests.helpers import post_form, sign_in, text_of
from tests.progress.support import fill_signatures, load, sent_document, sign
from tests.sealing.tsa import TimestampServer, closed_port_url
from tests.verify.support import seal_verdict


@pytest.fixture
def admin_of():
    """Create the administrator in an app built with make_app; return its id."""
    from tests.factories import make_user

    def create(app) -> int:
        with app.app_context():
            return make_user(email="root@example.com", name="Root Admin", is_admin=True).id

    return create


def _complete(document_id: int) -> None:
    fill_signatures(document_id)
    sign(document_id, "company")
    sign(document_id, "client")


def _final_of(document_id: int) -> bytes:
    document = load(document_id)
    assert document.final_sha256, document.seal_error
    return read(document.final_sha256)


def test_the_final_pdf_is_sealed_over_the_whole_file_by_the_portal(app, admin):
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        final = _final_of(document_id)
        source = read(load(document_id).source_sha256)
        check = seal_verdict(final, trust_roots())
        subject = portal_certificates().seal_cert.subject.rfc4514_string()
        types = [event.type for event in events_for(document_id)]

    assert check.signed and check.intact and check.valid and check.trusted
    # Only the seal's validation data and the portal's document time stamp follow it (B-LTA).
    assert check.covers_whole_file and check.modification_level == "LTA_UPDATES"
    assert check.signature_count == 1 and check.level == "B-LTA"
    assert check.timestamp is not None and check.timestamp_trusted
    assert "Signet document seal" in subject
    # The certificate pages come after the document's own pages.
    assert len(PdfReader(io.BytesIO(final)).pages) > len(PdfReader(io.BytesIO(source)).pages)
    assert types[-1] == "document.finalized"


def test_the_seal_is_not_trusted_against_another_portals_ca(app, admin, tmp_path):
    other = ensure_portal_certificates(tmp_path, "Somebody else")
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        final = _final_of(document_id)

    check = seal_verdict(final, [other.ca_cert])
    assert check.intact and not check.trusted


def test_a_configured_authority_time_stamps_the_seal(make_app, admin_of):
    with TimestampServer() as tsa:
        app = make_app(SIGNET_TSA_URLS=[closed_port_url(), tsa.url])
        with app.app_context():
            document_id = sent_document(admin_of(app))
            _complete(document_id)
            final = _final_of(document_id)
            check = seal_verdict(final, trust_roots(), [tsa.root])
        assert tsa.requests >= 1  # pyHanko also asks once to size the signature

    assert check.trusted and check.covers_whole_file
    assert check.timestamp is not None and check.timestamp_trusted


def test_no_answering_authority_leaves_it_unsealed_on_the_admin_page_until_retried(
        make_app, admin_of):
    app = make_app(SIGNET_TSA_URLS=[closed_port_url(), closed_port_url()])
    with app.app_context():
        document_id = sent_document(admin_of(app))
        _complete(document_id)
        document = load(document_id)
        assert document.stage == "completed" and document.final_sha256 is None
        assert document.seal_attempts == 1 and "authorities answered" in document.seal_error
        assert [d.id for d in unsealed_documents()] == [document_id]
        assert "document.finalized" not in [e.type for e in events_for(document_id)]

    client = app.test_client()
    sign_in(client, "root@example.com")
    page = text_of(client.get("/admin/sealing"))
    assert load_number(app, document_id) in page and "No time-stamping authority answered" in page

    with TimestampServer() as tsa:
        app.config["SIGNET_TSA_URLS"] = [tsa.url]
        response = post_form(client, "/admin/sealing/retry", follow_redirects=True)
        assert "started again for 1 document" in text_of(response)
    with app.app_context():
        check = seal_verdict(_final_of(document_id), trust_roots(), [tsa.root])
        assert unsealed_documents() == []
    assert check.trusted and check.timestamp is not None
    assert "Every completed document is sealed." in text_of(client.get("/admin/sealing"))


def load_number(app, document_id: int) -> str:
    with app.app_context():
        return load(document_id).number


def test_finalizing_again_changes_nothing(app, admin):
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        first = _final_of(document_id)
        assert finalize_document(document_id) is None
        assert _final_of(document_id) == first


@pytest.mark.skipif(shutil.which("pdfsig") is None or shutil.which("certutil") is None,
                    reason="poppler's pdfsig and NSS certutil are installed by .ci/run")
def test_a_standard_reader_shows_the_seal_valid_trusted_and_covering_everything(
        app, admin, tmp_path):
    """poppler's pdfsig reads the signature the way PDF readers do, with our CA trusted in NSS."""
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        final = _final_of(document_id)
        ca_pem = portal_certificates().ca_pem()
    (tmp_path / "final.pdf").write_bytes(final)
    (tmp_path / "ca.pem").write_bytes(ca_pem)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "Signet CA", "-t", "CT,C,C",
                    "-i", str(tmp_path / "ca.pem")], check=True)

    report = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(tmp_path / "final.pdf")],
                            capture_output=True, text=True, check=True).stdout

    seal, stamp = report.split("Signature #2:")
    assert "Signature is Valid." in seal and "Certificate is Trusted." in seal
    # The portal's document time stamp follows (B-LTA); poppler lists it, it cannot check one.
    assert "Signet time-stamping" in stamp


def _pkcs12(tmp_path, password: bytes | None) -> bytes:
    """A CA and seal certificate of 'our own PKI', packed as an admin would upload them."""
    made = ensure_portal_certificates(tmp_path / "own-pki", "Own PKI")
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return pkcs12.serialize_key_and_certificates(
        b"seal", made.seal_key, made.seal_cert, [made.ca_cert], encryption)


def _pkcs12_without_non_repudiation() -> bytes:
    """A self-signed certificate good for logins, not for signing documents."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Login only")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=9))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(b"login", key, cert, None,
                                                 serialization.NoEncryption())


def test_an_uploaded_pkcs12_seals_from_then_on_and_old_seals_stay_trusted(
        app, admin, admin_client, tmp_path):
    with app.app_context():
        before = sent_document(admin["id"])
        _complete(before)
    upload = _pkcs12(tmp_path, b"s3cret")

    wrong = post_form(admin_client, "/admin/sealing/certificate", {
        "password": "nope", "certificate": (io.BytesIO(upload), "seal.p12")})
    assert wrong.status_code == 400 and "does not open" in text_of(wrong)
    not_p12 = post_form(admin_client, "/admin/sealing/certificate", {
        "password": "", "certificate": (io.BytesIO(b"%PDF-1.7 nothing"), "seal.p12")})
    assert not_p12.status_code == 400 and "not a PKCS#12" in text_of(not_p12)
    login_only = post_form(admin_client, "/admin/sealing/certificate", {
        "password": "", "certificate": (io.BytesIO(_pkcs12_without_non_repudiation()),
                                        "login.p12")})
    assert login_only.status_code == 400 and "non-repudiation" in text_of(login_only)
    nothing = post_form(admin_client, "/admin/sealing/certificate", {"password": "x"})
    assert nothing.status_code == 400 and "Choose the PKCS#12 file" in text_of(nothing)
    with app.app_context():
        assert "Signet document seal" in portal_certificates().seal_cert.subject.rfc4514_string()

    done = post_form(admin_client, "/admin/sealing/certificate", {
        "password": "s3cret", "certificate": (io.BytesIO(upload), "seal.p12")},
        follow_redirects=True)
    assert "Own PKI" in text_of(done)

    with app.app_context():
        after = sent_document(admin["id"])
        _complete(after)
        roots = trust_roots()
        new_check = seal_verdict(_final_of(after), roots)
        old_check = seal_verdict(_final_of(before), roots)
        fingerprint = portal_certificates().seal_cert.fingerprint(hashes.SHA256())
    assert new_check.trusted and "Own PKI" in new_check.signer_subject
    assert old_check.trusted and "Own PKI" not in old_check.signer_subject
    assert fingerprint.hex(":").upper() in text_of(admin_client.get("/admin/sealing"))


def test_employees_cannot_open_the_sealing_page(employee_client):
    assert employee_client.get("/admin/sealing").status_code == 403
    assert post_form(employee_client, "/admin/sealing/retry").status_code == 403


def test_sealing_runs_on_its_own_retried_queue_and_seal_pending_queues_it_again(
        make_app, admin_of, redis_url, redis_client):
    import rq

    app = make_app(REDIS_URL=redis_url, SIGNET_TSA_URLS=[closed_port_url()])
    sealing = rq.Queue("sealing", connection=redis_client)
    with app.app_context():
        document_id = sent_document(admin_of(app))
        _complete(document_id)
        [job] = [job for job in sealing.jobs if job.func_name.endswith("finalize_document")]
        assert job.args == (document_id,) and job.retries_left == 5
        QuickStopWorker([sealing], connection=redis_client).work(burst=True)
        failed = load(document_id)
        assert failed.seal_attempts == 1 and failed.final_sha256 is None
        # The next try is due in the row (the first wait of SIGNET_RETRY_SECONDS) and booked on
        # RQ's schedule for then; RQ's own retry is not used (the job did not raise).
        assert failed.seal_next_at is not None and failed.seal_lease_until is None
        wait = (as_utc(failed.seal_next_at) - as_utc(failed.seal_failed_at)).total_seconds()
        assert wait == app.config["SIGNET_RETRY_SECONDS"][0]
        [booked] = sealing.scheduled_job_registry.get_job_ids()
        assert booked.startswith(f"signet-seal-{document_id}-")
        assert len(sealing.failed_job_registry) == 0

        with TimestampServer() as tsa:
            app.config["SIGNET_TSA_URLS"] = [tsa.url]
            result = app.test_cli_runner().invoke(args=["signet", "seal-pending"])
            assert "Queued sealing for 1 document(s)." in result.output
            QuickStopWorker([sealing], connection=redis_client).work(burst=True)
        assert _final_of(document_id)
        assert load(document_id).seal_error == ""


def test_verify_shows_the_chain_head_the_certificate_printed_and_what_came_after(app, admin,
                                                                               client):
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        final = _final_of(document_id)
        events = events_for(document_id)
        [finalized] = [event for event in events if event.type == "document.finalized"]
        printed = finalized.details["certificate_chain_head"]
        after = len(events) - [event.hash for event in events].index(printed) - 1
    text = subprocess.run(["pdftotext", "-", "-"], input=final, capture_output=True,
                          check=True).stdout.decode()
    assert printed[:32] in text.replace("\n", "").replace(" ", "")  # printed, maybe wrapped
    page = text_of(client.post("/verify", data={"file": (io.BytesIO(final), "final.pdf")},
                               content_type="multipart/form-data"))
    assert "Chain head in the certificate:" in page and printed in page
    assert after >= 1 and f"{after} event" in page
