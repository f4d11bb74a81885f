"""What the archival layer (portal/pdfs/archival.py) adds to sealing a final PDF.

It runs in the same sandboxed child as the composition, after it: its cost is make_archival
on the composed file (the checks, the trail, the output intent, the XMP, one qpdf rewrite).
Measured on the composed final PDF of a one-page act with its certificate pages (made by the
portal's own pipeline; pass another PDF as the first argument) and a trail of 20 events.
Run from the repository root: .venv/bin/python bench/archival.py [file.pdf]
"""

import json
import statistics
import sys
import time
from datetime import datetime
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pikepdf  # noqa: E402

from portal.pdfs.archival import Archive, make_archival, pdfa_obstacles  # noqa: E402

RUNS = 30


def _median_ms(work) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(path: str) -> None:
    composed = Path(path).read_bytes()
    trail = json.dumps({"events": [{"hash": "0" * 64, "type": "party.signed"}] * 20}).encode()
    archive = Archive(title="Act", author="Signet Demo LLC", description="Signed by: A; B",
                      identifier="ACT-1", language="en", created=datetime(2026, 12, 3),
                      trail=trail, trail_filename="audit-trail.json",
                      trail_mime="application/json", trail_description="Audit trail")
    final, obstacles = make_archival(composed, archive)

    def checks_only():
        with pikepdf.open(BytesIO(composed)) as pdf:
            pdfa_obstacles(pdf)

    print(f"pages: {len(pikepdf.open(BytesIO(composed)).pages)}, obstacles: {obstacles}")
    print(f"make_archival: {_median_ms(lambda: make_archival(composed, archive)):.1f} ms "
          f"(median of {RUNS}), of which the checks: {_median_ms(checks_only):.1f} ms")
    print(f"size: {len(composed)} -> {len(final)} bytes (+{len(final) - len(composed)})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pdfa_composed.pdf")
