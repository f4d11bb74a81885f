"""PDF toolkit timings: ingest, previews (cold and cached), burn-in. Prints figures only.

Run from the repository root: .venv/bin/python bench/pdf.py
"""

import hashlib
import random
import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.pdfs import ingest_upload, isolated, render_preview  # noqa: E402
from portal.sealing.burn import Mark, burn_marks, register_font  # noqa: E402

WORDS = ["agreement", "party", "shall", "contract", "payment", "within", "days", "services",
         "provided", "hereunder", "liability", "term", "notice", "force", "majeure"]


def text_pdf(pages: int) -> bytes:
    """A contract-like PDF: 9 pt text filling each page."""
    rng = random.Random(pages)
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(50, 800, f"Service agreement, page {number}")
        pdf.setFont("Helvetica", 9)
        for line in range(64):
            pdf.drawString(50, 770 - 11 * line, " ".join(rng.choice(WORDS) for _ in range(15)))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def signature_png() -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    stroke = [(20, 150), (200, 40), (380, 160), (580, 30)]
    ImageDraw.Draw(image).line(stroke, fill=(10, 20, 120, 255), width=8)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def timed(func, repeat=5):
    """(median seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def report(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:46} {seconds * 1000:8.1f} ms  {extra}")


def marks_for(pages: int, signature: bytes) -> list[Mark]:
    marks = []
    for page in range(1, pages + 1):
        marks += [
            Mark(page, 0.55, 0.85, 0.3, 0.08, "image", image=signature),
            Mark(page, 0.1, 0.88, 0.35, 0.04, "text", text="Иванов И. И. / João Conceição"),
            Mark(page, 0.47, 0.88, 0.03, 0.02, "check"),
        ]
    return marks


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="signet-bench-pdf-"))
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    one, fifty = text_pdf(1), text_pdf(50)
    signature = signature_png()
    register_font()  # once per process; not part of any figure below
    print(f"files: 1 page {len(one) / 1024:.0f} KB, 50 pages {len(fifty) / 1024:.0f} KB")

    with app.app_context():
        for pages, data in ((1, one), (50, fifty)):
            seconds, _ = timed(lambda data=data: ingest_upload(data, "bench.pdf"))
            report(f"ingest_upload, {pages}-page PDF", seconds)
        photo = BytesIO()
        scene = Image.merge("RGB", [Image.radial_gradient("L").resize((4000, 3000)),
                                    Image.linear_gradient("L").resize((4000, 3000)),
                                    Image.effect_noise((4000, 3000), 24)])
        scene.save(photo, "JPEG", quality=85)
        seconds, prepared = timed(lambda: ingest_upload(photo.getvalue(), "photo.jpg"), repeat=3)
        report("ingest_upload, 12 MP JPEG photo", seconds,
               f"-> {len(prepared.pdf_bytes) / 1024:.0f} KB PDF")

        for width in (1000, 1600):
            cold = []
            for page in range(1, 6):  # a different page each time: nothing cached
                start = time.perf_counter()
                image = render_preview(fifty, page, width)
                cold.append(time.perf_counter() - start)
            report(f"render_preview cold, width {width}", statistics.median(cold),
                   f"{len(image) / 1024:.0f} KB JPEG")
            seconds, _ = timed(lambda width=width: render_preview(fifty, 1, width))
            report(f"render_preview cached, width {width}", seconds, "(incl. sha256 of the PDF)")
        sha = hashlib.sha256(fifty).hexdigest()
        seconds, _ = timed(lambda: render_preview(sha, 1, 1000))
        report("render_preview cached, by sha256", seconds)

        page_image = isolated.render_page_image(fifty, 1, 1000)
        seconds, _ = timed(lambda: isolated.render_page_image(fifty, 1, 1000))
        report("  of which PDFium render (1000 px)", seconds)
        for label, fmt, options in (("  encode PNG level 6", "PNG", {"compress_level": 6}),
                                    ("  encode JPEG q80 4:4:4 (chosen)", "JPEG",
                                     isolated.JPEG_OPTIONS)):
            def encode(fmt=fmt, options=options):
                out = BytesIO()
                page_image.save(out, fmt, **options)
                return out.getvalue()
            seconds, encoded = timed(encode)
            report(label, seconds, f"{len(encoded) / 1024:.0f} KB")

    for pages, data in ((1, one), (50, fifty)):
        marks = marks_for(pages, signature)
        seconds, burned = timed(lambda data=data, marks=marks: burn_marks(data, marks), repeat=3)
        report(f"burn_marks, {pages} page(s), 3 marks per page", seconds,
               f"{len(data) / 1024:.0f} KB -> {len(burned) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
