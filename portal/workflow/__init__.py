"""The document workflow: the one owner of a document's stage.

Every stage change goes through `machine.change_stage` (the only assignment of
`Document.stage`), under the one document lock (`lock.lock_document`), and is published as a
domain event (`portal.bus`): sending, the signing order, completion, decline, stop and expiry
live in `order.py`. Invitations, notices, sealing and automation react to the events; nothing
here calls them. See docs/architecture.md.
"""
