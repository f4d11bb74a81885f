"""The OpenAPI 3.1 description of /api/v1, written out by hand as a dict.

A test compares its paths and methods with the routes Flask actually serves, both ways.
"""

from datetime import datetime

from flask_babel import force_locale

from portal.audit.catalogue import AUTOMATION_DEPTH, PRIVATE_DETAILS, EventType, PayloadField
from portal.audit.catalogue import webhook_types as webhook_event_types
from portal.bulk.models import BATCH_STATUSES, ROW_STATUSES
from portal.bulk.rows import TARGET_KEYS, VARIABLE_CLEANERS
from portal.documents.models import CHANNELS, FIELD_TYPES, PARTY_ROLES, PARTY_STATUSES, STAGES
from portal.pdfs.active import KINDS as ACTIVE_CONTENT_KINDS

API_VERSION = "1.0.0"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(ref("Error"), description)


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
ID = {"type": "integer", "minimum": 1}
DECIMAL = {
    "type": ["number", "string"],
    "description": "A number; send a string such as \"1234.50\" to keep it exact.",
}

DOCUMENT_ID = {"name": "document_id", "in": "path", "required": True, "schema": ID}


def _page_params(extra: list | None = None) -> list:
    return (extra or []) + [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "per_page", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
    ]


def _page_of(item: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "pages", "total"],
        "properties": {
            "items": {"type": "array", "items": ref(item)},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def _list_of(item: str) -> dict:
    return {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref(item)}}}


SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "examples": ["bad_request", "invalid_json", "unauthorized", "forbidden",
                                     "not_found", "method_not_allowed", "conflict", "too_large",
                                     "invalid", "rate_limited", "server_error"],
                    },
                    "message": {"type": "string", "description": "Readable, in the request's "
                                "language (Accept-Language)."},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Per-field messages, e.g. {\"items[0].price\": \"...\"}.",
                    },
                },
            }
        },
    },
    "Links": {
        "type": "object",
        "properties": {
            "self": STRING,
            "status": STRING,
            "source_pdf": NULLABLE_STRING,
            "final_pdf": NULLABLE_STRING,
        },
    },
    "DocumentSummary": {
        "type": "object",
        "required": ["id", "number", "title", "stage"],
        "properties": {
            "id": ID,
            "number": {"type": "string", "examples": ["ACT-2026-00001"]},
            "title": STRING,
            "stage": {"enum": list(STAGES)},
            "company": {
                "type": "object",
                "properties": {"id": ID, "name": NULLABLE_STRING},
            },
            "counterparty_id": {"type": ["integer", "null"]},
            "responsible_id": ID,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "sent_at": TIMESTAMP,
            "completed_at": TIMESTAMP,
            "deadline": TIMESTAMP,
            "links": ref("Links"),
        },
    },
    "Document": {
        "allOf": [
            ref("DocumentSummary"),
            {
                "type": "object",
                "properties": {
                    "language": STRING,
                    "template_id": {"type": ["integer", "null"]},
                    "responsible": {
                        "type": ["object", "null"],
                        "properties": {"id": ID, "name": STRING, "email": STRING},
                    },
                    "stage_changed_at": TIMESTAMP,
                    "stopped_at": TIMESTAMP,
                    "stop_reason": STRING,
                    "verification_code": {"type": "string",
                                          "description": "Printed on the final PDF; "
                                                         "checks it on the verify page."},
                    "source_filename": STRING,
                    "source_sha256": NULLABLE_STRING,
                    "final_sha256": NULLABLE_STRING,
                    "page_count": {"type": "integer"},
                    "removed_content": {
                        "type": "array",
                        "description": "What was cut out of an uploaded PDF before it was "
                                       "kept: scripts, actions, attached files, media. "
                                       "Empty when the file was kept byte for byte.",
                        "items": {"type": "object", "properties": {
                            "kind": {"type": "string", "enum": list(ACTIVE_CONTENT_KINDS)},
                            "detail": STRING, "count": {"type": "integer"}}},
                    },
                    "variables": {"type": "object",
                                  "description": "Template variables (place, date, items...)."},
                    "parties": {"type": "array", "items": ref("Party")},
                    "fields": {"type": "array", "items": ref("Field")},
                },
            },
        ]
    },
    "Party": {
        "type": "object",
        "required": ["id", "role", "name", "status"],
        "properties": {
            "id": ID,
            "order": {"type": "integer", "description": "Lower signs first; equal = parallel."},
            "role": {"enum": list(PARTY_ROLES)},
            "kind": {"enum": ["person", "company"]},
            "name": {"type": "string", "description": "The person who signs."},
            "position": STRING,
            "organization": STRING,
            "email": STRING,
            "phone": STRING,
            "channel": {"enum": list(CHANNELS)},
            "stamp_required": {"type": "boolean"},
            "counterparty_id": {"type": ["integer", "null"]},
            "status": {"enum": list(PARTY_STATUSES)},
            "sent_at": TIMESTAMP,
            "opened_at": TIMESTAMP,
            "signed_at": TIMESTAMP,
            "declined_at": TIMESTAMP,
            "decline_reason": STRING,
        },
    },
    "PartyInput": {
        "type": "object",
        "required": ["role", "name"],
        "description": "One party. Exactly one `company` signer and at least one `client`; "
                       "a party with an `id` is kept (with its fields), others are replaced.",
        "properties": {
            "id": {**ID, "description": "An existing party of this document, to keep it."},
            "role": {"enum": list(PARTY_ROLES)},
            "kind": {"enum": ["person", "company"]},
            "name": STRING,
            "position": STRING,
            "organization": STRING,
            "email": STRING,
            "phone": STRING,
            "channel": {"enum": list(CHANNELS)},
            "stamp_required": {"type": "boolean",
                               "description": "Only for our company or a company client."},
            "counterparty_id": {"type": ["integer", "null"]},
            "requisites": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "Defaults to the company's or counterparty's."},
        },
    },
    "Field": {
        "type": "object",
        "required": ["id", "type", "page", "x", "y", "w", "h"],
        "properties": {
            "id": ID,
            "party_id": {"type": ["integer", "null"]},
            "role": {"type": ["string", "null"], "description": "The party's role, if any."},
            "type": {"enum": list(FIELD_TYPES)},
            "page": {"type": "integer", "minimum": 1},
            "x": {"type": "number", "minimum": 0, "maximum": 1},
            "y": {"type": "number", "minimum": 0, "maximum": 1},
            "w": {"type": "number", "minimum": 0, "maximum": 1},
            "h": {"type": "number", "minimum": 0, "maximum": 1},
            "required": {"type": "boolean"},
            "label": STRING,
            "value": STRING,
            "filled": {"type": "boolean"},
            "filled_at": TIMESTAMP,
        },
    },
    "FieldInput": {
        "type": "object",
        "required": ["type", "page", "x", "y", "w", "h"],
        "description": "A box as fractions of the displayed page (top-left origin, after "
                       "rotation); x + w and y + h must stay within 0..1.",
        "properties": {
            "party_id": {"type": ["integer", "null"],
                         "description": "Whose field it is (see the document's parties); "
                                        "date and number fields may have none."},
            "type": {"enum": list(FIELD_TYPES)},
            "page": {"type": "integer", "minimum": 1},
            "x": {"type": "number", "minimum": 0, "maximum": 1},
            "y": {"type": "number", "minimum": 0, "maximum": 1},
            "w": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "h": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "required": {"type": "boolean"},
            "label": STRING,
        },
    },
    "DocumentUpdate": {
        "type": "object",
        "required": ["responsible_id"],
        "additionalProperties": False,
        "properties": {
            "responsible_id": {**ID, "description": "An active user who becomes responsible."},
        },
    },
    "DocumentStatus": {
        "type": "object",
        "properties": {
            "id": ID,
            "number": STRING,
            "stage": {"enum": list(STAGES)},
            "deadline": TIMESTAMP,
            "sent_at": TIMESTAMP,
            "completed_at": TIMESTAMP,
            "final_pdf": {"type": "boolean", "description": "Whether final.pdf is ready (false "
                          "again once the company's retention deleted it)."},
            "parties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": ID,
                        "role": {"enum": list(PARTY_ROLES)},
                        "name": STRING,
                        "channel": {"enum": list(CHANNELS)},
                        "status": {"enum": list(PARTY_STATUSES)},
                        "sent_at": TIMESTAMP,
                        "opened_at": TIMESTAMP,
                        "signed_at": TIMESTAMP,
                        "declined_at": TIMESTAMP,
                    },
                },
            },
        },
    },
    "Item": {
        "type": "object",
        "required": ["name", "quantity", "price"],
        "properties": {
            "name": STRING,
            "quantity": DECIMAL,
            "unit": {"type": "string", "examples": ["pcs", "h"]},
            "price": DECIMAL,
        },
    },
    "NewClient": {
        "type": "object",
        "description": "A client not in the directory (a person unless kind is company); "
                       "it needs an email or a phone.",
        "required": ["name"],
        "properties": {
            "kind": {"enum": ["person", "company"]},
            "name": STRING,
            "representative_name": STRING,
            "representative_position": STRING,
            "email": STRING,
            "phone": STRING,
        },
    },
    "NewDocumentFromTemplate": {
        "type": "object",
        "required": ["company_id", "template_id"],
        "properties": {
            "company_id": ID,
            "template_id": ID,
            "counterparty_id": {**ID, "description": "A client from the directory..."},
            "client": {**ref("NewClient"), "description": "...or a new one (not both)."},
            "title": {"type": "string", "maxLength": 300},
            "place": {"type": "string", "maxLength": 200},
            "date": {"type": "string", "format": "date"},
            "items": {"type": "array", "items": ref("Item"), "maxItems": 500},
            "vat_rate": {**DECIMAL, "description": "Percent, e.g. 20."},
            "currency": {"type": "string", "examples": ["RUB", "EUR"], "maxLength": 3},
            "language": {"enum": ["en", "ru", "pt"]},
        },
    },
    "NewDocumentFromUpload": {
        "type": "object",
        "required": ["file", "company_id"],
        "properties": {
            "file": {"type": "string", "contentMediaType": "application/pdf",
                     "description": "A PDF, or a PNG/JPEG image (becomes one page)."},
            "company_id": ID,
            "title": {"type": "string", "description": "Defaults to the file name."},
            "counterparty_id": ID,
            "client": {"type": "string", "contentMediaType": "application/json",
                       "description": "A NewClient object as JSON text."},
            "language": {"enum": ["en", "ru", "pt"]},
        },
    },
    "PublicLink": {
        "type": "object",
        "description": "A template published as a public link: visitors confirm a code and "
                       "sign their own document, made and sent in the creator's name.",
        "properties": {
            "id": ID, "title": STRING,
            "url": {"type": ["string", "null"],
                    "description": "null when the server's secret key changed since."},
            "template_id": ID, "company_id": ID, "created_by_id": ID,
            "channel": {"enum": ["email", "sms"]},
            "expires_at": TIMESTAMP, "max_uses": {"type": ["integer", "null"]},
            "uses": {"type": "integer"},
            "allowed_domains": {"type": "array", "items": STRING},
            "per_address_limit": {"type": "integer"}, "active": {"type": "boolean"},
            "presigned": {"type": "boolean",
                          "description": "Our company's signer signs once for the link."},
            "document_values": {
                "type": "object", "description": "What every document it makes says besides "
                                                 "the client: place, items, vat_rate (null: "
                                                 "no VAT), currency."},
            "state": {"enum": ["open", "paused", "expired", "used_up", "unsigned"],
                      "description": "unsigned: a pre-signed link waiting for our signer."},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "NewPublicLink": {
        "type": "object",
        "required": ["template_id", "company_id"],
        "properties": {
            "template_id": {**ID, "description": "An active template whose field layout "
                                                 "places a signature for the client and for "
                                                 "our company."},
            "company_id": ID,
            "title": {**STRING, "description": "The template's name when left out."},
            "channel": {"enum": ["email", "sms"], "default": "email"},
            "expires_at": {"type": "string", "format": "date-time"},
            "max_uses": {"type": "integer", "minimum": 1},
            "allowed_domains": {"type": "array", "items": STRING, "maxItems": 50},
            "per_address_limit": {"type": "integer", "minimum": 1, "maximum": 100,
                                  "default": 3},
            "presigned": {"type": "boolean", "default": False,
                          "description": "Ask our company's signer to sign once for the "
                                         "link (an offer); it takes visitors once signed."},
            "place": {"type": "string", "maxLength": 200},
            "items": {"type": "array", "items": ref("Item"), "maxItems": 500,
                      "description": "Every document's items (its price)."},
            "vat_rate": {**DECIMAL, "description": "Percent, e.g. 23; left out: no VAT."},
            "currency": {"type": "string", "maxLength": 3,
                         "description": "By the template's language when left out."},
        },
    },
    "Company": {
        "type": "object",
        "properties": {
            "id": ID, "legal_name": STRING, "short_name": STRING, "tax_id": STRING,
            "email": STRING, "signer_name": STRING, "signer_position": STRING,
            "signer_email": STRING, "signer_phone": STRING, "number_pattern": STRING,
        },
    },
    "Template": {
        "type": "object",
        "properties": {
            "id": ID, "name": STRING, "kind": {"enum": ["act", "invoice", "contract", "other"]},
            "language": STRING, "has_default_layout": {"type": "boolean"},
        },
    },
    "Counterparty": {
        "type": "object",
        "properties": {
            "id": ID, "kind": {"enum": ["person", "company"]}, "name": STRING,
            "representative_name": STRING, "representative_position": STRING,
            "email": STRING, "phone": STRING, "tax_id": STRING,
        },
    },
}

COMMON_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
}
NOT_FOUND = {"404": _error("No such document, or not visible to you.")}
FORBIDDEN = {"403": _error("Your account may not do this.")}
INVALID = {"422": _error("A value is not valid; `fields` names each one.")}
BAD_JSON = {"400": _error("The body is not valid JSON.")}
CONFLICT = {"409": _error("The document's stage does not allow this (e.g. already sent).")}
PDF = {"description": "The PDF file.",
       "content": {"application/pdf": {"schema": {"type": "string",
                                                  "contentMediaType": "application/pdf"}}}}


