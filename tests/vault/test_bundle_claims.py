"""A bulk zip's build is claimed by a lock on its folder, and the sweep builds again the zips
whose job Redis lost or whose worker was killed (the lock dies with its holder)."""

import io
import json
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest
import rq

from portal.extensions import db
from portal.jobs import QuickStopWorker
from portal.models_base import utcnow
from portal.storage import store
from portal.sweep.run import run_sweep
from portal.vault.bundles import (
    BUILD_ATTEMPTS,
    BUNDLE_STALL,
    LOCK_FILE,
    STATE_FILE,
    build_bundle,
    bundle_root,
    replay_lost_bundles,
)
from tests.factories import make_document_row, make_user
from tests.helpers import post_form, sign_in, text_of

HX = {"HX-Request": "true"}
HOLD_LOCK = """
import fcntl, sys
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def queued(make_app, redis_url, redis_client):
    """A zip of three signed documents asked for with Redis: its job waits in the queue."""
    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        owner = make_user(email="emma@example.com", name="Emma")
        ids = []
        for n in range(3):
            final = store(f"%PDF-1.7\n% sealed {n}\n%%EOF\n".encode(), "application/pdf")
            db.session.commit()
            ids.append(make_document_row(
                owner.id, number=f"ACT-{n}", stage="completed", completed_at=utcnow(),
                final_sha256=final.sha256).id)
    client = app.test_client()
    sign_in(client, "emma@example.com")
    html = text_of(post_form(client, "/vault/bundles", {"document_id": [str(i) for i in ids]},
                             headers=HX))
    assert "Preparing the zip: 0 of 3 documents." in html
    url = html[html.index("/vault/bundles/"):].split('"')[0]
    default = rq.Queue("default", connection=redis_client)
    assert len(default.jobs) == 1
    return {"app": app, "client": client, "url": url, "id": url.rsplit("/", 1)[1],
            "queue": default, "redis": redis_client}


def _later():
    return utcnow() + BUNDLE_STALL + timedelta(seconds=1)


def _work(queued) -> None:
    with queued["app"].app_context():
        QuickStopWorker([queued["queue"]], connection=queued["redis"]).work(burst=True)


def _ready_zip(queued) -> list[str]:
    status = text_of(queued["client"].get(queued["url"], headers=HX))
    assert "The zip with 3 documents is ready." in status
    download = queued["client"].get(f"{queued['url']}/download")
    return sorted(zipfile.ZipFile(io.BytesIO(download.data)).namelist())


def test_a_zip_whose_job_redis_lost_is_built_again_by_the_sweep(queued):
    queued["redis"].flushdb()  # Redis restarted empty: the job is gone
    with queued["app"].app_context():
        assert replay_lost_bundles(utcnow()) == 0  # its job may still be on the way
        assert run_sweep(_later())["bundles"] == 1
        assert len(queued["queue"].jobs) == 1
        assert replay_lost_bundles(_later()) == 0  # queued again once, not at every sweep
    _work(queued)
    assert _ready_zip(queued) == ["ACT-0.pdf", "ACT-1.pdf", "ACT-2.pdf"]
    with queued["app"].app_context():
        assert replay_lost_bundles(_later()) == 0  # finished: nothing again


def test_a_held_zip_is_left_to_its_holder_and_taken_over_when_the_holder_is_killed(queued):
    with queued["app"].app_context():
        folder = bundle_root() / queued["id"]
    # A worker holds the bundle (mid-build), in a process of its own.
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder / LOCK_FILE)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with queued["app"].app_context():
            assert build_bundle(queued["id"]) is None  # a second job for it leaves it alone
            assert replay_lost_bundles(_later()) == 0
        assert "Preparing the zip" in text_of(queued["client"].get(queued["url"], headers=HX))
    finally:
        holder.kill()  # SIGKILL: the kernel releases its lock
        holder.wait()
    queued["redis"].flushdb()
    with queued["app"].app_context():
        assert replay_lost_bundles(_later()) == 1
    _work(queued)
    assert _ready_zip(queued) == ["ACT-0.pdf", "ACT-1.pdf", "ACT-2.pdf"]


def test_a_zip_that_lost_every_build_shows_the_failure(queued):
    with queued["app"].app_context():
        state_file = bundle_root() / queued["id"] / STATE_FILE
        state = json.loads(state_file.read_text())
        state.update(status="running", done=1, attempts=BUILD_ATTEMPTS)
        state_file.write_text(json.dumps(state))
        assert replay_lost_bundles(_later()) == 0
        assert json.loads(state_file.read_text())["status"] == "failed"
    status = text_of(queued["client"].get(queued["url"], headers=HX))
    assert "The zip could not be made." in status and "every 1s" not in status
