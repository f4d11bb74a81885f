"""The sealed final PDF never carries active content, whatever path its source came from.

Uploads are cleaned when they are kept, templates when they are rendered, and the final
assembly cleans again: a source kept before cleaning existed is sealed clean as well.
"""

from decimal import Decimal
from io import BytesIO

import pikepdf
import pytest

from portal.audit.chain import TRAIL_FILENAME
from portal.documents import services
from portal.documents.models import Document
from portal.extensions import db
from portal.pdfs import active
from portal.storage import read, store
from tests.documents.support import META, make_template, ready_draft, signature_for, user
from tests.factories import make_counterparty
from tests.hostile import active_pdfs
from tests.hostile.checks import active_keys_in
from tests.progress.support import fill_signatures, load, sign

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HOSTILE_TEMPLATE = """
<h1>{{ document.title }} {{ document.number }}</h1>
<p><a href="javascript:app.alert('template')">pay here</a> ·
   <a href="file:///C:/Windows/System32/cmd.exe">open</a> ·
   <a href="https://example.com/terms">terms</a></p>
<p>{{ anchor("company.signature") }} {{ anchor("client.signature") }}</p>
"""


def _sealed(document_id: int) -> bytes:
    fill_signatures(document_id)
    sign(document_id, "company")
    sign(document_id, "client")
    document = load(document_id)
    assert document.final_sha256, document.seal_error
    return read(document.final_sha256)


def _send(admin_id: int, document: Document) -> int:
    if not document.fields:
        company, client = (document.parties_with_role(role)[0] for role in ("company", "client"))
        services.set_fields(user(admin_id), META, document.id,
                            [signature_for(company, x=0.1), signature_for(client, x=0.6)])
    services.send(user(admin_id), META, document.id)
    return document.id


def _uploaded_with_everything(admin_id: int) -> int:
    return _send(admin_id, ready_draft(admin_id, data=active_pdfs.everything()))


def _uploaded_image(admin_id: int) -> int:
    return _send(admin_id, ready_draft(admin_id, fixture="transparent.png"))


def _from_a_hostile_template(admin_id: int) -> int:
    template = make_template(body_html=HOSTILE_TEMPLATE, default_layout=[], language="en")
    document = services.create_from_template(
        user(admin_id), META, company_id=ready_draft(admin_id).company_id,
        template_id=template.id, counterparty_id=make_counterparty(email="c@example.com").id,
        items=[{"name": "Work", "quantity": "1", "unit": "h", "price": "10"}],
        vat_rate=Decimal(0), currency="eur")
    return _send(admin_id, document)


def _source_kept_before_cleaning(admin_id: int) -> int:
    """A document whose stored source still carries everything (kept by an older version)."""
    document = ready_draft(admin_id, fixture="plain.pdf")
    raw = active_pdfs.everything()
    document.source_sha256 = store(raw, "application/pdf").sha256
    db.session.commit()
    return _send(admin_id, document)


@pytest.mark.parametrize("make_document", [
    _uploaded_with_everything, _uploaded_image, _from_a_hostile_template,
    _source_kept_before_cleaning,
], ids=["upload", "image", "template", "old-source"])
def test_a_final_pdf_carries_no_active_content(app, admin, make_document):
    with app.app_context():
        final = _sealed(make_document(admin["id"]))
    others = _without_our_trail(final)
    assert active_keys_in(others) == set()
    assert active.find_active_content(others) == ()


def _without_our_trail(final: bytes) -> bytes:
    """The final PDF less the one file it may carry, its own audit trail (PDF/A-3)."""
    with pikepdf.open(BytesIO(final)) as pdf:
        assert list(pdf.attachments) == [TRAIL_FILENAME]
        assert [str(spec.UF) for spec in pdf.Root.AF] == [TRAIL_FILENAME]
        del pdf.Root.AF
        del pdf.Root.Names.EmbeddedFiles
        out = BytesIO()
        pdf.save(out)
        return out.getvalue()


def test_the_template_keeps_its_ordinary_link(app, admin):
    with app.app_context():
        final = _sealed(_from_a_hostile_template(admin["id"]))
    with pikepdf.open(BytesIO(final)) as pdf:
        links = [str(annotation.A.URI) for annotation in pdf.pages[0].get("/Annots", [])
                 if "/A" in annotation]
    assert links == ["https://example.com/terms"]

