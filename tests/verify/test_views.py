"""The public verify page: every verdict as a page and as JSON, garbage, codes, limits, the CA."""

import html as html_module
import io
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from portal.audit.service import events_for
from portal.extensions import db
from portal.sealing.pades import seal_pdf
from portal.sealing.store import portal_certificates
from portal.verify.registry import find_by_code
from tests.factories import make_document_row
from tests.fixtures import fixture_bytes
from tests.helpers import text_of
from tests.sealing.tsa import TimestampServer
from tests.verify.page_files import (
    CODE,
    NUMBER,
    foreign_pdf,
    issue,
    sealed_pdf,
    signed_many_times,
    with_added_page,
    with_comment,
)

JSON = {"Accept": "application/json"}
VERDICT_TITLES = {
    "authentic": "Authentic and unchanged",
    "modified": "Changed after signing",
    "foreign": "Signed, but not by this portal",
    "unsigned": "Not signed",
    "invalid": "Not a PDF or unreadable",
}


def upload(client, data: bytes, name="document.pdf", code=None, headers=None):
    form = {"file": (io.BytesIO(data), name)}
    if code is not None:
        form["code"] = code
    return client.post("/verify", data=form, content_type="multipart/form-data",
                       headers=headers or {})


def shown(response) -> str:
    """The page with entities decoded: what a reader sees (escaping has its own test)."""
    return html_module.unescape(text_of(response))


