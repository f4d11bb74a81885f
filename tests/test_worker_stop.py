"""A worker stops without waiting on RQ's command listener.

RQ's listener reads Redis for up to a minute at a time, and redis-py 8.2 waits for it to end
when it is stopped: with RQ's own order, about one stop in ten took that whole minute."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOPS = 10
# Ten stops take a few seconds beside a busy thread; one stuck listener would take a minute.
HANG_SECONDS = 30

# RQ installs signal handlers, so its workers run in a main thread: a child process's.
START_AND_STOP = """
import sys, threading
import redis, rq
from portal.jobs import QuickStopWorker
def spin():  # another busy thread, as in a loaded worker: thread switches come at any point
    while True:
        pass
threading.Thread(target=spin, daemon=True).start()
connection = redis.Redis.from_url(sys.argv[1])
queue = rq.Queue("default", connection=connection)
listeners = []
for _ in range(int(sys.argv[2])):
    worker = QuickStopWorker([queue], connection=connection)
    worker.work(burst=True)
    listeners.append(worker.pubsub_thread)
print("stopped", len(listeners), sum(listener.is_alive() for listener in listeners))
"""


def test_burst_workers_stop_at_once_and_their_listeners_end(redis_url, redis_client):
    done = subprocess.run([sys.executable, "-c", START_AND_STOP, redis_url, str(STOPS)],
                          cwd=ROOT, capture_output=True, text=True, timeout=HANG_SECONDS)

    assert done.returncode == 0, done.stderr
    _label, stopped, still_listening = done.stdout.splitlines()[-1].split()
    assert (int(stopped), int(still_listening)) == (STOPS, 0)
