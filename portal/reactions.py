"""Who reacts to the workflow's events, and what else the domain asks of the processes above
it, wired once when the app is built.

The workflow publishes; the processes above it subscribe here, so the domain never imports
them (see docs/architecture.md).
"""

from portal.bulk import jobs as bulk_jobs
from portal.doctemplates import publishing
from portal.documents import upload_checks
from portal.links.services import links_publishing
from portal.notices import reactions as notices
from portal.sealing import reactions as sealing
from portal.sealing.trial import ensure_sealable
from portal.signing import bundles, invitations


def subscribe_all() -> None:
    invitations.subscribe()
    invitations.register_taker(bundles.take_invitation)
    bulk_jobs.when_finished(bundles.invite_batch)
    notices.subscribe()
    sealing.subscribe()
    upload_checks.register(ensure_sealable)
    publishing.register(links_publishing)
