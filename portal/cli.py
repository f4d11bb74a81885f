"""`flask signet ...` commands."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal import unit
from portal.audit.cli import audit_check_command
from portal.delivery.cli import deliver_queued_command, worker_command
from portal.doctemplates.cli import install_templates_command
from portal.retention.cli import purge_command
from portal.sealing.cli import seal_group
from portal.sealing.finalize import seal_again
from portal.seed import seed
from portal.sweep.run import run_sweep
from portal.sweep.timer import sweep_lock
from portal.verify.cli import verify_command
from portal.workflow.order import expire_overdue

signet = AppGroup("signet", help="Signet administration commands.")


@signet.command("seed")
def seed_command():
    """Create the first administrator and demo data, once."""

    for line in seed():
        click.echo(line)


@signet.command("expire")
def expire_command():
    """Move documents past their deadline to "expired" and tell the responsible employees."""

    click.echo(f"Expired {expire_overdue()} document(s).")


@signet.command("sweep")
def sweep_command():
    """Run the periodic sweep once: expiry, reminders, stuck sealing and mail, old bundles."""



    with sweep_lock(Path(current_app.instance_path)) as held:
        if not held:
            raise click.ClickException("Another process is sweeping right now; try again later.")
        counts = run_sweep()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


@signet.command("seal-pending")
def seal_pending_command():
    """Queue sealing again for completed documents still without their sealed PDF."""

    count = seal_again(None)
    unit.commit()
    click.echo(f"Queued sealing for {count} document(s).")


def init_app(app) -> None:

    for command in (install_templates_command, audit_check_command, verify_command,
                    deliver_queued_command, worker_command, purge_command,
                    seal_group):
        signet.add_command(command)
    app.cli.add_command(signet)
