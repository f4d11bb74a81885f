"""Long-term validation of the portal's seal: B-LTA with the portal's own time, the CRL,
revocation, archive time stamps, and an instance from before the CA kept its key."""

import asyncio
import hashlib
import io
import os
import shutil
import subprocess
import time
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureStatus
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from portal.audit.models import AuditEvent
from portal.audit.service import events_for
from portal.documents.models import Document
from portal.extensions import db
from portal.retention import purge
from portal.sealing import certs
from portal.sealing.archive import restamp_document, restamp_due
from portal.sealing.pades import LongTerm, outside_event_loop, seal_pdf, to_asn1_cert
from portal.sealing.store import current_crl, portal_certificates, seal_level, trust_roots
from portal.storage import path_for, read
from portal.sweep.run import run_sweep
from tests.factories import make_user
from tests.fixtures import fixture_bytes
from tests.helpers import post_form, text_of
from tests.progress.support import load, sent_document
from tests.retention.support import NOW, completed_document, retention_company
from tests.sealing.test_finalize import _complete, _final_of
from tests.sealing.tsa import TimestampServer
from tests.verify.support import register_final, seal_verdict, sealed_by_portal

REQUIRED = RevocationCheckingPolicy(RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
                                    RevocationCheckingRule.CRL_OR_OCSP_REQUIRED)


def _only_trusting(ca_cert) -> PdfSignatureValidationSpec:
    """pyHanko's validator with the portal's CA as its one root, revocation data required,
    and nothing fetched (no fetcher is set up without a validation context that allows it)."""
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build([to_asn1_cert(ca_cert)]),
            revinfo_policy=CertRevTrustPolicy(REQUIRED))))


def _verify(client, pdf: bytes) -> dict:
    response = client.post("/verify", data={"file": (io.BytesIO(pdf), "final.pdf")},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    return response.get_json()


def test_a_final_pdf_passes_ades_lta_validation_now_and_after_the_seal_certificate_expired(
        app, admin):
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        final = _final_of(document_id)
        ca_cert = portal_certificates().ca_cert
        seal_cert = portal_certificates().seal_cert
    signature = PdfFileReader(io.BytesIO(final)).embedded_regular_signatures[0]
    spec = _only_trusting(ca_cert)

    # A browser test of the same worker may leave an event loop running in this thread.
    now = outside_event_loop(asyncio.run, ades.ades_lta_validation(signature, spec))
    later = seal_cert.not_valid_after_utc + timedelta(days=30)
    future = outside_event_loop(asyncio.run, ades.simulate_future_ades_lta_validation(
        signature, spec, future_validation_time=later))

    assert now.ades_subindic.status.name == "PASSED"
    assert now.api_status.bottom_line
    assert future.ades_subindic.status.name == "PASSED"
    assert future.api_status.bottom_line
    assert isinstance(future.api_status, SignatureStatus)


def test_the_crl_is_public_der_and_cacheable(app, client):
    response = client.get("/pki/ca.crl")
    with app.app_context():
        ca_cert = portal_certificates().ca_cert

    crl = x509.load_der_x509_crl(response.data)
    assert response.status_code == 200 and response.mimetype == "application/pkix-crl"
    assert "public" in response.headers["Cache-Control"]
    assert crl.issuer == ca_cert.subject and crl.is_signature_valid(ca_cert.public_key())
    assert len(list(crl)) == 0
    issuer = client.get("/pki/ca.cer")
    assert x509.load_der_x509_certificate(issuer.data) == ca_cert


def test_seal_certificates_name_the_crl_and_the_issuer(app):
    with app.app_context():
        seal = portal_certificates().seal_cert
        tsa = portal_certificates().tsa_cert
        base = app.config["SIGNET_BASE_URL"]
    points = seal.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    access = seal.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    usage = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)

    assert points[0].full_name[0].value == f"{base}/pki/ca.crl"
    assert access[0].access_location.value == f"{base}/pki/ca.cer"
    assert usage.critical and list(usage.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]
    key_file = os.path.join(app.instance_path, "signing", "ca-key.pem")
    assert os.stat(key_file).st_mode & 0o777 == 0o600


