"""Document services: each takes the actor and a RequestMeta, checks the rules and commits.

They never touch the request or current_user, so views and the JSON API share them.
"""

from portal.documents.errors import AlreadySent, DocumentLocked, DocumentRefused
from portal.documents.numbering import check_pattern, next_number
from portal.documents.services.create import create_from_template, create_from_upload
from portal.documents.services.fields import (
    add_field,
    delete_field,
    field_values,
    set_fields,
    update_field,
)
from portal.documents.services.lifecycle import (
    SendRefused,
    delete_draft,
    save_layout_as_template_default,
    send,
    sending_problems,
    set_deadline,
    stop,
    update_draft,
)
from portal.documents.services.parties import (
    may_have_stamp,
    party_label,
    party_values,
    set_parties,
    update_party,
)
from portal.documents.services.queries import documents_page, responsible_choices
from portal.documents.services.responsible import reassign

__all__ = [
    "AlreadySent",
    "DocumentLocked",
    "DocumentRefused",
    "SendRefused",
    "add_field",
    "check_pattern",
    "create_from_template",
    "create_from_upload",
    "delete_draft",
    "delete_field",
    "documents_page",
    "field_values",
    "may_have_stamp",
    "next_number",
    "party_label",
    "party_values",
    "reassign",
    "responsible_choices",
    "save_layout_as_template_default",
    "send",
    "sending_problems",
    "set_deadline",
    "set_fields",
    "set_parties",
    "stop",
    "update_draft",
    "update_field",
    "update_party",
]
