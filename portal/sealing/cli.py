"""`flask signet seal ...`: revoke the seal certificate, add archive time stamps."""

import click
from cryptography.hazmat.primitives import hashes
from flask.cli import AppGroup

from portal import unit
from portal.audit.catalogue import SEAL_CERTIFICATE_REVOKED
from portal.audit.service import record
from portal.sealing.archive import restamp_document, restamp_due
from portal.sealing.certs import REVOCATION_REASONS
from portal.sealing.store import revoke_seal

seal_group = AppGroup("seal", help="The portal's seal: revocation and archive time stamps.")


@seal_group.command("revoke")
@click.option("--reason", type=click.Choice(REVOCATION_REASONS), default="key_compromise",
              show_default=True, help="Why the certificate is revoked (goes into the CRL).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def revoke_command(reason: str, yes: bool):
    """Revoke the current seal certificate, seal with a fresh one, publish the new CRL."""
    if not yes:
        click.confirm("Documents sealed with the current certificate from now on will show "
                      "as revoked. Revoke it?", abort=True)
    try:
        revocation, fresh = revoke_seal(reason)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    fingerprint = fresh.fingerprint(hashes.SHA256()).hex(":").upper()
    record(SEAL_CERTIFICATE_REVOKED, None, None, None, serial=str(revocation.serial),
           reason=reason, subject=revocation.subject, new_fingerprint=fingerprint)
    unit.commit()
    click.echo(f"Revoked serial {revocation.serial:x} at {revocation.revoked_at.isoformat()} "
               f"({reason}); sealing now with {fingerprint}.")


@seal_group.command("restamp")
@click.option("--dry-run", is_flag=True, help="Only list the documents that are due.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def restamp_command(dry_run: bool, limit: int):
    """Add an archive time stamp to final PDFs whose last time stamp runs out soon."""
    due = restamp_due(limit=limit)
    for item in due:
        click.echo(f"{item.number} (id {item.document_id}): time stamp valid until "
                   f"{item.expires_at.isoformat()}")
    if dry_run:
        click.echo(f"{len(due)} document(s) due; nothing changed (dry run).")
        return
    done = sum(restamp_document(item.document_id) is not None for item in due)
    click.echo(f"Re-stamped {done} of {len(due)} document(s).")
