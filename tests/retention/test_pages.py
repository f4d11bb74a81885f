"""Retention through the pages: /verify after a purge, 410 downloads, the legal hold, settings."""

import html as html_module
import io

import pytest

from portal.audit.service import events_for
from portal.auth.models import Role, RoleGrant
from portal.auth.services import find_user_by_email
from portal.documents.models import Document
from portal.extensions import db
from portal.parties.models import Company
from portal.retention import purge
from portal.verify.cli import report_lines
from portal.verify.report import build_report
from tests.factories import make_user
from tests.helpers import post_form, sign_in, text_of
from tests.retention.support import NOW, completed_document, retention_company
from tests.verify.page_files import sealed_pdf

JSON = {"Accept": "application/json"}
GONE_NOTE = "This portal no longer stores the file"


def shown(response) -> str:
    return html_module.unescape(text_of(response))


@pytest.fixture
def purged(app, admin):
    """A completed document whose sealed final PDF (kept here as a copy) retention deleted."""
    with app.app_context():
        pdf = sealed_pdf()
        document = completed_document(admin["id"], retention_company(30), number="ACT-2026-1",
                                      final=pdf)
        code = document.verification_code
        assert [item.number for item in purge.run(NOW).done] == ["ACT-2026-1"]
        return {"id": document.id, "pdf": pdf, "code": code}


def test_a_kept_copy_of_a_purged_pdf_still_checks_as_authentic(app, client, purged):
    page = client.post("/verify", data={"file": (io.BytesIO(purged["pdf"]), "act.pdf")},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    assert 'data-verdict="authentic"' in text_of(page)
    assert GONE_NOTE in shown(page)

    answer = client.post("/verify", data={"file": (io.BytesIO(purged["pdf"]), "act.pdf")},
                         content_type="multipart/form-data", headers=JSON).get_json()
    assert answer["verdict"] == "authentic"
    assert answer["registry"]["files_purged_at"].startswith("2026-02-19")

    by_code = client.get(f"/verify?code={purged['code']}")
    assert by_code.status_code == 200 and GONE_NOTE in shown(by_code)
    assert client.get(f"/verify?code={purged['code']}", headers=JSON) \
        .get_json()["code_document"]["files_purged_at"] is not None

    with app.test_request_context():
        lines = report_lines(build_report(purged["pdf"]), "act.pdf")
    assert lines[0].startswith("Verdict: authentic")
    assert any("the portal no longer stores this file: deleted on 2026-02-19" in line
               for line in lines)


def test_a_kept_copy_is_told_in_portuguese_too(client, purged):
    page = client.get(f"/verify?code={purged['code']}", headers={"Accept-Language": "pt"})
    assert "Este portal já não guarda o ficheiro" in shown(page)


def test_downloads_of_purged_files_say_they_are_gone(admin_client, purged):
    final = admin_client.get(f"/documents/{purged['id']}/final.pdf")
    assert final.status_code == 410
    assert "The portal no longer stores this file" in shown(final)
    source = admin_client.get(f"/documents/{purged['id']}/source.pdf")
    assert source.status_code == 410

    page = admin_client.get(f"/documents/{purged['id']}")
    assert page.status_code == 200
    assert "PDFs deleted" in shown(page)
    assert f"/documents/{purged['id']}/source.pdf" not in text_of(page)
    assert f"/documents/{purged['id']}/final.pdf" not in text_of(page)


def test_a_masked_document_page_and_certificate_data_still_work(app, admin_client, admin):
    with app.app_context():
        document_id = completed_document(admin["id"], retention_company(0, 30),
                                         number="ACT-M").id
        purge.run(NOW)
    page = admin_client.get(f"/documents/{document_id}")
    assert page.status_code == 200
    assert "were masked on" in shown(page)
    assert "anna@keeper.example" not in text_of(page)


@pytest.fixture
def held_document(app, admin):
    with app.app_context():
        return completed_document(admin["id"], retention_company(30), number="ACT-H").id


def _hold_state(app, document_id):
    with app.app_context():
        document = db.session.get(Document, document_id)
        return document.legal_hold, [(e.type, e.details.get("reason"))
                                     for e in events_for(document_id)
                                     if e.type.startswith("document.legal_hold")]


def test_a_legal_hold_is_set_and_lifted_with_a_reason_and_keeps_the_files(app, admin_client,
                                                                         held_document):
    url = f"/documents/{held_document}/legal-hold"
    refused = post_form(admin_client, url, {"reason": "   "}, follow_redirects=True)
    assert "Say why" in shown(refused)
    assert _hold_state(app, held_document) == (False, [])

    response = post_form(admin_client, url, {"reason": "Court request 12/26"})
    assert response.status_code == 303
    assert _hold_state(app, held_document) == (
        True, [("document.legal_hold_set", "Court request 12/26")])
    page = shown(admin_client.get(f"/documents/{held_document}"))
    assert "Legal hold" in page and "Court request 12/26" in page

    with app.app_context():
        assert purge.run(NOW).done == []
        assert db.session.get(Document, held_document).files_purged_at is None

    post_form(admin_client, f"{url}/lift", {"reason": "Dispute settled"})
    assert _hold_state(app, held_document) == (False, [
        ("document.legal_hold_set", "Court request 12/26"),
        ("document.legal_hold_lifted", "Dispute settled")])


def test_a_legal_hold_needs_the_csrf_token(app, admin_client, held_document):
    response = admin_client.post(f"/documents/{held_document}/legal-hold",
                                 data={"reason": "Forged"})
    assert response.status_code == 400
    assert _hold_state(app, held_document) == (False, [])


def test_a_legal_hold_needs_the_right_to_edit_the_document(app, held_document):
    with app.app_context():
        reader = make_user(email="reader@example.com", name="Rita Reader")
        role = Role(name="Reader of everything")
        role.grants = [RoleGrant(section="documents", action="view", scope="all")]
        reader.roles.append(role)
        db.session.commit()
    client = app.test_client()
    sign_in(client, "reader@example.com")
    response = post_form(client, f"/documents/{held_document}/legal-hold",
                         {"reason": "Not mine to hold"})
    assert response.status_code == 403
    assert "Put under legal hold" not in shown(client.get(f"/documents/{held_document}"))
    assert _hold_state(app, held_document) == (False, [])


def _company_form(**changes) -> dict:
    return {"legal_name": "Keeper LLC", "short_name": "Keeper LLC", "signer_name": "Anna",
            "signer_email": "anna@keeper.example", "language": "", **changes}


def test_retention_periods_are_set_checked_and_previewed(app, admin, admin_client):
    with app.app_context():
        company = retention_company(0)
        completed_document(admin["id"], company, number="ACT-P")
        company_id = company.id
    edit = f"/companies/{company_id}/edit"

    refused = post_form(admin_client, edit, _company_form(retention_files_days="40000"))
    assert refused.status_code == 200
    assert "Enter a number of days from 0 to 36500" in shown(refused)

    saved = post_form(admin_client, edit, _company_form(retention_files_days="30",
                                                        retention_mask_days=""))
    assert saved.status_code == 302
    with app.app_context():
        company = db.session.get(Company, company_id)
        assert (company.retention_files_days, company.retention_mask_days) == (30, 0)

    page = shown(admin_client.get(f"/companies/{company_id}"))
    assert "1 document would have its PDFs deleted now" in page
    assert "ACT-P" in page and "period: 30 days" in page
    with app.app_context():  # the preview is a dry run
        assert db.session.get(Document, find_document_id("ACT-P")).files_purged_at is None


def find_document_id(number: str) -> int:
    return db.session.execute(db.select(Document.id).filter_by(number=number)).scalar_one()


def test_retention_settings_need_the_settings_right(app, employee_client):
    with app.app_context():
        company_id = retention_company(0).id
        assert find_user_by_email("emp@example.com") is not None
    response = post_form(employee_client, f"/companies/{company_id}/edit",
                         _company_form(retention_files_days="1"))
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Company, company_id).retention_files_days == 0