def test_revoking_marks_later_seals_revoked_and_keeps_earlier_ones_authentic(
        app, admin, admin_client, client, tmp_path):
    with app.app_context():
        before_id = sent_document(admin["id"])
        _complete(before_id)
        before = _final_of(before_id)
        revoked_set = portal_certificates()
    page = admin_client.get("/admin/sealing")
    assert "B-LTA" in text_of(page) and "/pki/ca.crl" in text_of(page)
    assert "No external time-stamping authority is configured" in text_of(page)

    done = post_form(admin_client, "/admin/sealing/revoke", {"reason": "key_compromise"},
                     follow_redirects=True)
    assert done.status_code == 200 and "was revoked" in text_of(done)

    time.sleep(1.1)  # a CRL names whole seconds: the next one is surely after the revocation
    with app.app_context():
        fresh = portal_certificates()
        # A thief's seal: the revoked key, after the revocation, with the portal's own time.
        forged = seal_pdf(fixture_bytes("plain.pdf"), revoked_set, reason="r", location="l",
                          long_term=LongTerm(crls=(current_crl(),)))
        register_final(admin["id"], forged)
        events = [event.type for event in db.session.execute(db.select(AuditEvent)).scalars()]
    crl = x509.load_der_x509_crl(client.get("/pki/ca.crl").data)

    assert fresh.seal_cert.serial_number != revoked_set.seal_cert.serial_number
    assert crl.get_revoked_certificate_by_serial_number(revoked_set.seal_cert.serial_number)
    assert "seal.certificate_revoked" in events
    later = _verify(client, forged)
    assert later["verdict"] == "revoked" and later["seal"]["revoked_at"]
    earlier = _verify(client, before)
    assert earlier["verdict"] == "authentic" and earlier["seal"]["revoked_at"] is None
    page = client.post("/verify", data={"file": (io.BytesIO(forged), "forged.pdf")})
    assert "Sealed with a revoked certificate" in text_of(page)
    assert "Revoked" in text_of(admin_client.get("/admin/sealing"))
    forged_file = tmp_path / "forged.pdf"
    forged_file.write_bytes(forged)
    printed = app.test_cli_runner().invoke(args=["signet", "verify", str(forged_file)])
    assert printed.exit_code == 1 and "Verdict: revoked" in printed.output
    assert "REVOKED" in printed.output


def test_revoking_from_the_command_line(app):
    with app.app_context():
        old = portal_certificates().seal_cert.serial_number
    result = app.test_cli_runner().invoke(args=["signet", "seal", "revoke", "--yes",
                                                "--reason", "superseded"])
    with app.app_context():
        new = portal_certificates().seal_cert.serial_number
        listed = [item.serial for item in certs.revocations(app.instance_path)]

    assert result.exit_code == 0, result.output
    assert listed == [old] and new != old


def test_restamp_adds_an_archive_time_stamp_and_both_files_stay_authentic(
        app, admin, client, tmp_path):
    with app.app_context():
        due_id = sent_document(admin["id"])
        _complete(due_id)
        first = _final_of(due_id)
        # Sealed without a time stamp: nothing runs out, nothing to renew.
        plain_id = register_final(admin["id"], sealed_by_portal(), code="PLAI-NSEA-LXYZ",
                                  number="ACT-2025-00099")
        plain_sha = db.session.get(Document, plain_id).final_sha256
        number = load(due_id).number
    runner = app.test_cli_runner()

    nothing = runner.invoke(args=["signet", "seal", "restamp", "--dry-run"])
    assert nothing.exit_code == 0 and "0 document(s) due" in nothing.output
    # The portal's time-stamping certificate lives ten years: within 4000 days, due.
    app.config["SIGNET_RESTAMP_DAYS"] = 4000
    dry = runner.invoke(args=["signet", "seal", "restamp", "--dry-run"])
    with app.app_context():
        assert load(due_id).final_sha256 == _sha(first)
    real = runner.invoke(args=["signet", "seal", "restamp"])
    with app.app_context():
        second = read(load(due_id).final_sha256)
        plain_after = db.session.get(Document, plain_id).final_sha256
        events = [event.type for event in events_for(due_id)]

    assert number in dry.output and "1 document(s) due" in dry.output
    assert "Re-stamped 1 of 1" in real.output, real.output
    assert second.startswith(first) and len(second) > len(first)
    stamps = PdfFileReader(io.BytesIO(second)).embedded_timestamp_signatures
    assert len(stamps) == 2
    assert plain_after == plain_sha
    assert events[-1] == "document.restamped"
    old_report, new_report = _verify(client, first), _verify(client, second)
    assert old_report["verdict"] == "authentic" and old_report["registry"]["current_sha256"]
    assert new_report["verdict"] == "authentic"
    assert new_report["seal"]["level"] == "B-LTA" and new_report["seal"]["covers_whole_file"]
    assert new_report["seal"]["document_timestamps"] == 2
    if shutil.which("pdfsig"):  # installed by .ci/run
        (tmp_path / "restamped.pdf").write_bytes(second)
        listing = subprocess.run(["pdfsig", str(tmp_path / "restamped.pdf")],
                                 capture_output=True, text=True, check=True).stdout
        seal_part = listing.split("Signature #2:")[0]
        assert "Signature is Valid." in seal_part and "Signature #3:" in listing


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_sweep_restamps_due_documents(app, admin):
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        first = load(document_id).final_sha256
    app.config["SIGNET_RESTAMP_DAYS"] = 4000
    with app.app_context():
        counts = run_sweep()
        after = load(document_id).final_sha256

    assert counts["restamped"] == 1 and after != first


