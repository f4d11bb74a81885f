"""`flask signet ...` commands."""

import click
from flask.cli import AppGroup

signet = AppGroup("signet", help="Signet administration commands.")


@signet.command("seed")
def seed_command():
    """Create the first administrator and demo data, once."""
    from portal.seed import seed

    for line in seed():
        click.echo(line)


@signet.command("expire")
def expire_command():
    """Move documents past their deadline to "expired" and tell the responsible employees."""
    from portal.documents.progress import expire_overdue

    click.echo(f"Expired {expire_overdue()} document(s).")


def init_app(app) -> None:
    from portal.audit.cli import audit_check_command
    from portal.delivery import cli as delivery_cli
    from portal.doctemplates.cli import install_templates_command

    signet.add_command(install_templates_command)
    signet.add_command(audit_check_command)

    delivery_cli.init_app(app)
    app.cli.add_command(signet)
