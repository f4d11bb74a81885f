"""A pre-signed link (an offer): our signer signs once, every visitor's document carries it."""

from io import BytesIO

from sqlalchemy import select

from portal.audit.service import events_for
from portal.documents.models import Field, Party
from portal.extensions import db
from portal.links import presign as presigning
from portal.links.models import PublicLink, PublicLinkPresign
from portal.links.services import state_of
from portal.sealing.certificate import event_description
from tests.documents.support import TEMPLATE_HTML, make_template, signet_company, user
from tests.helpers import text_of
from tests.links.support import (
    META,
    PRESIGN_LAYOUT,
    SIGNER,
    confirm_code,
    documents,
    enter_details,
    invitation_path,
    link_state,
    post,
    publish_presigned,
    sign_through,
)
from tests.signing.support import HEADERS, data_url, last_code, png_bytes


def _presign(client, app, invitation: str) -> None:
    """The signer's ceremony: agree, confirm the code, draw, take the company's stamp."""
    assert "Read and accept the agreement" in text_of(client.get(invitation, headers=HEADERS))
    sent = post(client, f"{invitation}/consent")
    assert "Enter the code we sent you" in text_of(sent)
    with app.app_context():
        code = last_code(SIGNER)
    confirmed = post(client, f"{invitation}/code", {"code": code})
    assert confirmed.status_code == 302
    signed = post(client, f"{invitation}/sign",
                  {"method": "draw", "drawing": data_url(png_bytes()),
                   "stamp_method": "upload", "stamp_image": (_png_file(), "stamp.png")},
                  content_type="multipart/form-data")
    assert signed.status_code == 200 and "Signed for the link" in text_of(signed)


def _png_file():
    return BytesIO(png_bytes(size=(160, 160)))


def test_the_signer_presigns_once_and_a_visitors_document_completes_with_it(
        app, admin, client, admin_client):
    published = publish_presigned(app, admin["id"])
    assert link_state(app, published.link_id) == "unsigned"
    closed = client.get(published.url, headers=HEADERS)
    assert closed.status_code == 410 and "This link is not ready yet" in text_of(closed)

    invitation = invitation_path(app)
    signer = app.test_client()
    assert "Read and accept the agreement" in text_of(signer.get(invitation, headers=HEADERS))
    post(signer, f"{invitation}/consent")
    wrong = post(signer, f"{invitation}/code", {"code": "000000"})
    assert wrong.status_code == 422 and "Wrong code. 4 attempts left." in text_of(wrong)
    with app.app_context():
        code = last_code(SIGNER)
    assert post(signer, f"{invitation}/code", {"code": code}).status_code == 302
    # Another browser holding the invitation but not the session cannot sign.
    stranger = post(app.test_client(), f"{invitation}/sign",
                    {"method": "type", "typed": "Anna Petrova"})
    assert "signing session in this browser has ended" in text_of(stranger)
    empty = post(signer, f"{invitation}/sign", {"method": "draw", "drawing": ""})
    assert empty.status_code == 422 and link_state(app, published.link_id) == "unsigned"
    signed = post(signer, f"{invitation}/sign",
                  {"method": "draw", "drawing": data_url(png_bytes()),
                   "stamp_method": "upload", "stamp_image": (_png_file(), "stamp.png")},
                  content_type="multipart/form-data")
    assert signed.status_code == 200 and "Signed for the link" in text_of(signed)
    assert link_state(app, published.link_id) == "open"
    assert signer.get(invitation, headers=HEADERS).status_code == 410  # used once
    page = text_of(admin_client.get(f"/links/{published.link_id}"))
    assert "Pre-signed by Anna Petrova" in page and "198.51.100" not in page.split(
        "Pre-signed by")[0]

    enter_details(client, published)
    entered = confirm_code(client, app, published)
    [document] = documents(app)
    assert document.stage == "client_signing"
    sign_through(client, entered.headers["Location"])
    [document] = documents(app)
    assert document.stage == "completed"
    with app.app_context():
        db.session.commit()
        presign = db.session.scalar(select(PublicLinkPresign))
        ours = db.session.scalar(select(Party).where(Party.document_id == document.id,
                                                     Party.role == "company"))
        assert (ours.status, ours.signed_at, ours.token_hash) == ("signed", presign.signed_at,
                                                                   None)
        fields = {field.type: field for field in db.session.scalars(
            select(Field).where(Field.party_id == ours.id))}
        assert fields["signature"].value_sha256 == presign.signature_sha256
        assert fields["stamp"].value_sha256 == presign.stamp_sha256
        assert fields["date"].value
        events = events_for(document.id)
        own = [event for event in events if event.actor_type == "party"
               and event.actor_id == ours.id]
        assert [event.type for event in own] == ["party.consent", "party.code_confirmed",
                                                 "party.presigned", "party.signed"]
        presigned = own[2]
        assert presigned.details["public_link_id"] == published.link_id
        assert presigned.ip == presign.ip
        described = event_description(presigned)
        assert "pre-signed on" in described and "“Studio offer”" in described
        assert own[0].details["agreement_sha256"] == presign.agreement_sha256
        invited = [event.details["role"] for event in events if event.type == "party.invited"]
        assert invited == ["client"]  # our signer is never asked again
        assert {"document.completed", "document.finalized"} <= {event.type for event in events}
    history = text_of(admin_client.get(f"/documents/{document.id}"))
    assert "for the link “Studio offer”" in history


