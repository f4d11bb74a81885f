"""Creating drafts from uploads and from templates: PDF kept, numbered, default parties."""

from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.audit.service import events_for
from portal.auth.models import User
from portal.documents import services
from portal.documents.errors import DocumentRefused
from portal.documents.models import Document
from portal.errors import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.parties.models import Counterparty
from portal.pdfs import PdfRejected
from portal.storage import read
from portal.storage.models import Blob
from tests.documents.support import META, make_template, signet_company, upload_draft, user
from tests.factories import make_counterparty
from tests.fixtures import fixture_bytes

# --- uploads -----------------------------------------------------------------------------------

def test_an_upload_becomes_a_numbered_draft_with_default_parties(app, admin):
    with app.app_context():
        company = signet_company()
        client = make_counterparty(name="ООО «Вектор»", kind="company",
                                   email="info@vektor.example", representative_name="Иван Петров",
                                   representative_position="Директор", tax_id="7701234567")
        document = upload_draft(admin["id"], fixture="three-pages.pdf", company=company,
                                counterparty=client)
        assert document.stage == "draft" and document.page_count == 3
        assert document.number.startswith("DOC-") and document.number.endswith("-00001")
        assert read(document.source_sha256) == fixture_bytes("three-pages.pdf")
        assert document.source_filename == "three-pages.pdf"
        assert document.deadline_at is not None
        assert document.counterparty_id == client.id and document.responsible_id == admin["id"]
        ours, theirs = document.parties
        assert (ours.role, ours.order, ours.name, ours.organization, ours.email, ours.channel) == (
            "company", 2, "Anna Petrova", "Signet Demo LLC", "director@signet.example", "email")
        assert (theirs.role, theirs.order, theirs.kind, theirs.name, theirs.organization) == (
            "client", 3, "company", "Иван Петров", "ООО «Вектор»")
        assert theirs.stamp_required is True and theirs.requisites["tax_id"] == "7701234567"
        [event] = events_for(document.id)
        assert event.type == "document.created"
        assert (event.ip, event.user_agent) == (META.ip, META.user_agent)
        assert event.actor_label == "Ada Admin <admin@example.com>"
        assert event.details["sha256"] == document.source_sha256


def test_a_person_client_is_never_asked_for_a_stamp_and_sms_is_chosen_without_email(app, admin):
    with app.app_context():
        client = make_counterparty(name="Maria Silva", email="", phone="+351912345678")
        document = upload_draft(admin["id"], counterparty=client)
        party = document.parties_with_role("client")[0]
        assert (party.kind, party.stamp_required, party.channel) == ("person", False, "sms")


def test_a_new_client_typed_in_becomes_the_client_party_and_joins_the_directory(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"], client={
            "kind": "person", "name": " Maria   Silva ", "email": "Maria@Example.COM"})
        party = document.parties_with_role("client")[0]
        entry = db.session.get(Counterparty, document.counterparty_id)
        assert (party.name, party.email, party.counterparty_id) == (
            "Maria Silva", "maria@example.com", entry.id)
        assert (entry.name, entry.email, entry.kind, entry.created_by_id) == (
            "Maria Silva", "maria@example.com", "person", admin["id"])
        assert "maria silva" in entry.search_text


def test_a_typed_client_already_in_the_directory_is_matched_not_copied(app, admin):
    with app.app_context():
        known = make_counterparty(name="Maria Silva", email="", phone="+351912345678")
        document = upload_draft(admin["id"], client={
            "kind": "person", "name": "M. Silva", "phone": "+351 912 345 678"})
        assert document.counterparty_id == known.id
        assert document.parties_with_role("client")[0].name == "M. Silva"  # as typed
        assert db.session.execute(select(func.count(Counterparty.id))).scalar() == 1


def test_a_sender_who_may_not_add_contacts_leaves_the_directory_alone(app):
    with app.app_context():
        sender = User(email="clerk@example.com", name="Clerk")  # no role: no contacts
        db.session.add(sender)
        db.session.commit()
        document = upload_draft(sender.id, client={
            "kind": "person", "name": "Maria Silva", "email": "maria@example.com"})
        assert document.counterparty_id is None
        assert db.session.execute(select(func.count(Counterparty.id))).scalar() == 0