def test_an_instance_whose_ca_key_was_thrown_away_gets_a_new_ca_and_old_seals_verify(
        app, admin, client):
    # What earlier versions kept: the CA certificate, the seal certificate and its key only.
    made = certs.new_certificates("Old Instance Ltd")
    folder = os.path.join(app.instance_path, "signing")
    os.makedirs(folder, exist_ok=True)
    pem = serialization.Encoding.PEM
    with open(os.path.join(folder, "ca.pem"), "wb") as handle:
        handle.write(made.ca_pem())
    with open(os.path.join(folder, "seal.pem"), "wb") as handle:
        handle.write(made.seal_cert.public_bytes(pem))
    with open(os.path.join(folder, "seal-key.pem"), "wb") as handle:
        handle.write(made.seal_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    old_sealed = seal_pdf(fixture_bytes("plain.pdf"), made, reason="old", location="old")

    with app.app_context():
        register_final(admin["id"], old_sealed)
        upgraded = portal_certificates()
        roots = trust_roots()
        new_id = sent_document(admin["id"])
        _complete(new_id)
        new_final = _final_of(new_id)

    assert upgraded.own_ca and upgraded.ca_cert != made.ca_cert
    assert made.ca_cert in roots and upgraded.ca_cert in roots
    old_report = _verify(client, old_sealed)
    assert old_report["verdict"] == "authentic" and old_report["seal"]["trusted"]
    new_report = _verify(client, new_final)
    assert new_report["verdict"] == "authentic" and new_report["seal"]["level"] == "B-LTA"


def _tsa_roots_file(tmp_path, tsa) -> str:
    path = tmp_path / "tsa-root.pem"
    path.write_bytes(tsa.root.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_an_outside_authority_with_a_known_root_gives_b_lta_with_its_time(
        make_app, tmp_path):
    with TimestampServer() as tsa:
        app = make_app(SIGNET_TSA_URLS=[tsa.url], SIGNET_TSA_ROOTS=_tsa_roots_file(tmp_path, tsa))
        with app.app_context():
            document_id = sent_document(make_user(email="root@example.com", is_admin=True).id)
            _complete(document_id)
            final = _final_of(document_id)
            check = seal_verdict(final, trust_roots(), [tsa.root])
            page_level = seal_level()

    assert check.trusted and check.covers_whole_file and check.timestamp_trusted
    assert check.level == "B-LTA"
    assert page_level == ("B-LTA", "external")
    stamp = PdfFileReader(io.BytesIO(final)).embedded_timestamp_signatures[-1]
    assert stamp.signer_cert.subject.human_friendly.endswith("Test TSA")


def test_an_outside_authority_whose_chain_cannot_be_checked_still_seals_at_b_t(
        make_app):
    with TimestampServer() as tsa:
        # No SIGNET_TSA_ROOTS: the authority's chain cannot be validated, so no revocation
        # data can be gathered for it: the seal is made all the same, with its time stamp.
        app = make_app(SIGNET_TSA_URLS=[tsa.url])
        with app.app_context():
            document_id = sent_document(make_user(email="root@example.com", is_admin=True).id)
            _complete(document_id)
            check = seal_verdict(_final_of(document_id), trust_roots(), [tsa.root])
            page_level = seal_level()

    assert check.trusted and check.covers_whole_file and check.timestamp_trusted
    assert check.level == "B-T" and page_level == ("B-T", "external")


def test_revoking_needs_the_form_token_and_the_settings_permission(
        app, admin_client, employee_client):
    with app.app_context():
        serial = portal_certificates().seal_cert.serial_number

    forged = admin_client.post("/admin/sealing/revoke", data={"reason": "key_compromise"})
    employee = post_form(employee_client, "/admin/sealing/revoke", {"reason": "superseded"})
    unknown = post_form(admin_client, "/admin/sealing/revoke", {"reason": "bored"})

    assert forged.status_code == 400 and employee.status_code == 403
    assert unknown.status_code == 400
    with app.app_context():
        assert portal_certificates().seal_cert.serial_number == serial
        assert certs.revocations(app.instance_path) == []


def test_retention_deletes_earlier_final_pdfs_too_and_purged_files_are_not_restamped(
        app, admin):
    with app.app_context():
        sealed = seal_pdf(fixture_bytes("plain.pdf"), portal_certificates(), reason="r",
                          location="l", long_term=LongTerm(crls=(current_crl(),)))
        document = completed_document(admin["id"], retention_company(files_days=30),
                                      number="ACT-1", final=sealed)
        db.session.commit()
        first = document.final_sha256
        app.config["SIGNET_RESTAMP_DAYS"] = 4000
        second = restamp_document(document.id)
        purge.run(NOW)
        due_after = restamp_due()
        on_disk = path_for(first).exists(), path_for(second).exists()

    assert second and second != first
    assert on_disk == (False, False)
    assert due_after == []
