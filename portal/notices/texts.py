"""The messages about a document's signing, each queued in the caller's transaction.

One text per occasion: the sweep's reminders and "Remind now" share `queue_reminder`; the
signing link is handed to the outbox as a secret, so the stored copy never shows it.
"""

from flask_babel import gettext as _

from portal.delivery.services import queue_email, queue_sms
from portal.documents.display import document_url, format_moment
from portal.documents.links import signing_link
from portal.documents.models import Document, Party
from portal.extensions import db


def queue_invitation(document: Document, party: Party, raw_token: str):
    """The invitation message for the party's channel (no flush, no commit)."""
    link = signing_link(raw_token)
    company = document.company.display_name
    approving = party.role == "approver"
    if party.channel == "sms":
        text = (_("%(company)s asks you to approve document %(number)s: %(link)s",
                  company=company, number=document.number, link=link)
                if approving else
                _("%(company)s asks you to sign document %(number)s: %(link)s",
                  company=company, number=document.number, link=link))
        return queue_sms(party.phone, text, "signing-invitation", secrets=[raw_token],
                         document_id=document.id)
    subject = (_("Please approve %(number)s: %(title)s", number=document.number,
                 title=document.title)
               if approving else
               _("Please sign %(number)s: %(title)s", number=document.number,
                 title=document.title))
    return queue_email(
        party.email, subject, "invitation", "signing-invitation", secrets=[raw_token],
        document_id=document.id, link=link, document=document, company=document.company,
        party=party,
        sender=document.responsible, deadline=format_moment(document.deadline_at),
        approving=approving, action_url=link,
        action_label=_("Review and approve") if approving else _("Review and sign"),
    )


def queue_reminder(document: Document, party: Party, raw_token: str):
    """The reminder for the party's channel, with its working link (no flush, no commit)."""
    link = signing_link(raw_token)
    company = document.company.display_name
    approving = party.role == "approver"
    if party.channel == "sms":
        text = (_("Reminder: %(company)s is waiting for your approval of document %(number)s: "
                  "%(link)s", company=company, number=document.number, link=link)
                if approving else
                _("Reminder: %(company)s is waiting for your signature on document %(number)s: "
                  "%(link)s", company=company, number=document.number, link=link))
        return queue_sms(party.phone, text, "signing-reminder", secrets=[raw_token],
                         document_id=document.id)
    subject = (_("Reminder: please approve %(number)s: %(title)s", number=document.number,
                 title=document.title)
               if approving else
               _("Reminder: please sign %(number)s: %(title)s", number=document.number,
                 title=document.title))
    lines = [_("%(company)s is still waiting for you to approve %(number)s %(title)s.",
               company=company, number=document.number, title=document.title)
             if approving else
             _("%(company)s is still waiting for your signature on %(number)s %(title)s.",
               company=company, number=document.number, title=document.title)]
    if document.deadline_at is not None:
        lines.append(_("The link works until %(deadline)s.",
                       deadline=format_moment(document.deadline_at)))
    return queue_email(
        party.email, subject, "notice", "signing-reminder", secrets=[raw_token],
        document_id=document.id, heading=subject, lines=lines,
        action_url=link,
        action_label=_("Review and approve") if approving else _("Review and sign"))


def who(party: Party) -> str:
    return f"{party.name} ({party.organization})" if party.organization else party.name


def queue_declined_email(address: str, document: Document, party: Party, reason: str,
                         employee: bool) -> int:
    message = queue_email(
        address,
        _("Declined: %(number)s %(title)s", number=document.number, title=document.title),
        "declined", "signing-declined",
        document=document, company=document.company, decliner=who(party), reason=reason,
        employee=employee,
        action_url=document_url(document) if employee else None,
        action_label=_("Open the document") if employee else None,
    )
    db.session.flush()
    return message.id


def queue_declined_to_party(party: Party, document: Document, decliner: Party,
                            reason: str) -> int:
    if party.channel == "sms":
        message = queue_sms(party.phone, _(
            "Document %(number)s was declined by %(name)s. There is nothing more to sign.",
            number=document.number, name=who(decliner)), "signing-declined")
        db.session.flush()
        return message.id
    return queue_declined_email(party.email, document, decliner, reason, False)


def queue_stop_notice(document: Document, party: Party) -> int:
    if party.channel == "sms":
        message = queue_sms(party.phone, _(
            "Document %(number)s from %(company)s was stopped. There is nothing to sign.",
            number=document.number, company=document.company.display_name),
            "signing-stopped")
    else:
        message = queue_email(
            party.email,
            _("Stopped: %(number)s %(title)s", number=document.number, title=document.title),
            "stopped", "signing-stopped",
            document=document, company=document.company, party=party,
            reason=document.stop_reason)
    db.session.flush()
    return message.id


def queue_expired_notice(address: str, document: Document) -> int:
    message = queue_email(
        address,
        _("Expired: %(number)s %(title)s", number=document.number, title=document.title),
        "notice", "document-expired",
        heading=_("The deadline passed before everyone signed"),
        lines=[_("%(number)s %(title)s was not signed by %(deadline)s and has expired.",
                 number=document.number, title=document.title,
                 deadline=format_moment(document.deadline_at)),
               _("Create a new document to try again.")],
        action_url=document_url(document), action_label=_("Open the document"))
    db.session.flush()
    return message.id
