"""The real processes of the fault tests: a redis-server of our own on a spare port (killed
and started again empty) and `run_worker` processes on the test database (SIGKILLed),
forked by a zygote that imported the portal once."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


class OwnRedis:
    """redis-server on a spare TCP port, without persistence: a restart starts it empty."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client().ping()  # retried by the client until the server listens

    def client(self):
        import redis
        from redis.backoff import ConstantBackoff
        from redis.retry import Retry

        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5,
                                    retry=Retry(ConstantBackoff(0.05), 100),
                                    retry_on_error=[redis.ConnectionError])

    def kill(self) -> None:
        """SIGKILL: everything in it is gone, as after a crash without persistence."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart_empty(self, down_for: float = 1.0) -> None:
        self.kill()
        time.sleep(down_for)  # the workers meet a Redis that is away, not only an empty one
        self.start()

    def stop(self) -> None:
        self.kill()


class Zygote:
    """The process that forks the workers, the portal imported once (see tests.faults.zygote)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.zygote", str(folder)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        ready = self.process.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"the worker zygote did not start: {ready!r}")

    def fork(self, config_file: Path, log_file: Path) -> "Forked":
        self.process.stdin.write(f"{config_file} {log_file}\n")
        self.process.stdin.flush()
        return Forked(int(self.process.stdout.readline()), self.folder)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


class Forked:
    """A worker forked by the zygote, driven like a subprocess.Popen."""

    def __init__(self, pid: int, folder: Path):
        self.pid = pid
        self.exit_file = folder / f"exit-{pid}"
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self.exit_file.exists():
            self.returncode = int(self.exit_file.read_text())
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Workers:
    """Worker processes running `run_worker` (as `flask signet worker` does) on the test app's
    settings, forked by the zygote."""

    def __init__(self, folder: Path, config: dict, zygote: Zygote):
        self.folder = folder
        self.zygote = zygote
        self.config_file = folder / "worker-config.json"
        self.config_file.write_text(json.dumps(config))
        self.processes: list[Forked] = []

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            log = self.folder / f"worker{len(self.processes)}.log"
            self.processes.append(self.zygote.fork(self.config_file, log))

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.poll() is None]

    def kill(self, pid: int) -> None:
        """SIGKILL one worker: no teardown, no goodbye to Redis, the database or SMTP."""
        for process in self.processes:
            if process.pid == pid:
                process.kill()
                process.wait(timeout=10)

    def owner_of_port(self, port: int) -> int | None:
        """The worker whose TCP socket has this local port (the SMTP server's client port)."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        for pid in self.pids:
            try:
                folder = f"/proc/{pid}/fd"
                links = {os.readlink(f"{folder}/{fd}") for fd in os.listdir(folder)}
            except OSError:
                continue
            if any(f"socket:[{inode}]" in links for inode in inodes):
                return pid
        return None

    def stop(self) -> None:
        """SIGTERM (RQ's warm shutdown), SIGKILL for one that does not end."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log_texts(self) -> list[str]:
        return [log.read_text(errors="replace") for log in sorted(self.folder.glob("worker*.log"))]

    def logs(self, lines: int = 40) -> str:
        """The end of every worker's log, for a failure's message."""
        parts = []
        for log in sorted(self.folder.glob("worker*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)
