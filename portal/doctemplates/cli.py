"""`flask signet install-templates`."""

import click
from flask.cli import with_appcontext

from portal.doctemplates.builtin import install_builtin_templates


@click.command("install-templates")
@with_appcontext
def install_templates_command():
    """Create or update the shipped act, invoice and contract templates (en, ru, pt)."""

    installed = install_builtin_templates()
    click.echo(f"{len(installed)} shipped templates installed or brought up to date.")
