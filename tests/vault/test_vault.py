"""The vault: signed documents only, filters in the URL, permissions, the bulk zip, progress."""

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
import rq

from portal.extensions import db
from portal.jobs import QuickStopWorker
from portal.models_base import utcnow
from portal.storage import read, store
from portal.vault.bundles import purge_expired_bundles
from tests.factories import (
    make_company,
    make_counterparty,
    make_document_row,
    make_user,
)
from tests.helpers import post_form, sign_in, text_of

HX = {"HX-Request": "true"}


def _signed(owner_id, number, *, company=None, counterparty=None, days_ago=1, **fields):
    """A completed document with its own sealed PDF (distinct bytes per document)."""
    final = store(b"%PDF-1.7\n% sealed " + number.encode() + b"\n%%EOF\n", "application/pdf")
    db.session.commit()
    return make_document_row(
        owner_id, company=company, number=number, stage="completed", page_count=2,
        completed_at=utcnow() - timedelta(days=days_ago), final_sha256=final.sha256,
        counterparty_id=counterparty.id if counterparty else None, **fields).id


@pytest.fixture
def vault(app):
    """Two companies, two employees and their signed documents (plus ones not in the vault)."""
    with app.app_context():
        acme, globex = make_company("Acme LLC"), make_company("Globex SA")
        maria = make_counterparty("Maria Silva")
        ivan = make_counterparty("Ivan Petrov", email="ivan@example.com")
        emma = make_user(email="emma@example.com", name="Emma")
        otto = make_user(email="otto@example.com", name="Otto")
        admin = make_user(email="boss@example.com", name="Boss", is_admin=True)
        ids = {
            "emma-1": _signed(emma.id, "ACT-001", company=acme, counterparty=maria, days_ago=40),
            "emma-2": _signed(emma.id, "ACT-002", company=globex, counterparty=ivan, days_ago=2),
            "otto-1": _signed(otto.id, "INV-100", company=acme, counterparty=maria, days_ago=1),
        }
        make_document_row(emma.id, company=acme, number="DRAFT-1")
        make_document_row(emma.id, company=acme, number="UNSEALED-1", stage="completed",
                          completed_at=utcnow())
        return {"ids": ids, "acme": acme.id, "globex": globex.id,
                "users": {"emma": emma.email, "otto": otto.email, "boss": admin.email}}


def _client(app, email):
    client = app.test_client()
    sign_in(client, email)
    return client


def _numbers(html: str) -> set[str]:
    return {number for number in ("ACT-001", "ACT-002", "INV-100", "DRAFT-1", "UNSEALED-1")
            if number in html}


def test_an_employee_sees_only_their_own_signed_documents(app, vault):
    emma = _client(app, vault["users"]["emma"])
    response = emma.get("/vault")
    assert response.status_code == 200
    assert _numbers(text_of(response)) == {"ACT-001", "ACT-002"}
    assert 'href="/vault"' in text_of(response)  # the menu has the vault
    otto_document = vault["ids"]["otto-1"]
    assert emma.get(f"/vault/{otto_document}/signed.pdf").status_code == 404
    boss = _client(app, vault["users"]["boss"])
    assert _numbers(text_of(boss.get("/vault"))) == {"ACT-001", "ACT-002", "INV-100"}


def test_the_sealed_pdf_and_the_certificate_page(app, vault):
    emma = _client(app, vault["users"]["emma"])
    document_id = vault["ids"]["emma-1"]
    download = emma.get(f"/vault/{document_id}/signed.pdf")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "ACT-001.pdf" in download.headers["Content-Disposition"]
    with app.app_context():
        from portal.documents.models import Document

        assert download.data == read(db.session.get(Document, document_id).final_sha256)
    shown = emma.get(f"/vault/{document_id}/signed.pdf?view=1")
    assert shown.headers["Content-Disposition"].startswith("inline")
    # Two pages of its own: the certificate starts on page 3.
    assert f"/vault/{document_id}/signed.pdf?view=1#page=3" in text_of(emma.get("/vault"))


def test_filters_live_in_the_url_and_htmx_gets_the_results_alone(app, vault):
    boss = _client(app, vault["users"]["boss"])
    by_number = boss.get("/vault?number=act-00", headers=HX)
    assert _numbers(text_of(by_number)) == {"ACT-001", "ACT-002"}
    assert "<html" not in text_of(by_number) and 'id="vault-results"' in text_of(by_number)
    assert "HX-Request" in by_number.headers["Vary"]
    assert _numbers(text_of(boss.get("/vault?counterparty=MARIA"))) == {"ACT-001", "INV-100"}
    assert _numbers(text_of(boss.get(f"/vault?company={vault['globex']}"))) == {"ACT-002"}
    since = (utcnow() - timedelta(days=10)).date().isoformat()
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    assert _numbers(text_of(boss.get(f"/vault?from={since}"))) == {"ACT-002", "INV-100"}
    assert _numbers(text_of(boss.get(f"/vault?to={until}"))) == {"ACT-001"}
    assert _numbers(text_of(boss.get(f"/vault?from={since}&counterparty=ivan"))) == {"ACT-002"}
    # The page keeps the filter in its form, so a reload shows the same.
    assert 'value="ivan"' in text_of(boss.get("/vault?counterparty=ivan"))