def verdict_of(page) -> str:
    """The verdict shown at the top (a response or its HTML)."""
    html = page if isinstance(page, str) else text_of(page)
    match = re.search(r'id="verdict"[^>]*data-verdict="([a-z]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def heading_of(page) -> str:
    html = page if isinstance(page, str) else text_of(page)
    match = re.search(r'<h1 id="verdict-title">([^<]*)</h1>', html)
    return match.group(1) if match else ""


@pytest.fixture
def files(app, admin, tmp_path):
    """One real file per verdict; the sealed one is registered as an issued document."""
    with app.app_context():
        sealed = sealed_pdf()
        issue(admin["id"], sealed)
        return {
            "authentic": sealed,
            "modified": with_added_page(sealed),
            "foreign": foreign_pdf(tmp_path / "elsewhere"),
            "unsigned": fixture_bytes("plain.pdf"),
            "invalid": fixture_bytes("text-file.pdf"),
        }


# --- every verdict --------------------------------------------------------------------------

@pytest.mark.parametrize("verdict", list(VERDICT_TITLES))
def test_every_verdict_shows_as_one_clear_heading(client, files, verdict):
    response = upload(client, files[verdict])

    assert response.status_code == 200
    assert verdict_of(response) == verdict
    assert heading_of(response) == VERDICT_TITLES[verdict]
    # Exactly one verdict on the page, and the file's fingerprint for the record.
    assert text_of(response).count('id="verdict"') == 1
    assert re.search(r"[0-9a-f]{64}", text_of(response))


@pytest.mark.parametrize("verdict", list(VERDICT_TITLES))
def test_every_verdict_comes_as_json_too(client, files, verdict):
    response = upload(client, files[verdict], headers=JSON)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["verdict"] == verdict
    assert len(body["sha256"]) == 64
    assert body["size"] == len(files[verdict])
    if verdict == "invalid":
        assert body["problem"]


def test_an_authentic_file_names_its_document_signers_and_times(client, files):
    html = shown(upload(client, files["authentic"]))

    registry = html[html.index('id="registry"'):html.index('id="signatures"')]
    assert "This exact file was issued by this portal." in registry
    assert NUMBER in registry and "Act of completed work" in registry and "Acme" in registry
    assert "Anna Director" in registry and "Maria Silva" in registry
    # Contacts are masked, times carry their time zone.
    assert "a***a@acme.example" in registry and "anna@acme.example" not in registry
    assert "912345678" not in registry
    assert "March 4, 2025" in registry and "UTC" in registry
    signatures = html[html.index('id="signatures"'):html.index('id="file"')]
    assert "Intact" in signatures and "Valid" in signatures
    assert "Issued by this portal's certificate authority" in signatures
    assert "Covers the whole file" in signatures


def test_the_audit_chain_head_is_shown_and_tampering_shows(app, client, files):
    html = shown(upload(client, files["authentic"]))
    with app.app_context():
        events = events_for(find_by_code(CODE).id)
        head = events[-1].hash
        events[0].details = {"edited": "afterwards"}
        db.session.commit()

    tampered = shown(upload(client, files["authentic"]))

    assert "3 events, every link of the chain holds" in html and head in html
    assert "The chain of audit events is broken" in tampered


def test_authentic_json_carries_the_registry_and_the_seal(client, files):
    body = upload(client, files["authentic"], headers=JSON).get_json()

    assert body["registry"]["number"] == NUMBER
    assert [p["name"] for p in body["registry"]["parties"]] == ["Anna Director", "Maria Silva"]
    assert body["registry"]["parties"][0]["signed_at"].startswith("2025-03-04T10:30:00")
    assert body["seal"]["intact"] and body["seal"]["trusted"] and body["seal"]["covers_whole_file"]


def test_a_timestamp_is_shown_and_trusted_only_from_a_configured_authority(
        make_app, admin, tmp_path):
    with TimestampServer() as tsa:
        roots = tmp_path / "tsa-roots.pem"
        roots.write_bytes(tsa.root.public_bytes(serialization.Encoding.PEM))
        app = make_app(SIGNET_TSA_ROOTS=str(roots))
        with app.app_context():
            stamped = seal_pdf(fixture_bytes("plain.pdf"), portal_certificates(), reason="t",
                               location="t", timestamp_urls=[tsa.url])
            issue(admin["id"], stamped)
    trusting = shown(upload(app.test_client(), stamped))
    app.config["SIGNET_TSA_ROOTS"] = ""
    doubting = shown(upload(app.test_client(), stamped))

    for html in (trusting, doubting):
        assert verdict_of(html) == "authentic" and 'id="timestamp"' in html
    assert "A time-stamping authority this portal trusts confirms" in trusting
    assert "from a time-stamping authority this portal does not trust" in doubting


def test_a_file_without_a_timestamp_has_no_timestamp_section(client, files):
    assert 'id="timestamp"' not in text_of(upload(client, files["authentic"]))


def test_a_page_added_after_signing_is_named(client, files):
    html = text_of(upload(client, files["modified"]))

    assert verdict_of(html) == "modified"
    assert "1 page was added" in html
    assert "This exact file is not in the register" in html
    assert "Not the whole file: it is followed by" in html


def test_a_comment_added_after_signing_is_named(app, client, files):
    commented = with_comment(files["authentic"])

    html = text_of(upload(client, commented))
    body = upload(client, commented, headers=JSON).get_json()

    assert verdict_of(html) == "modified"
    assert body["verdict"] == "modified" and "annotations" in body["changes"]
    assert "comments, drawings or stamps were added" in html


def test_a_foreign_signature_is_not_vouched_for(client, files):
    html = shown(upload(client, files["foreign"]))

    assert "Not from this portal's certificate authority" in html
    assert "Someone Else" in html


def test_many_signatures_are_counted_and_only_the_checked_ones_listed(client, tmp_path):
    html = shown(upload(client, signed_many_times(tmp_path / "elsewhere", 23)))

    assert verdict_of(html) == "foreign"
    assert "The file has 23 signatures; 20 of them were checked" in html
    assert html.count("Signature 1 of 20") == 1 and "Signature 20 of 20" in html


# --- garbage ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,data", [
    ("empty.pdf", b""),
    ("picture.pdf", fixture_bytes("transparent.png")),
    ("truncated.pdf", fixture_bytes("broken-truncated.pdf")),
    ("encrypted.pdf", fixture_bytes("encrypted-empty-password.pdf")),
    ("notes.pdf", fixture_bytes("text-file.pdf")),
    ("zeros.pdf", b"\x00" * 5000),
    ("header-only.pdf", b"%PDF-1.7\n%%EOF\n"),
])
def test_garbage_gets_a_reason_never_an_error_page(client, name, data):
    page = upload(client, data, name=name)
    body = upload(client, data, name=name, headers=JSON).get_json()

    assert page.status_code == 200
    assert verdict_of(page) == "invalid"
    assert body["verdict"] == "invalid" and body["problem"]
    assert body["problem"] in shown(page)


def test_an_encrypted_pdf_says_so(client):
    body = upload(client, fixture_bytes("encrypted-empty-password.pdf"), headers=JSON).get_json()

    assert "encrypt" in body["problem"].lower() or "password" in body["problem"].lower()


def test_an_upload_over_the_limit_gets_the_form_and_a_413(make_app):
    client = make_app(SIGNET_UPLOAD_MAX_BYTES=2048).test_client()

    page = upload(client, b"%PDF-1.7\n" + b"0" * 4000)
    body = upload(client, b"%PDF-1.7\n" + b"0" * 4000, headers=JSON)

    assert page.status_code == 413
    assert "larger than 2 KB" in text_of(page)
    assert 'id="verify-form"' in text_of(page)
    assert body.status_code == 413
    assert body.get_json()["verdict"] == "invalid" and "larger than" in body.get_json()["problem"]