def _operation(operation_id: str, summary: str, responses: dict, **extra) -> dict:
    return {"operationId": operation_id, "summary": summary, "tags": [extra.pop("tag")],
            "responses": responses | COMMON_ERRORS, **extra}


def _document_operation(operation_id, summary, responses, **extra):
    # 403: the user may not do this to any document (a narrower scope gives 404 instead).
    return _operation(operation_id, summary, responses | NOT_FOUND | FORBIDDEN,
                      tag="documents", parameters=[DOCUMENT_ID], **extra)


def _body(schema: dict, description: str = "") -> dict:
    return {"required": True, "description": description,
            "content": {"application/json": {"schema": schema}}}


def _list_body(key: str, item: str) -> dict:
    return _body({
        "oneOf": [
            {"type": "object", "required": [key],
             "properties": {key: {"type": "array", "items": ref(item)}}},
            {"type": "array", "items": ref(item)},
        ]
    }, "The complete new list (it replaces the current one); a bare array works too.")


PATHS = {
    "/api/v1/documents": {
        "get": _operation(
            "listDocuments", "Documents you may see, newest first",
            {"200": _json(_page_of("DocumentSummary"), "One page of documents.")} | FORBIDDEN
            | INVALID,
            tag="documents",
            parameters=_page_params([{"name": "stage", "in": "query",
                                      "schema": {"enum": list(STAGES)}}]),
        ),
        "post": _operation(
            "createDocument", "Create a draft from a template",
            {"201": _json(ref("Document"), "The new draft.")} | BAD_JSON | FORBIDDEN
            | INVALID,
            tag="documents",
            requestBody=_body(ref("NewDocumentFromTemplate")),
        ),
    },
    "/api/v1/documents/upload": {
        "post": _operation(
            "uploadDocument", "Create a draft from an uploaded PDF or image",
            {"201": _json(ref("Document"), "The new draft."), "413": _error("File too large.")}
            | FORBIDDEN | INVALID,
            tag="documents",
            requestBody={"required": True, "content": {
                "multipart/form-data": {"schema": ref("NewDocumentFromUpload")}}},
        ),
    },
    "/api/v1/documents/{document_id}": {
        "get": _document_operation(
            "getDocument", "A document with its parties and fields",
            {"200": _json(ref("Document"), "The document.")},
        ),
        "patch": _document_operation(
            "updateDocument", "Hand the document to another responsible user",
            {"200": _json(ref("Document"), "The document as it is now. If the new "
                          "responsible is outside your scope, later requests get 404.")}
            | BAD_JSON | INVALID,
            description="Allowed at any stage to users who may edit the document. Giving "
                        "the current responsible changes nothing; every change is recorded "
                        "in the audit trail as `document.reassigned`.",
            requestBody=_body(ref("DocumentUpdate")),
        ),
    },
    "/api/v1/documents/{document_id}/status": {
        "get": _document_operation(
            "getDocumentStatus", "The stage and each party's status",
            {"200": _json(ref("DocumentStatus"), "Where the document is.")},
        ),
    },
    "/api/v1/documents/{document_id}/parties": {
        "put": _document_operation(
            "setParties", "Replace the draft's parties",
            {"200": _json(ref("Document"), "The document.")} | BAD_JSON | FORBIDDEN | CONFLICT
            | INVALID,
            requestBody=_list_body("parties", "PartyInput"),
        ),
    },
    "/api/v1/documents/{document_id}/fields": {
        "put": _document_operation(
            "setFields", "Replace the draft's fields",
            {"200": _json(ref("Document"), "The document.")} | BAD_JSON | FORBIDDEN | CONFLICT
            | INVALID,
            requestBody=_list_body("fields", "FieldInput"),
        ),
    },
    "/api/v1/documents/{document_id}/send": {
        "post": _document_operation(
            "sendDocument", "Send the draft for signing",
            {"200": _json(ref("Document"), "The sent document.")} | FORBIDDEN | CONFLICT
            | INVALID,
        ),
    },
    "/api/v1/documents/{document_id}/stop": {
        "post": _document_operation(
            "stopDocument", "Stop signing",
            {"200": _json(ref("Document"), "The stopped document.")} | BAD_JSON | FORBIDDEN
            | CONFLICT | INVALID,
            requestBody=_body({"type": "object", "required": ["reason"],
                               "properties": {"reason": {"type": "string", "maxLength": 1000}}}),
        ),
    },
    "/api/v1/documents/{document_id}/source.pdf": {
        "get": _document_operation("getSourcePdf", "The PDF as sent for signing", {"200": PDF}),
    },
    "/api/v1/documents/{document_id}/final.pdf": {
        "get": _document_operation(
            "getFinalPdf", "The signed and sealed PDF (404 until it exists)", {"200": PDF},
            description="Needs the vault's view scope over the document: a document you "
                        "see outside that scope gives 403.",
        ),
    },
    "/api/v1/companies": {
        "get": _operation("listCompanies", "Our companies (the sending side)",
                          {"200": _json(_list_of("Company"), "All companies.")} | FORBIDDEN,
                          tag="directory"),
    },
    "/api/v1/templates": {
        "get": _operation("listTemplates", "Active document templates",
                          {"200": _json(_list_of("Template"), "All active templates.")}
                          | FORBIDDEN, tag="directory"),
    },
    "/api/v1/counterparties": {
        "get": _operation(
            "listCounterparties", "The counterparty directory",
            {"200": _json(_page_of("Counterparty"), "One page of counterparties.")}
            | FORBIDDEN | INVALID,
            tag="directory",
            parameters=_page_params([
                {"name": "q", "in": "query", "schema": STRING,
                 "description": "Words in the name, contacts or tax id."},
                {"name": "kind", "in": "query", "schema": {"enum": ["person", "company"]}},
            ]),
        ),
    },
    "/api/v1/links": {
        "get": _operation(
            "listPublicLinks", "Public links you may manage, newest first",
            {"200": _json(_list_of("PublicLink"), "The links.")} | FORBIDDEN,
            tag="links",
        ),
        "post": _operation(
            "publishPublicLink", "Publish a template as a public link",
            {"201": _json(ref("PublicLink"), "The new link, with its URL.")} | BAD_JSON
            | FORBIDDEN | INVALID,
            tag="links",
            requestBody=_body(ref("NewPublicLink")),
        ),
    },
    "/api/v1/openapi.json": {
        "get": {"operationId": "getOpenApi", "summary": "This description",
                "tags": ["meta"], "security": [],
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {}}}}},
    },
}


