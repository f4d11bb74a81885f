"""A company's time zone: chosen on its form (a real IANA name or the portal's default), and
every time on its documents' signing certificates printed in it with the UTC offset."""

import re
import subprocess
from zoneinfo import ZoneInfo

import pytest

from portal.documents.models import Document
from portal.extensions import db
from portal.parties.models import Company
from portal.parties.zones import document_time_zone, zone_names
from portal.storage import read
from tests.helpers import post_form, text_of
from tests.parties.support import company_form
from tests.pdfs.support import light_app
from tests.progress.support import fill_signatures, load, sent_document, sign


def test_the_form_keeps_a_zone_and_refuses_a_bogus_one(app, admin_client):
    form = text_of(admin_client.get("/companies/new"))
    assert '<option value="Europe/Moscow">Europe/Moscow</option>' in form
    assert """<option value="">The portal's default (UTC)</option>""" in form

    assert post_form(admin_client, "/companies/new",
                     company_form(time_zone="Europe/Moscow")).status_code == 302
    with app.app_context():
        company = db.session.execute(db.select(Company)).scalar_one()
        assert company.time_zone == "Europe/Moscow"
    assert "Europe/Moscow" in text_of(admin_client.get(f"/companies/{company.id}"))

    for bogus in ("Mars/Olympus_Mons", "../../etc/passwd", "localtime", "Etc/GMT+3"):
        refused = post_form(admin_client, f"/companies/{company.id}/edit",
                            company_form(time_zone=bogus))
        assert refused.status_code == 200, bogus
        assert "Choose one of the offered time zones." in text_of(refused), bogus
    with app.app_context():
        assert db.session.get(Company, company.id).time_zone == "Europe/Moscow"

    assert post_form(admin_client, f"/companies/{company.id}/edit",
                     company_form(time_zone="")).status_code == 302
    with app.app_context():
        assert db.session.get(Company, company.id).time_zone == ""


def test_a_documents_zone_is_its_companys_else_the_portals(tmp_path):
    app = light_app(tmp_path, BABEL_DEFAULT_TIMEZONE="America/Sao_Paulo")
    with app.app_context():
        def zone_of(chosen: str) -> str:
            return document_time_zone(Document(company=Company(time_zone=chosen)))

        assert zone_of("Asia/Vladivostok") == "Asia/Vladivostok"
        assert zone_of("") == "America/Sao_Paulo"
        assert zone_of("Not/A_Zone") == "America/Sao_Paulo"  # written around the form
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Nowhere/Special"
        assert zone_of("") == "UTC"
        assert "UTC" in zone_names() and "Europe/Lisbon" in zone_names()


@pytest.fixture
def finalized_in(app, admin):
    def finalize(zone: str) -> tuple[str, Document]:
        with app.app_context():
            document_id = sent_document(admin["id"])
            load(document_id).company.time_zone = zone
            db.session.commit()
            fill_signatures(document_id)
            sign(document_id, "company")
            sign(document_id, "client")
            document = load(document_id)
            text = _pdf_text(read(document.final_sha256))
            return text, document.completed_at

    return finalize


def _pdf_text(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()
    return " ".join(text.split())


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Europe/Lisbon"])
def test_the_certificate_prints_times_in_the_companys_zone_with_the_offset(finalized_in,
                                                                           zone):
    text, completed_at = finalized_in(zone)

    local = completed_at.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    shown = f"{local.strftime('%B')} {local.day}, {local.year}, " \
            f"{local.strftime('%I:%M:%S %p').lstrip('0')} (UTC{offset[:3]}:{offset[3:]}, {zone})"
    assert f"Completed {shown}" in text
    assert f"{zone}: every time here is shown in it, with its offset from UTC" in text
    # Every time on the certificate, and no other zone.
    printed = re.findall(r"\(UTC([+-]\d\d:\d\d), ([\w/]+)\)", text)
    assert len(printed) > 5 and set(printed) <= {(f"{offset[:3]}:{offset[3:]}", zone)}
