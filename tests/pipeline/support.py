"""Documents at every stage for the board tests (call in an app context)."""

import re
from datetime import timedelta

from portal.documents import services
from portal.documents.models import Document
from portal.extensions import db
from portal.models_base import utcnow
from portal.workflow.order import expire_overdue
from tests.documents.support import META, ready_draft, user
from tests.progress.support import decline, sent_document, sign

COUNT = re.compile(r'id="count-(\w+)"[^>]*>(\d+)<')


def counts_in(html: str) -> dict[str, int]:
    return {stage: int(count) for stage, count in COUNT.findall(html)}


def card_ids(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'data-card-id="(\d+)"', html)]


def draft(user_id: int, **kwargs) -> int:
    return ready_draft(user_id, **kwargs).id


def at_client_signing(user_id: int) -> int:
    document_id = sent_document(user_id)
    sign(document_id, "company")
    return document_id


def stopped(user_id: int) -> int:
    document_id = sent_document(user_id)
    services.stop(user(user_id), META, document_id, "Wrong price")
    return document_id


def declined(user_id: int) -> int:
    document_id = sent_document(user_id)
    decline(document_id, "company", "No")
    return document_id


def expired(user_id: int) -> int:
    document_id = sent_document(user_id)
    db.session.execute(db.update(Document).where(Document.id == document_id)
                       .values(deadline_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    expire_overdue()
    return document_id