_SIGNATURE_HEADER = {
    "name": "Signet-Signature", "in": "header", "required": True,
    "description": "`t=<unix time>,v1=<hex>`: v1 is HMAC-SHA256 with the endpoint's (or the "
                   "rule's) secret over `<t>.` followed by the raw body. Refuse stale t.",
    "schema": {"type": "string"},
}
# Webhook events, one schema each, read from the event catalogue (audit.catalogue).
_JSON_KINDS = {
    str: {"type": "string"}, int: {"type": "integer"}, bool: {"type": "boolean"},
    datetime: {"type": "string", "format": "date-time"}, list: {"type": "array"},
    dict: {"type": "object"},
}


def _english(label) -> str:
    with force_locale("en"):
        return str(label)


def _detail_schema(item: PayloadField) -> dict:
    options = [_JSON_KINDS[kind] for kind in item.kinds]
    if item.optional:
        options.append({"type": "null"})
    return options[0] if len(options) == 1 else {"anyOf": options}


def _details_schema(declared: EventType) -> dict:
    """The event's declared details as integrations get them (Signet's own ids left out)."""
    public = [item for item in declared.payload if item.name not in PRIVATE_DETAILS]
    properties = {item.name: _detail_schema(item) for item in public}
    properties[AUTOMATION_DEPTH] = {
        "type": "integer", "minimum": 1,
        "description": "How many automation rules led to this event; absent when a person "
                       "or the clock caused it.",
    }
    return {"type": "object", "properties": properties,
            "required": [item.name for item in public if not item.optional]}


