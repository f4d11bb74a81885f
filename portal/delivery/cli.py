"""`flask signet deliver-queued` and `flask signet worker`."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.delivery.services import QUEUED_GRACE, deliver_due_messages
from portal.jobs import DEFAULT_QUEUES
from portal.worker import run_worker


@click.command("deliver-queued")
@click.option("--older-than", default=0, show_default=True, type=click.IntRange(min=0),
              help="Leave messages queued less than this many minutes ago to their own job.")
@with_appcontext
def deliver_queued_command(older_than: int):
    """Deliver every message due now: queued ones nobody took, retries whose time came, and
    ones a dead worker held (through the workers, or here when Redis is away)."""

    grace = timedelta(minutes=older_than) if older_than else QUEUED_GRACE
    count = deliver_due_messages(queued_grace=grace)
    click.echo(f"Dispatched {count} due message(s).")


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool):
    """Run an RQ worker (with the scheduler, for retries) on REDIS_URL."""

    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError("REDIS_URL is not set: without it jobs run inside the web process.")
    run_worker(current_app._get_current_object(), queues or DEFAULT_QUEUES, burst=burst)
