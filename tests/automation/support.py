"""Documents walked through real signing steps, and readers of the automation logs (app context)."""

from sqlalchemy import select

from portal.automation import services as automation
from portal.automation.models import RuleRun, WebhookDelivery
from portal.documents.models import Document, Party
from portal.extensions import db
from portal.signing import services as signing
from tests.documents.support import META
from tests.progress.support import fill_signatures, load
from tests.signing.support import last_code, set_token


def rule(actor, **values):
    """Create a rule through the service, with a default name."""
    return automation.create_rule(actor, {"name": "Rule", **values})


def sign_as(document_id: int, role: str) -> None:
    """The signer of `role` goes through the ceremony and signs (party.signed is recorded)."""
    party = load(document_id).parties_with_role(role)[0]
    token = set_token(party.id)
    signing.accept_agreement(token, META)
    _party, session = signing.verify_code(token, META, last_code(party.contact))
    fill_signatures(document_id)
    signing.sign(token, META, session)


def decline_as(document_id: int, role: str, reason: str = "Wrong amount") -> None:
    party = load(document_id).parties_with_role(role)[0]
    token = set_token(party.id)
    signing.accept_agreement(token, META)
    _party, session = signing.verify_code(token, META, last_code(party.contact))
    signing.decline(token, META, reason, session)


def runs(rule_id: int | None = None) -> list[RuleRun]:
    db.session.commit()  # a fresh snapshot: jobs wrote through other connections
    query = select(RuleRun).order_by(RuleRun.id)
    if rule_id is not None:
        query = query.where(RuleRun.rule_id == rule_id)
    return list(db.session.scalars(query))


def deliveries() -> list[WebhookDelivery]:
    db.session.commit()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def client_of(document_id: int) -> Party:
    return load(document_id).parties_with_role("client")[0]


def documents() -> list[Document]:
    db.session.commit()
    return list(db.session.scalars(select(Document).order_by(Document.id)))