def test_the_vault_and_the_api_say_a_purged_pdf_is_gone(app, admin, admin_client, purged):
    from tests.api.support import bearer, error_of, make_token

    listing = shown(admin_client.get("/vault"))
    assert "ACT-2026-1" in listing and "(retention)" in listing
    assert f'id="pick-{purged["id"]}"' not in listing  # nothing to put in a zip
    assert admin_client.get(f"/vault/{purged['id']}/signed.pdf").status_code == 410

    api = app.test_client()
    headers = bearer(make_token(app, admin["id"]))
    final = api.get(f"/api/v1/documents/{purged['id']}/final.pdf", headers=headers)
    assert final.status_code == 410
    assert "no longer stores this file" in error_of(final)["message"]
    assert api.get(f"/api/v1/documents/{purged['id']}/source.pdf",
                   headers=headers).status_code == 410


def test_pictures_of_purged_pages_go_with_the_pdf(app, admin, admin_client):
    from portal.pdfs.preview import preview_dir

    with app.app_context():
        document = completed_document(admin["id"], retention_company(30), number="ACT-IMG")
        document_id, source = document.id, document.source_sha256
    image = f"/documents/{document_id}/pages/1.img?w=400"
    assert admin_client.get(image).status_code == 200
    with app.app_context():
        cached = list((preview_dir() / source[:2]).glob(f"{source}-p*"))
        assert cached
        purge.run(NOW)
        assert list((preview_dir() / source[:2]).glob(f"{source}-p*")) == []
    assert admin_client.get(image).status_code == 410


def test_the_api_stops_offering_a_purged_pdf(app, admin, purged):
    from tests.api.support import bearer, make_token

    api = app.test_client()
    headers = bearer(make_token(app, admin["id"]))
    status = api.get(f"/api/v1/documents/{purged['id']}/status", headers=headers).get_json()
    assert status["final_pdf"] is False
    document = api.get(f"/api/v1/documents/{purged['id']}", headers=headers).get_json()
    assert document["links"]["final_pdf"] is None and document["links"]["source_pdf"] is None