def webhook_event_schema_name(declared: EventType) -> str:
    return f"WebhookEvent.{declared.name}"


def _webhook_event_schema(declared: EventType) -> dict:
    return {
        "type": "object",
        "title": declared.name,
        "description": _english(declared.label),
        "properties": {
            "id": {"type": "string", "description": "evt_<event id>; the same on a resend."},
            "type": {"const": declared.name},
            "created_at": {"type": "string", "format": "date-time"},
            "actor": {"type": "object", "properties": {"type": {"type": "string"},
                                                       "label": {"type": "string"}}},
            "details": _details_schema(declared),
            "party": {"oneOf": [ref("Party"), {"type": "null"}]},
            "document": {"type": "object", "description": "The document now: the list "
                         "fields, responsible, verification code, variables, parties."},
        },
        "required": ["id", "type", "created_at", "document"],
    }


def _webhook_event_schemas() -> dict:
    declared = webhook_event_types()
    names = {item.name: webhook_event_schema_name(item) for item in declared}
    return {
        "WebhookEvent": {
            "description": "A document event sent to a registered webhook endpoint; its "
                           "`type` tells which.",
            "oneOf": [ref(name) for name in names.values()],
            "discriminator": {"propertyName": "type",
                              "mapping": {event: f"#/components/schemas/{name}"
                                          for event, name in names.items()}},
        },
    } | {names[item.name]: _webhook_event_schema(item) for item in declared}


