"""A signer's page and every message to them speak the document's language, or the one the
signer picked on the page; never whatever the browser happened to prefer."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.service import events_for
from portal.delivery.models import Message
from portal.documents.models import Document, Party
from portal.extensions import db
from tests.helpers import csrf_token, text_of
from tests.signing.support import HEADERS, post, sent_document

PORTUGUESE_BROWSER = {**HEADERS, "Accept-Language": "pt-BR,pt;q=0.9"}


@pytest.fixture
def signing(app, admin):
    with app.app_context():
        signing = sent_document(admin["id"], extra_fields=False)
        db.session.get(Document, signing.document_id).language = "ru"
        db.session.commit()
        return signing


def _code_subjects(app):
    with app.app_context():
        db.session.commit()
        return list(db.session.scalars(
            select(Message.subject).where(Message.kind == "signing_code").order_by(Message.id)))


def test_the_page_and_the_code_follow_the_document_not_the_browser(app, signing):
    client = app.test_client()
    page = client.get(signing.url, headers=PORTUGUESE_BROWSER)
    assert 'lang="ru"' in text_of(page)
    post(client, f"{signing.url}/consent")
    assert _code_subjects(app)[-1].startswith("Ваш код для подписания")


def test_a_language_picked_on_the_page_sticks_to_the_signer(app, signing):
    client = app.test_client()
    client.get(signing.url, headers=HEADERS)
    post(client, f"{signing.url}/consent")
    picked = client.post(f"{signing.url}/language", headers=HEADERS,
                         data={"locale": "pt", "csrf_token": csrf_token(client)})
    assert picked.status_code == 302 and picked.headers["Location"].endswith(signing.url)
    page = text_of(client.get(signing.url, headers=HEADERS))
    assert 'lang="pt"' in page
    with app.app_context():
        party = db.session.get(Party, signing.party_id)
        assert party.language == "pt" and party.speaks == "pt"
        party.code_sent_at = party.code_sent_at - timedelta(minutes=2)
        db.session.commit()
    post(client, f"{signing.url}/code/send")
    assert _code_subjects(app)[-1].startswith("O seu código de confirmação")
    # Another browser on the same link sees the signer's pick too.
    assert 'lang="pt"' in text_of(app.test_client().get(signing.url, headers=HEADERS))


def test_an_unknown_language_changes_nothing(app, signing):
    client = app.test_client()
    client.get(signing.url, headers=HEADERS)
    refused = client.post(f"{signing.url}/language", headers=HEADERS,
                          data={"locale": "xx", "csrf_token": csrf_token(client)})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Party, signing.party_id).language is None


def test_the_picker_on_a_signing_page_posts_to_the_link(app, signing):
    page = text_of(app.test_client().get(signing.url, headers=HEADERS))
    assert f'action="{signing.url}/language"' in page


def test_the_built_in_agreement_is_in_the_signers_language(app, signing):
    client = app.test_client()
    assert "Продолжая, я соглашаюсь" in text_of(client.get(signing.url, headers=HEADERS))
    client.post(f"{signing.url}/language", headers=HEADERS,
                data={"locale": "pt", "csrf_token": csrf_token(client)})
    assert "Ao continuar, aceito assinar" in text_of(client.get(signing.url, headers=HEADERS))
    post(client, f"{signing.url}/consent")
    with app.app_context():
        [consent] = [event for event in events_for(signing.document_id)
                     if event.type == "party.consent"]
        assert consent.details["language"] == "pt"