def test_a_request_over_the_server_limit_also_gets_the_friendly_page(make_app):
    client = make_app(MAX_CONTENT_LENGTH=4096, SIGNET_UPLOAD_MAX_BYTES=2048).test_client()

    page = upload(client, b"%PDF-1.7\n" + b"0" * 20_000, code=CODE)
    body = upload(client, b"%PDF-1.7\n" + b"0" * 20_000, headers=JSON)

    assert page.status_code == 413
    assert "larger than 2 KB" in text_of(page) and 'id="verify-form"' in text_of(page)
    assert body.status_code == 413 and body.get_json()["verdict"] == "invalid"


def test_nothing_sent_asks_for_a_file_or_a_code(client):
    page = client.post("/verify", data={"code": "   "})
    # A browser sends an empty file part when no file was chosen.
    empty_part = client.post("/verify", data={"file": (io.BytesIO(b""), "")},
                             content_type="multipart/form-data")
    body = client.post("/verify", headers=JSON)

    for response in (page, empty_part):
        assert response.status_code == 400
        assert "Choose a PDF file or enter the verification code." in text_of(response)
        assert 'id="verify-form"' in text_of(response)
    assert body.status_code == 400 and body.get_json()["verdict"] == "invalid"


def test_a_malformed_request_gets_the_form_or_json_not_a_bare_400(client):
    broken = {"Content-Type": "multipart/form-data; boundary=xyz"}
    page = client.post("/verify", data=b"--xyz\r\nnot a part", headers=broken)
    nul = client.post("/verify", data={"code": "AB\x00CD"}, headers=JSON)

    assert page.status_code == 400 and 'id="verify-form"' in text_of(page)
    assert nul.status_code == 400 and nul.get_json()["verdict"] == "invalid"


# --- codes -----------------------------------------------------------------------------------

def test_the_qr_code_link_prefills_the_code_and_shows_the_document(client, files):
    html = text_of(client.get(f"/verify?code={CODE}"))

    assert f'value="{CODE}"' in html
    summary = html[html.index('id="code-document"'):html.index('id="verify-form"')]
    assert NUMBER in summary and "Act of completed work" in summary and "Acme" in summary
    assert "Anna Director" in summary and "Maria Silva" in summary
    assert "a***a@acme.example" in summary and "anna@" not in summary
    assert "March 5, 2025" in summary and "UTC" in summary
    assert "Upload your copy" in html


@pytest.mark.parametrize("typed", ["abcd-efgh-jkmn", " ABCD EFGH JKMN ", "abcdefghjkmn"])
def test_a_code_typed_loosely_still_finds_the_document(client, files, typed):
    response = client.get("/verify", query_string={"code": typed})

    assert response.status_code == 200
    assert 'id="code-document"' in text_of(response) and NUMBER in text_of(response)


def test_a_code_as_json_describes_the_document_and_asks_for_the_file(client, files):
    body = client.get(f"/verify?code={CODE}", headers=JSON).get_json()

    assert body["code_document"]["number"] == NUMBER
    assert body["needs_file"] is True


def test_a_code_of_an_unfinished_document_shows_nothing_about_it(app, admin, client):
    with app.app_context():
        draft = make_document_row(admin["id"], title="Secret merger terms")
        draft.verification_code = "QQQQ-RRRR-SSSS"
        db.session.commit()

    html = shown(client.get("/verify?code=qqqq-rrrr-ssss"))
    body = client.get("/verify?code=QQQQ-RRRR-SSSS", headers=JSON).get_json()

    assert "not signed by everyone yet" in html
    assert "Secret merger terms" not in html and 'id="code-document"' not in html
    assert body["code_status"] == "not_final" and body["code_document"] is None


def test_json_without_a_file_or_a_code_is_a_json_refusal(client):
    response = client.get("/verify", headers=JSON)

    assert response.status_code == 400
    assert response.get_json()["verdict"] == "invalid" and response.get_json()["problem"]


@pytest.mark.parametrize("typed", ["ZZZZ-ZZZZ-ZZZZ", "x" * 500, "<script>", "' OR 1=1 --"])
def test_an_unknown_code_gets_a_clear_message(client, files, typed):
    response = client.get("/verify", query_string={"code": typed})
    body = client.get("/verify", query_string={"code": typed}, headers=JSON)

    assert response.status_code == 404
    assert "No document has the verification code" in text_of(response)
    assert 'id="verify-form"' in text_of(response) and "<script>" not in text_of(response)
    assert body.status_code == 404 and body.get_json()["code_document"] is None


def test_a_code_posted_without_a_file_shows_the_document(client, files):
    response = client.post("/verify", data={"code": CODE.lower()})

    assert response.status_code == 200
    assert 'id="code-document"' in text_of(response)


