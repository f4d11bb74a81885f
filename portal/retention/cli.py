"""`flask signet purge [--dry-run]`: apply the companies' retention periods now."""

import click
from flask.cli import with_appcontext

from portal.retention import purge
from portal.retention.policy import FILES

WHAT = {FILES: "delete the final and source PDFs", "mask": "mask the signers' contacts"}
DONE = {FILES: "PDFs deleted", "mask": "contacts masked"}
SKIPPED = {purge.SKIP_TAKEN: "done meanwhile by another run, or put under legal hold",
           purge.SKIP_CHAIN_BROKEN: "its audit chain does not hold; left unmasked",
           "failed": "failed (see the log)"}


def _line(item) -> str:
    return (f"{item.number} ({item.company_name}): {{what}}; completed on "
            f"{item.completed_at.date().isoformat()}, retention {item.days} days")


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would go; change nothing.")
@with_appcontext
def purge_command(dry_run: bool):
    """Delete the PDFs and mask the contacts whose retention period has passed (one batch)."""
    report = purge.run(dry_run=dry_run)
    if dry_run:
        for item in report.done:
            click.echo(_line(item).format(what=f"would {WHAT[item.action]}"))
        click.echo(f"Dry run: {len(report.done)} action(s) due; nothing was changed.")
        return
    for item in report.done:
        click.echo(_line(item).format(what=DONE[item.action]))
    for item, reason in report.skipped:
        click.echo(_line(item).format(what=f"skipped: {SKIPPED.get(reason, reason)}"))
    click.echo(f"Done: {len(report.done)}, skipped: {len(report.skipped)}.")
