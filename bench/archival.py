"""What the archival layer (portal/pdfs/archival.py) adds to composing the final PDF.

It runs in the same sandboxed child as the composition, right after it, so the cost it adds
to a seal is compose_final minus compose: the checks, the trail, the output intent, the XMP
and one qpdf rewrite. Measured in-process on text pages set in the embedded DejaVu Sans (so
the checks pass and the claim is made: the full cost), 20 signature marks, a footer, a
trail of about 6 KB. Run from the repository root: .venv/bin/python bench/archival.py
"""

import io
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.pdfgen import canvas  # noqa: E402

from bench.pdf import marks_for, signature_png  # noqa: E402
from portal.pdfs.archival import Archive, make_archival  # noqa: E402
from portal.pdfs.fitting import register_font  # noqa: E402
from portal.sealing.burn import DocumentInfo, compose, compose_final  # noqa: E402

RUNS = 11
LINES = 60
ABOUT = DocumentInfo("Act", "Signet Demo LLC", "Signed electronically", "en")
ARCHIVE = Archive(title="Act", author="Signet Demo LLC", description="Signed by: A; B",
                  identifier="ACT-1", language="en", created=datetime(2026, 12, 3),
                  trail=b'{"event": "party.signed"}\n' * 240, trail_filename="audit-trail.json",
                  trail_mime="application/json", trail_description="Audit trail")


def embedded_text_pdf(pages: int) -> bytes:
    font = register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, initialFontName=font)
    for page in range(pages):
        pdf.setFont(font, 9)
        for line in range(LINES):
            pdf.drawString(40, 800 - line * 12, f"Line {line} of page {page}: the quick brown "
                                                "fox, съешь же ещё этих мягких булок")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def median_ms(work, *args) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work(*args)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    signature = signature_png()
    for pages in (1, 50):
        source = embedded_text_pdf(pages)
        marks = marks_for(pages, signature)
        arguments = (source, marks, None, "Page {page} of {total}", ABOUT)
        composed = compose(*arguments)
        final, obstacles = make_archival(composed, ARCHIVE)
        before = median_ms(compose, *arguments)
        after = median_ms(compose_final, *arguments, ARCHIVE)
        print(f"{pages:>2} page(s): compose {before:6.1f} ms, compose_final {after:6.1f} ms "
              f"(+{after - before:.1f} ms); size {len(composed)} -> {len(final)} bytes; "
              f"PDF/A claimed: {not obstacles}")


if __name__ == "__main__":
    main()