def test_revoking_pauses_the_link_until_the_signer_signs_again_or_the_mode_ends(
        app, admin, client, admin_client):
    published = publish_presigned(app, admin["id"])
    first = invitation_path(app)
    _presign(app.test_client(), app, first)
    assert link_state(app, published.link_id) == "open"
    # Our signer signed these terms: they are not changed under the signature.
    locked = post(admin_client, f"/links/{published.link_id}/values",
                  {"title": "Cheaper", "currency": "RUB", "items-0-name": "Logo",
                   "items-0-quantity": "1", "items-0-price": "1"})
    assert locked.status_code == 409 and "revoke the pre-signature" in text_of(locked)

    revoked = post(admin_client, f"/links/{published.link_id}/presign/revoke")
    assert revoked.status_code == 302 and link_state(app, published.link_id) == "unsigned"
    assert client.get(published.url, headers=HEADERS).status_code == 410

    post(admin_client, f"/links/{published.link_id}/presign")
    second = invitation_path(app)
    assert second != first
    assert app.test_client().get(first, headers=HEADERS).status_code == 410  # withdrawn
    _presign(app.test_client(), app, second)
    assert link_state(app, published.link_id) == "open"

    post(admin_client, f"/links/{published.link_id}/presign/off")
    assert link_state(app, published.link_id) == "open"
    enter_details(client, published)
    confirm_code(client, app, published)
    [document] = documents(app)
    with app.app_context():
        ours = db.session.scalar(select(Party).where(Party.document_id == document.id,
                                                     Party.role == "company"))
        assert ours.status == "waiting"  # signs after the visitor again
        kinds = [event.type for event in events_for(None)
                 if event.type.startswith("link.presign")]
    assert kinds == ["link.presign_requested", "link.presigned", "link.presign_revoked",
                     "link.presign_requested", "link.presigned", "link.presign_revoked"]


def test_a_template_asking_our_signer_for_text_cannot_be_presigned(app, admin, admin_client):
    with app.app_context():
        text = {"role": "company", "type": "text", "page": 1, "x": 0.1, "y": 0.3, "w": 0.3,
                "h": 0.04}
        layout = [*PRESIGN_LAYOUT, text]
        template = make_template(body_html=TEMPLATE_HTML, default_layout=layout)
        link, not_asked = presigning.publish(
            user(admin["id"]), META, template_id=template.id, company_id=signet_company().id,
            presigned=True)
        assert "must sign each document" in not_asked
        assert state_of(db.session.get(PublicLink, link.id)) == "unsigned"
    page = text_of(admin_client.get(f"/links/{link.id}"))
    assert "the link takes no visitors until our signer signs again" in page