def test_bad_filters_are_explained_not_a_500(app, vault):
    boss = _client(app, vault["users"]["boss"])
    for query in ("from=yesterday", "company=abc", "to=2020-01-01&from=2021-01-01",
                  "page=-4", "page=99999999999", "to=9999-12-31", "number=%25_%25"):
        response = boss.get(f"/vault?{query}")
        assert response.status_code == 200, query
    assert "Enter a date as YYYY-MM-DD." in text_of(boss.get("/vault?from=yesterday"))
    assert _numbers(text_of(boss.get("/vault?number=%25"))) == set()  # % is not a wildcard


def test_the_vault_needs_the_vault_permission(app, vault, client):
    assert client.get("/vault").status_code == 302  # to the login
    with app.app_context():
        from portal.auth.models import RoleGrant

        db.session.execute(db.delete(RoleGrant).where(RoleGrant.section == "vault"))
        db.session.commit()
    emma = _client(app, vault["users"]["emma"])
    assert emma.get("/vault").status_code == 403
    assert 'href="/vault"' not in text_of(emma.get("/"))


def _zip_of(client, document_ids, headers=HX):
    return post_form(client, "/vault/bundles", {"document_id": [str(i) for i in document_ids]},
                     headers=headers)


def _bundle_url(html: str) -> str:
    import re

    return re.search(r'/vault/bundles/[A-Za-z0-9_\-]{22}', html).group(0)


def test_a_zip_of_the_selection_holds_the_sealed_pdfs_named_by_number(app, vault):
    emma = _client(app, vault["users"]["emma"])
    ids = vault["ids"]
    # Otto's document is not Emma's to take: it is left out, silently.
    response = _zip_of(emma, [ids["emma-1"], ids["emma-2"], ids["otto-1"]])
    html = text_of(response)
    assert "The zip with 2 documents is ready." in html
    url = _bundle_url(html)
    download = emma.get(f"{url}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert sorted(archive.namelist()) == ["ACT-001.pdf", "ACT-002.pdf"]
    with app.app_context():
        from portal.documents.models import Document

        for name, document_id in (("ACT-001.pdf", ids["emma-1"]), ("ACT-002.pdf", ids["emma-2"])):
            expected = db.session.get(Document, document_id).final_sha256
            assert hashlib.sha256(archive.read(name)).hexdigest() == expected


def test_only_the_user_who_asked_can_fetch_the_zip(app, vault):
    emma = _client(app, vault["users"]["emma"])
    url = _bundle_url(text_of(_zip_of(emma, [vault["ids"]["emma-1"]])))
    boss = _client(app, vault["users"]["boss"])
    assert boss.get(url).status_code == 404
    assert boss.get(f"{url}/download").status_code == 404
    assert app.test_client().get(f"{url}/download").status_code == 302  # to the login
    assert emma.get("/vault/bundles/not-a-bundle/download").status_code == 404
    assert emma.get(f"{url}/download").status_code == 200


def test_a_selection_outside_the_vault_is_refused_with_a_message(app, vault):
    emma = _client(app, vault["users"]["emma"])
    refused = _zip_of(emma, [vault["ids"]["otto-1"]])
    assert "None of the chosen documents is in your vault." in text_of(refused)
    assert "Choose at least one document." in text_of(_zip_of(emma, ["x", "-1"]))
    assert _zip_of(emma, [], headers={}).status_code == 400


def test_a_zip_expires_after_a_day(app, vault):
    emma = _client(app, vault["users"]["emma"])
    url = _bundle_url(text_of(_zip_of(emma, [vault["ids"]["emma-1"]])))
    with app.app_context():
        assert purge_expired_bundles(utcnow() + timedelta(hours=23)) == 0
        assert purge_expired_bundles(utcnow() + timedelta(days=1, minutes=1)) == 1
    assert emma.get(f"{url}/download").status_code == 404


def test_with_redis_the_zip_is_made_by_a_worker_and_its_progress_is_polled(
        make_app, redis_url, redis_client):
    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        owner = make_user(email="emma@example.com", name="Emma")
        ids = [_signed(owner.id, f"ACT-{n}") for n in range(3)]
    emma = _client(app, "emma@example.com")
    html = text_of(_zip_of(emma, ids))
    assert "Preparing the zip: 0 of 3 documents." in html
    assert 'hx-trigger="every 1s"' in html
    url = _bundle_url(html)
    assert emma.get(f"{url}/download").status_code == 404  # not ready yet

    default = rq.Queue("default", connection=redis_client)
    assert [job.func_name for job in default.jobs] == ["portal.vault.bundles.build_bundle"]
    with app.app_context():
        QuickStopWorker([default], connection=redis_client).work(burst=True)
    status = text_of(emma.get(url, headers=HX))
    assert "The zip with 3 documents is ready." in status
    assert "every 1s" not in status  # polling stops
    archive = zipfile.ZipFile(io.BytesIO(emma.get(f"{url}/download").data))
    assert sorted(archive.namelist()) == ["ACT-0.pdf", "ACT-1.pdf", "ACT-2.pdf"]


def test_a_really_sealed_document_reaches_the_vault(app, admin):
    from tests.progress.support import fill_signatures, load, sent_document, sign

    with app.app_context():
        document_id = sent_document(admin["id"])
        fill_signatures(document_id)
        sign(document_id, "company")
        sign(document_id, "client")
        document = load(document_id)
        assert document.final_sha256
        number, final = document.number, document.final_sha256
    boss = _client(app, admin["email"])
    assert number in text_of(boss.get("/vault"))
    pdf = boss.get(f"/vault/{document_id}/signed.pdf")
    assert hashlib.sha256(pdf.data).hexdigest() == final
    assert "signed.pdf?view=1#page=2" in text_of(boss.get("/vault"))