WEBHOOK_SCHEMAS = {
    "RuleWebhook": {
        "type": "object",
        "description": "Sent by an automation rule's \"call a webhook\" action.",
        "properties": {
            "id": {"type": "string", "description": "run_<run id>"},
            "type": {"type": "string", "examples": ["rule.client_signed"]},
            "trigger": {"type": "string"},
            "rule": {"type": "object", "properties": {"id": {"type": "integer"},
                                                      "name": {"type": "string"}}},
            "event_id": {"type": ["integer", "null"]},
            "document": {"type": "object"},
        },
        "required": ["id", "type", "trigger", "rule", "document"],
    },
}


# --- bulk send -------------------------------------------------------------------------------

BATCH_ID = {"name": "batch_id", "in": "path", "required": True, "schema": ID}
BATCH_NOT_FOUND = {"404": _error("No such batch, or not yours to reach.")}
BATCH_FORBIDDEN = {"403": _error("Your account may not create and send documents.")}
BATCH_CONFLICT = {"409": _error("The batch's status does not allow this (e.g. already "
                                "confirmed, or ended).")}
_BATCH_OPTIONS = {
    "template_id": ID,
    "company_id": {**ID, "description": "Our company that sends."},
    "mapping": {"type": "object", "additionalProperties": {"type": ["string", "integer"]},
                "description": "Target -> column: the column's name (a key of the rows, or a "
                               "header of the file) or its 0-based index. Targets: "
                               + ", ".join(TARGET_KEYS) + ". Without it: the mapping last "
                               "used with the template, then the names guessed (en, ru, pt)."},
    "values": {"type": "object", "properties": {key: STRING for key in VARIABLE_CLEANERS},
               "description": "Values for every row that leaves them empty (a row's own "
                              "wins): place, date (2026-12-31), currency, vat_rate."},
    "confirm": {"type": "boolean", "default": False,
                "description": "Confirm at once: the documents are created and sent by jobs. "
                               "Without skip_invalid, a row with errors refuses the whole "
                               "request (422 `rows_invalid`, each row's messages in `fields` "
                               "as `rows[N].target`) and nothing is kept."},
    "skip_invalid": {"type": "boolean", "default": False,
                     "description": "With confirm: send the valid rows, skip the others."},
}
BULK_SCHEMAS = {
    "NewBatchFromRows": {
        "type": "object",
        "required": ["template_id", "company_id", "rows"],
        "properties": {
            **_BATCH_OPTIONS,
            "rows": {"type": "array", "minItems": 1,
                     "items": {"type": "object",
                               "additionalProperties": {"type": ["string", "number", "null"]}},
                     "description": "One flat object per client; its keys are the columns "
                                    "(row N is the N-th object). Values are text or numbers; "
                                    "items as text: `Design; 2; 1500 | Support; 300`. "
                                    "Limits: SIGNET_BULK_MAX_ROWS rows, "
                                    "SIGNET_BULK_MAX_COLUMNS keys, "
                                    "SIGNET_BULK_MAX_CELL_CHARS characters a value."},
        },
    },
    "NewBatchFromFile": {
        "type": "object",
        "required": ["template_id", "company_id", "file"],
        "properties": {
            **_BATCH_OPTIONS,
            "file": {"type": "string", "contentMediaType": "text/csv",
                     "description": "CSV (UTF-8 or cp1251; `;`, `,` or tab) or XLSX; the "
                                    "first row names the columns."},
            "mapping": {"type": "string", "contentMediaType": "application/json",
                        "description": "The mapping object as JSON text."},
            "values": {"type": "string", "contentMediaType": "application/json",
                       "description": "The values object as JSON text."},
        },
    },
    "BatchRow": {
        "type": "object",
        "properties": {
            "row": {"type": "integer", "description": "The row as the spreadsheet numbers "
                    "it (the header is row 1), or the object's place in `rows` (from 1)."},
            "status": {"enum": list(ROW_STATUSES)},
            "values": {"type": "object", "description": "The row's cleaned values by target."},
            "errors": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Why the row is invalid, by target."},
            "message": {"type": "string", "description": "Why creating or sending failed."},
            "counterparty_id": {"type": ["integer", "null"]},
            "document_id": {"type": ["integer", "null"]},
            "document_number": NULLABLE_STRING,
        },
    },
    "Batch": {
        "type": "object",
        "required": ["id", "status", "counts", "rows"],
        "properties": {
            "id": ID,
            "status": {"enum": list(BATCH_STATUSES)},
            "template_id": ID,
            "company_id": ID,
            "source_filename": {"type": "string",
                                "description": "`rows.json` for a batch sent as JSON rows."},
            "headers": {"type": "array", "items": STRING},
            "mapping": {"type": "object", "additionalProperties": STRING,
                        "description": "Target -> the column's name."},
            "values": {"type": "object", "additionalProperties": STRING,
                       "description": "The values for every row, as cleaned."},
            "skip_invalid": {"type": "boolean"},
            "counts": {"type": "object", "description": "Rows in each status, and `total`.",
                       "properties": {name: {"type": "integer"}
                                      for name in (*ROW_STATUSES, "total")}},
            "created_at": TIMESTAMP,
            "confirmed_at": TIMESTAMP,
            "finished_at": TIMESTAMP,
            "rows": {**_page_of("BatchRow"), "description": "One page of the rows "
                     "(?page, per_page, status)."},
            "links": {"type": "object", "properties": {"self": STRING}},
        },
    },
}