def test_a_file_with_the_right_code_is_authentic(client, files):
    response = upload(client, files["authentic"], code=CODE.lower())

    assert verdict_of(response) == "authentic"


def test_a_file_that_is_not_the_coded_document_says_which_one_the_code_names(client, files):
    html = text_of(upload(client, files["unsigned"], code=CODE))

    assert verdict_of(html) == "unsigned"
    assert f"The code you entered belongs to document {NUMBER}" in html


def test_the_issued_file_of_another_document_is_authentic_but_not_the_coded_one(
        app, admin, client, files):
    with app.app_context():
        other = sealed_pdf("three-pages.pdf")
        issue(admin["id"], other, code="WWWW-XXXX-YYYY", number="ACT-2025-00099")

    html = shown(upload(client, other, code=CODE))

    assert verdict_of(html) == "authentic"
    assert "ACT-2025-00099" in html
    assert f"The code you entered belongs to document {NUMBER}" in html


def test_a_hostile_title_and_file_name_are_shown_as_text(app, admin, client):
    title = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    with app.app_context():
        sealed = sealed_pdf()
        issue(admin["id"], sealed, title=title)

    result = text_of(upload(client, sealed, name='<b onmouseover="x">evil</b>.pdf'))
    summary = text_of(client.get(f"/verify?code={CODE}"))

    for html in (result, summary):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in html
    assert "<b onmouseover" not in result and "&lt;b onmouseover=" in result


# --- access, limits, CSRF --------------------------------------------------------------------

def test_the_page_needs_no_login_and_names_the_limit(client):
    response = client.get("/verify")

    assert response.status_code == 200
    assert 'id="verify-form"' in text_of(response)
    assert "Up to 20 MB" in text_of(response)


def test_posting_needs_no_csrf_token_scripts_can_call_it(make_app, files):
    # TESTING does not switch CSRF off here: the exemption is what lets curl -F work.
    app = make_app()
    assert app.config.get("WTF_CSRF_ENABLED", True)
    response = upload(app.test_client(), fixture_bytes("plain.pdf"), headers=JSON)

    assert response.status_code == 200 and response.get_json()["verdict"] == "unsigned"


def test_checks_are_rate_limited_per_address_the_blank_form_is_not(make_app):
    client = make_app(SIGNET_VERIFY_LIMIT="3 per minute").test_client()
    unsigned = fixture_bytes("plain.pdf")

    for _ in range(5):
        assert client.get("/verify").status_code == 200
    assert upload(client, unsigned).status_code == 200
    assert client.get("/verify?code=ZZZZ-ZZZZ-ZZZZ").status_code == 404
    assert upload(client, unsigned, headers=JSON).status_code == 200

    page = upload(client, unsigned)
    body = client.get("/verify?code=ZZZZ-ZZZZ-ZZZZ", headers=JSON)

    assert page.status_code == 429
    assert "Wait" in text_of(page) and 'id="verify-form"' in text_of(page)
    assert page.headers["Retry-After"].isdigit()
    assert body.status_code == 429 and "Wait" in body.get_json()["error"]
    # Another address still has its budget.
    other = client.post("/verify", data={"file": (io.BytesIO(unsigned), "a.pdf")},
                        environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 200


# --- the CA for PDF readers ------------------------------------------------------------------

def test_the_ca_downloads_parse_and_are_the_portals(app, client):
    pem = client.get("/verify/ca.pem")
    der = client.get("/verify/ca.cer")

    with app.app_context():
        current = portal_certificates().ca_cert
    assert pem.status_code == 200 and pem.mimetype == "application/x-pem-file"
    assert "attachment" in pem.headers["Content-Disposition"]
    assert "signet-ca.pem" in pem.headers["Content-Disposition"]
    assert x509.load_pem_x509_certificates(pem.data)[0] == current
    assert der.status_code == 200 and der.mimetype == "application/pkix-cert"
    assert x509.load_der_x509_certificate(der.data) == current
    fingerprint = current.fingerprint(hashes.SHA256()).hex().upper()
    page = text_of(client.get("/verify"))
    assert fingerprint[:2] + ":" + fingerprint[2:4] in page
    assert "Identities & Trusted Certificates" in html_module.unescape(page)


# --- language ---------------------------------------------------------------------------------

def test_the_result_is_translated_with_local_dates(client, files):
    html = text_of(upload(client, files["authentic"], headers={"Accept-Language": "ru"}))

    assert "марта 2025" in html and "UTC" in html
    assert heading_of(html) != VERDICT_TITLES["authentic"]


def test_the_nav_and_footer_lead_to_the_verify_page(admin_client):
    html = text_of(admin_client.get("/"))

    assert html.count('href="/verify"') >= 1  # the footer, on every page