def test_a_new_client_without_contact_or_name_is_refused(app, admin):
    with app.app_context(), pytest.raises(DocumentRefused) as refused:
        upload_draft(admin["id"], client={"kind": "person", "name": "", "email": "nope"})
    assert set(refused.value.errors) >= {"client_name", "client_email"}


@pytest.mark.parametrize("fixture, words", [
    ("broken-truncated.pdf", "damaged"),
    ("encrypted-empty-password.pdf", "password"),
    ("text-file.pdf", "not a PDF"),
])
def test_a_bad_upload_is_refused_and_nothing_is_stored(app, admin, fixture, words):
    with app.app_context():
        with pytest.raises(PdfRejected) as refused:
            upload_draft(admin["id"], fixture=fixture)
        assert words.lower() in refused.value.message.lower()
        assert db.session.execute(db.select(Document)).first() is None
        assert db.session.execute(db.select(Blob)).first() is None


def test_an_oversize_upload_is_refused(make_app, admin):
    app = make_app(SIGNET_UPLOAD_MAX_BYTES=1024)
    with app.app_context():
        with pytest.raises(PdfRejected) as refused:
            upload_draft(admin["id"], fixture="three-pages.pdf")
        assert "larger than" in refused.value.message
        assert db.session.execute(db.select(Document)).first() is None


def test_an_image_upload_becomes_a_one_page_pdf(app, admin):
    with app.app_context():
        document = upload_draft(admin["id"], fixture="transparent.png")
        assert document.page_count == 1
        assert len(PdfReader_of(document.source_sha256).pages) == 1


def PdfReader_of(sha256):  # noqa: N802 (reads like the class it wraps)
    import io

    return PdfReader(io.BytesIO(read(sha256)))


def test_an_unknown_company_or_counterparty_is_refused(app, admin):
    with app.app_context():
        with pytest.raises(DocumentRefused) as refused:
            services.create_from_upload(user(admin["id"]), META, company_id=999,
                                        data=fixture_bytes("plain.pdf"), filename="a.pdf",
                                        title="", counterparty_id=424242)
        assert set(refused.value.errors) == {"company_id", "counterparty_id", "title"}


# --- templates ---------------------------------------------------------------------------------

def test_a_template_renders_with_the_items_and_places_its_default_fields(app, admin):
    with app.app_context():
        company = signet_company()
        client = make_counterparty(name="ООО «Вектор»", kind="company",
                                   email="info@vektor.example", representative_name="Иван")
        template = make_template()
        document = services.create_from_template(
            user(admin["id"]), META, company_id=company.id, template_id=template.id,
            counterparty_id=client.id, place="Москва",
            items=[{"name": "Разработка", "quantity": "2", "unit": "ч", "price": "1500.50"}],
            vat_rate=Decimal(20), currency="rub")
        assert document.number.startswith("ACT-") and document.title == "Акт выполненных работ"
        assert document.language == "ru" and document.template_id == template.id
        text = PdfReader_of(document.source_sha256).pages[0].extract_text()
        assert document.number in text and "ООО «Вектор»" in text and "Разработка" in text
        assert "3601.20" in text  # 2 x 1500.50 + 20 % VAT
        placed = {(field.party.role if field.party else None, field.type)
                  for field in document.fields}
        # The approver's field has no party here; the date is the company's.
        assert placed == {("company", "signature"), ("client", "signature"),
                          ("client", "stamp"), ("company", "date")}
        assert document.variables["items"][0]["price"] == "1500.50"
        assert events_for(document.id)[0].details["skipped_fields"] == 1


def test_a_person_client_gets_no_stamp_field_from_the_layout(app, admin):
    with app.app_context():
        company, template = signet_company(), make_template()
        document = services.create_from_template(
            user(admin["id"]), META, company_id=company.id, template_id=template.id,
            client={"kind": "person", "name": "Maria Silva", "email": "maria@example.com"},
            title="Act for Maria", language="en")
        assert "stamp" not in {field.type for field in document.fields}
        assert document.title == "Act for Maria" and document.language == "en"