def _batch_operation(operation_id, summary, responses, **extra):
    return _operation(operation_id, summary, responses | BATCH_NOT_FOUND | BATCH_FORBIDDEN,
                      tag="bulk", parameters=[BATCH_ID, *extra.pop("parameters", [])], **extra)


BULK_PATHS = {
    "/api/v1/bulk/batches": {
        "post": _operation(
            "createBatch", "Send one template to many clients: a batch from rows or a file",
            {"201": _json(ref("Batch"), "The batch: `validated` (every row checked, nothing "
                          "sent) or, with confirm, `confirmed`/`running`/`done`."),
             "413": _error("The body is larger than a batch may be (SIGNET_BULK_MAX_MB).")}
            | BAD_JSON | BATCH_FORBIDDEN | INVALID,
            tag="bulk",
            description="Nothing is created or sent until the batch is confirmed (here with "
                        "`confirm`, or later). The same checks as the bulk page: template, "
                        "company, the rows' limits, each row's client, contacts, amounts and "
                        "duplicates.",
            requestBody={"required": True, "content": {
                "application/json": {"schema": ref("NewBatchFromRows")},
                "multipart/form-data": {"schema": ref("NewBatchFromFile")}}},
        ),
    },
    "/api/v1/bulk/batches/{batch_id}": {
        "get": _batch_operation(
            "getBatch", "A batch's status, its counts and one page of its rows",
            {"200": _json(ref("Batch"), "The batch.")} | INVALID,
            parameters=_page_params([{"name": "status", "in": "query",
                                      "schema": {"enum": list(ROW_STATUSES)}}]),
        ),
    },
    "/api/v1/bulk/batches/{batch_id}/mapping": {
        "put": _batch_operation(
            "remapBatch", "Read the rows again with another mapping (before confirming)",
            {"200": _json(ref("Batch"), "The batch, every row checked again.")}
            | BAD_JSON | INVALID | BATCH_CONFLICT,
            requestBody=_body({"type": "object", "required": ["mapping"],
                               "properties": {"mapping": _BATCH_OPTIONS["mapping"]}}),
        ),
    },
    "/api/v1/bulk/batches/{batch_id}/confirm": {
        "post": _batch_operation(
            "confirmBatch", "Create and send the documents (jobs do it; follow the status)",
            {"200": _json(ref("Batch"), "The batch, confirmed.")} | BAD_JSON
            | {"422": _error("Rows have errors and skip_invalid is not set.")}
            | BATCH_CONFLICT,
            requestBody={"required": False, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"skip_invalid": _BATCH_OPTIONS["skip_invalid"]}}}}},
        ),
    },
    "/api/v1/bulk/batches/{batch_id}/retry": {
        "post": _batch_operation(
            "retryBatch", "Queue the failed rows again",
            {"200": _json({"type": "object", "properties": {
                "retried": {"type": "integer"}, "batch": ref("Batch")}},
                "How many rows were queued again, and the batch.")} | BATCH_CONFLICT,
        ),
    },
    "/api/v1/bulk/batches/{batch_id}/cancel": {
        "post": _batch_operation(
            "cancelBatch", "Stop the batch: rows not yet started are skipped",
            {"200": _json(ref("Batch"), "The batch, cancelled; documents already sent stay "
                          "sent.")} | BATCH_CONFLICT,
        ),
    },
}


