"""`flask signet deliver-queued` and `flask signet worker`."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("deliver-queued")
@click.option("--older-than", default=5, show_default=True, type=click.IntRange(min=0),
              help="Only messages queued at least this many minutes ago.")
@with_appcontext
def deliver_queued_command(older_than: int):
    """Dispatch messages still waiting in the outbox (after Redis or a worker was down)."""
    from portal.delivery.services import requeue_stale_messages

    count = requeue_stale_messages(timedelta(minutes=older_than))
    click.echo(f"Dispatched {count} queued message(s).")


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool):
    """Run an RQ worker (with the scheduler, for retries) on REDIS_URL."""
    from portal.jobs import DEFAULT_QUEUES, run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError("REDIS_URL is not set: without it jobs run inside the web process.")
    run_worker(current_app._get_current_object(), queues or DEFAULT_QUEUES, burst=burst)


def init_app(app) -> None:
    """Add the delivery commands to the `flask signet` group."""
    from portal.cli import signet

    for command in (deliver_queued_command, worker_command):
        signet.add_command(command)
