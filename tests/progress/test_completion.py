"""Completion: the final PDF with every field burned in, sent to every party and the responsible."""

import hashlib
import time
from io import BytesIO

import pytest
from itsdangerous import TimestampSigner
from pypdf import PdfReader

from portal.audit.service import events_for
from portal.sealing.finalize import download_link, finalize_document
from portal.storage import read
from tests.progress.support import (
    COPY,
    fill_signatures,
    load,
    messages_to,
    sent_document,
    sign,
)

NOTE = {"type": "text", "page": 1, "x": 0.1, "y": 0.3, "w": 0.6, "h": 0.05, "label": "Note",
        "required": False}
AGREED = {"type": "checkbox", "page": 1, "x": 0.1, "y": 0.4, "w": 0.04, "h": 0.03,
          "label": "Agreed"}
EVERYONE = ("director@signet.example", "maria@example.com", "sender@example.com")


@pytest.fixture
def sender_id(mail_app):
    from tests.factories import make_user

    with mail_app.app_context():
        return make_user(email="sender@example.com", name="Sam Sender").id


def _complete(document_id: int, note: str = "Works accepted in full") -> None:
    """Fill every field as the signers would, then both sign."""
    fill_signatures(document_id)
    document = load(document_id)
    for field in document.fields:
        if field.type == "text":
            field.value = note
        elif field.type == "checkbox":
            field.value = "1"
    from portal.extensions import db

    db.session.commit()
    sign(document_id, "company")
    sign(document_id, "client")


def _pdf_attachments(email_message) -> list[bytes]:
    return [part.get_content() for part in email_message.iter_attachments()
            if part.get_content_type() == "application/pdf"]


@pytest.fixture
def mail_app(make_app, smtp_server):
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)


def test_the_last_signature_completes_and_everyone_gets_the_final_pdf(mail_app, sender_id,
                                                                      mailbox):
    with mail_app.app_context():
        document_id = sent_document(sender_id, cc=True, extra_fields=[NOTE, AGREED])
        assert messages_to(COPY) == []  # a copy recipient is never asked to sign
        _complete(document_id)
        document = load(document_id)
        assert document.stage == "completed" and document.completed_at is not None
        assert document.final_sha256 and document.final_sha256 != document.source_sha256
        final = read(document.final_sha256)
        source = read(document.source_sha256)
        types = [e.type for e in events_for(document_id)]
        assert types.index("document.completed") < types.index("document.finalized")
        finalized = next(e for e in events_for(document_id) if e.type == "document.finalized")
        assert finalized.details["sha256"] == document.final_sha256
        number = document.number

    reader = PdfReader(BytesIO(final))
    assert len(reader.pages) > len(PdfReader(BytesIO(source)).pages)  # + certificate pages
    assert "Works accepted in full" in reader.pages[0].extract_text()
    # Signature images were burned in: the page now carries image XObjects.
    assert reader.pages[0]["/Resources"]["/XObject"]

    mailbox.wait_for(2 + len(EVERYONE) + 1)  # two invitations, then the final to everyone
    for address in (*EVERYONE, COPY):
        finals = [m for m in mailbox.to(address) if "Signed:" in m["Subject"]]
        assert len(finals) == 1, address
        [attachment] = _pdf_attachments(finals[0])
        assert hashlib.sha256(attachment).hexdigest() == hashlib.sha256(final).hexdigest()
        [part] = list(finals[0].iter_attachments())
        assert part.get_filename() == f"{number}.pdf"


def test_finalize_twice_makes_one_final_and_sends_once(mail_app, sender_id, mailbox):
    with mail_app.app_context():
        document_id = sent_document(sender_id)
        _complete(document_id)
        first = load(document_id).final_sha256
        assert finalize_document(document_id) is None
        assert load(document_id).final_sha256 == first
        assert [e.type for e in events_for(document_id)].count("document.finalized") == 1
        assert len([m for m in messages_to("maria@example.com")
                    if m.kind == "document-completed"]) == 1


def test_a_large_final_pdf_goes_as_a_link_that_downloads(make_app, smtp_server, mailbox):
    from tests.factories import make_user

    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                   SIGNET_ATTACH_MAX_BYTES=1000)
    with app.app_context():
        sender = make_user(email="sender@example.com", name="Sam Sender").id
        document_id = sent_document(sender)
        _complete(document_id)
        document = load(document_id)
        final_sha256, number = document.final_sha256, document.number
    mailbox.wait_for(5)
    finals = [m for m in mailbox.messages if "Signed:" in m["message"]["Subject"]]
    assert sorted(address for m in finals for address in m["to"]) == sorted(EVERYONE)
    email = finals[0]["message"]
    assert _pdf_attachments(email) == []
    text = email.get_body(("plain",)).get_content()
    link = next(word for word in text.split() if "/d/" in word)
    assert "30 days" in text

    client = app.test_client()
    response = client.get(link.removeprefix("http://localhost"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == final_sha256
    assert f"{number}.pdf" in response.headers["Content-Disposition"]

    forged = link.removeprefix("http://localhost")[:-3] + "xyz"
    assert client.get(forged).status_code == 404
    assert client.get("/d/not-a-link").status_code == 404


def test_an_old_download_link_says_it_expired(app, admin, monkeypatch):
    with app.app_context():
        document_id = sent_document(admin["id"])
        _complete(document_id)
        real = TimestampSigner.get_timestamp
        monkeypatch.setattr(TimestampSigner, "get_timestamp",
                            lambda self: int(time.time()) - 31 * 24 * 3600)
        link = download_link(load(document_id))
        monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    response = app.test_client().get(link.removeprefix("http://localhost"))
    assert response.status_code == 410
    assert "older than 30 days" in response.get_data(as_text=True)