def _webhook(operation_id: str, summary: str, schema: str) -> dict:
    return {"post": {
        "operationId": operation_id, "summary": summary, "tags": ["webhooks"],
        "parameters": [_SIGNATURE_HEADER,
                       {"name": "Signet-Event", "in": "header", "schema": {"type": "string"}},
                       {"name": "Signet-Delivery", "in": "header",
                        "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref(schema)}}},
        "responses": {"200": {"description": "Any 2xx: received. Anything else (or no answer "
                                             "within the timeout) is tried again with backoff."}},
    }}


def build_spec(base_url: str = "") -> dict:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Signet API",
            "version": API_VERSION,
            "description": (
                "Prepare documents for signing and follow them. Authenticate with a personal "
                "token from your profile page: `Authorization: Bearer sgt_...`. The token acts "
                "as you, with your permissions. Errors are JSON: "
                "`{\"error\": {\"code\", \"message\", \"fields\"}}`."
            ),
        },
        "servers": [{"url": base_url or "/"}],
        "security": [{"bearerToken": []}],
        "tags": [{"name": "documents"}, {"name": "bulk"}, {"name": "links"},
                 {"name": "directory"}, {"name": "meta"}, {"name": "webhooks"}],
        "paths": PATHS | BULK_PATHS,
        "webhooks": {
            "documentEvent": _webhook("documentEvent", "A document event, to each endpoint "
                                      "registered under Administration > Webhooks",
                                      "WebhookEvent"),
            "ruleWebhook": _webhook("ruleWebhook", "An automation rule calls your URL",
                                    "RuleWebhook"),
        },
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "A personal API token (sgt_...)."},
            },
            "schemas": SCHEMAS | BULK_SCHEMAS | _webhook_event_schemas() | WEBHOOK_SCHEMAS,
            "responses": {
                "Unauthorized": _error("No token, or a revoked or unknown one, or the user "
                                       "is deactivated."),
                "TooManyRequests": _error("Rate limit reached for this token; retry after "
                                          "the Retry-After seconds."),
            },
        },
    }