def test_bad_template_input_is_refused_before_anything_is_numbered(app, admin):
    with app.app_context():
        company, template = signet_company(), make_template(active=False)
        with pytest.raises(DocumentRefused) as refused:
            services.create_from_template(
                user(admin["id"]), META, company_id=company.id, template_id=template.id,
                counterparty_id=make_counterparty().id, currency="roubles", vat_rate="120",
                items=[{"name": "", "quantity": "0", "price": "x"}])
        assert set(refused.value.errors) == {
            "template_id", "title", "currency", "vat_rate", "items.0.name", "items.0.quantity",
            "items.0.price"}
        template.active = True
        db.session.commit()
        document = services.create_from_template(
            user(admin["id"]), META, company_id=company.id, template_id=template.id,
            counterparty_id=make_counterparty(email="x@example.com", name="X").id)
        assert document.number.endswith("-00001")


def test_the_default_deadline_comes_from_the_settings(make_app, admin):
    app = make_app(SIGNET_DEADLINE_DAYS=3)
    with app.app_context():
        document = upload_draft(admin["id"])
        deadline = document.deadline_at.replace(tzinfo=None) if document.deadline_at.tzinfo \
            is None else document.deadline_at
        expected = utcnow() + timedelta(days=3)
        if deadline.tzinfo is None:
            expected = expected.replace(tzinfo=None)
        assert abs(deadline - expected) < timedelta(minutes=1)


def test_a_shipped_template_is_ready_to_send_without_placing(app, admin):
    from portal.doctemplates.builtin import install_builtin_templates

    with app.app_context():
        act = next(t for t in install_builtin_templates()
                   if t.kind == "act" and t.language == "ru")
        client = make_counterparty(name="ООО «Вектор»", kind="company",
                                   email="info@vektor.example", representative_name="Иван")
        document = services.create_from_template(
            user(admin["id"]), META, company_id=signet_company().id, template_id=act.id,
            counterparty_id=client.id, place="Москва",
            items=[{"name": "Консультация", "quantity": 1, "unit": "ч", "price": 5000}],
            vat_rate=Decimal(20))
        placed = {(field.party.role, field.type) for field in document.fields if field.party}
        assert {("company", "signature"), ("client", "signature")} <= placed
        assert services.sending_problems(document) == []
        assert "ООО «Вектор»" in PdfReader_of(document.source_sha256).pages[0].extract_text()


def test_a_documents_fields_become_the_template_default_layout(app, admin):
    with app.app_context():
        company, template = signet_company(), make_template(default_layout=[])
        actor = user(admin["id"])

        def create():
            return services.create_from_template(
                actor, META, company_id=company.id, template_id=template.id,
                counterparty_id=make_counterparty(name="X", email=f"x{id(object())}@e.com").id)

        first = create()
        assert first.fields == []
        ours, theirs = first.parties
        services.set_fields(actor, META, first.id, [
            {"party_id": ours.id, "type": "signature", "page": 1, "x": 0.1, "y": 0.7,
             "w": 0.3, "h": 0.05, "label": "Director"},
            {"party_id": theirs.id, "type": "signature", "page": 1, "x": 0.6, "y": 0.7,
             "w": 0.3, "h": 0.05},
            {"party_id": None, "type": "date", "page": 1, "x": 0.6, "y": 0.1, "w": 0.2,
             "h": 0.03},
        ])
        assert services.save_layout_as_template_default(actor, first.id) == 2
        second = create()
        assert sorted((f.party.role, f.x, f.y, f.label) for f in second.fields) == [
            ("client", 0.6, 0.7, ""), ("company", 0.1, 0.7, "Director")]


def test_only_template_editors_may_save_a_layout(app, admin, employee):
    with app.app_context():
        document = services.create_from_template(
            user(admin["id"]), META, company_id=signet_company().id,
            template_id=make_template().id, counterparty_id=make_counterparty().id)
        with pytest.raises(DomainError) as refused:
            services.save_layout_as_template_default(user(employee["id"]), document.id)
        assert refused.value.status == 403
        uploaded = upload_draft(admin["id"], company=document.company)
        with pytest.raises(DomainError) as refused:
            services.save_layout_as_template_default(user(admin["id"]), uploaded.id)
        assert "uploaded" in refused.value.message
