"""On a phone, staff reading the outbox see a delivered invitation with its link masked."""

import re

import pytest

from portal.delivery.redaction import MASK
from tests.helpers import browser_log_in, page_width
from tests.progress.support import sent_document

pytestmark = pytest.mark.browser
LINK = re.compile(r"/s/([A-Za-z0-9_\-]{20,})")


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)


def test_the_outbox_masks_a_delivered_link_on_a_phone(app, admin, mailbox, phone):
    with app.app_context():
        sent_document(admin["id"])
    mailbox.wait_for(1)
    [mail] = mailbox.to("director@signet.example")
    token = LINK.search(mail.get_body(("plain",)).get_content()).group(1)

    browser_log_in(phone, admin["email"], admin["password"])
    phone.goto("/outbox")
    assert token not in phone.content()
    phone.locator("#outbox-list a[href*='/outbox/']").first.click()
    phone.wait_for_url("**/outbox/*")
    body = phone.content()
    assert MASK in body and token not in body
    assert page_width(phone) <= 390
    assert phone.console_errors == []
