"""Run the benches that hold goals and write their goal lines into README.md's table.

Run from the repository root: .venv/bin/python bench/readme_table.py [--all]
(`make bench` passes --all: every other bench runs first, for its figures.)
The table sits between the markers below; everything else in the README is left alone.
"""

import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.goals import GOAL_PREFIX  # noqa: E402

GOAL_BENCHES = ("bench/pages.py", "bench/board.py", "bench/seal_verify.py")
# Modules the benches share, not benches themselves.
NOT_BENCHES = ("bench/__init__.py", "bench/goals.py", "bench/readme_table.py",
               "bench/timing.py", "bench/sealing_pipeline.py", "bench/seal_levels.py")
NOT_RUN = "not run"
START, END = "<!-- bench-goals:start -->", "<!-- bench-goals:end -->"


def goal_rows(script: str) -> list[list[str]]:
    done = subprocess.run([sys.executable, script], cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    if done.returncode:
        sys.stdout.write(done.stderr[-2000:])
    rows = [line.removeprefix(GOAL_PREFIX).split(" | ") for line in done.stdout.splitlines()
            if line.startswith(GOAL_PREFIX)]
    if done.returncode:
        rows.append([f"{script} failed", "", "", "", NOT_RUN])
    return rows


def table(rows: list[list[str]]) -> str:
    lines = [f"Measured by `make bench` on {date.today().isoformat()} "
             "(each limit measured in the same run; ratio at most 1.00 means met):", "",
             "| what | measured | limit | ratio | |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def run_the_others() -> list[str]:
    """Every other bench, for its printed figures; the ones that failed (a failing one does
    not stop the rest)."""
    failed = []
    for script in sorted(str(path.relative_to(ROOT)) for path in (ROOT / "bench").glob("*.py")):
        if script not in GOAL_BENCHES and script not in NOT_BENCHES:
            print(f"== {script}", flush=True)
            if subprocess.run([sys.executable, script], cwd=ROOT).returncode:
                failed.append(script)
    return failed


def main() -> None:
    failed = run_the_others() if "--all" in sys.argv[1:] else []
    rows = [row for script in GOAL_BENCHES for row in goal_rows(script)]
    readme = ROOT / "README.md"
    text = readme.read_text()
    before, rest = text.split(START, 1)
    _old, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{table(rows)}\n{END}{after}")
    print(f"README.md: {len(rows)} goals written")
    # A bench that broke must not pass unseen between the figures of the others.
    failed += [row[0].removesuffix(" failed") for row in rows if row[-1] == NOT_RUN]
    if failed:
        raise SystemExit("benches that failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
