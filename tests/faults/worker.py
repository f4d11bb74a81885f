"""A worker process of the fault tests: `python -m tests.faults.worker CONFIG.json`.

What `flask signet worker` runs, on an app made from the test's settings (the test database,
its own Redis, the faulty SMTP server, short periods)."""

import json
import logging
import sys
from pathlib import Path

from portal import create_app
from portal.jobs import run_worker


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    config = json.loads(Path(sys.argv[1]).read_text())
    run_worker(create_app(config))


if __name__ == "__main__":
    main()
