"""`make screenshots`: the README's first-run walkthrough, played in Chromium, one PNG per step.

Starts the real app on a free port with a fresh temporary instance (SQLite, the seeded demo
data, jobs in-process, mail and texts in the outbox viewer), logs in with the login the seed
prints, creates an act from the English built-in template, sends it, signs it as the director
and then as the client through the links and codes the outbox shows, downloads the sealed PDF
and checks it on the public verify page. Every step that fails stops the run with its name and
a non-zero exit; the PNGs go to docs/screenshots/.

The pages are found by their stable names (URLs, form field names, roles and accessible
names): the texts and names it relies on are all in the block below, so a changed page needs
one edit here.
"""

import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

# --- what the walkthrough relies on: one place to edit when a page changes --------------------

TEMPLATE = "Act of completed work"  # the English built-in act
COMPANY = "Signet Demo UK"  # chosen with it: the seeded company whose documents are in English
CLIENT = "Northwind Trading Ltd"  # the seeded English client
DIRECTOR_EMAIL = "olivia.harper@signet-demo.example"  # the seeded English company's signer
CLIENT_EMAIL = "contracts@northwind.example"
DOCUMENT = {"title": "Website work, March", "place": "Bristol", "currency": "GBP",
            "vat_rate": "20", "items-0-name": "Website redesign, phase one",
            "items-0-quantity": "2", "items-0-unit": "stage", "items-0-price": "1500"}

URL = {"login": "/login", "new_document": "/documents/new", "outbox": "/outbox",
       "verify": "/verify", "fields": "{document}/fields", "home": "/", "board": "/pipeline"}
FIELD = {"email": "input[name=email]", "password": "input[name=password]",
         "client_search": "input[name=q]", "signing_code": "input[name=code]",
         "signature_pad": "canvas.signature-pad", "stamp_file": "input[name=image]",
         "stamp_by_upload": "input[name=method][value=upload]",
         "field_value": "input[name=value]", "verify_file": "input[name=file]"}
TEXT = {
    "log_in": "Log in",
    "template": "Template",
    "create": "Create the draft",
    "send": "Send for signing",
    "sent": "Sent for signing",
    "invitation_subject": "Please sign",
    "code_subject": "Your signing code",
    "agree": "I agree: send me a code",
    "confirm": "Confirm",
    "fill_heading": "Fill in your fields and sign",
    "save": "Save",
    "sign": "Sign the document",
    "signed_heading": "You have signed",
    "download_signed": "Download the signed PDF",
    "check": "Check the document",
}
# What a picture shows: the page's content (not the empty rest of a short page).
REGION = {"page": "main > *"}
BUSY = ".htmx-request"  # htmx marks what waits for an answer
CHOSEN_COMPANY = "select[name=company_id] option:checked"
PLACED_FIELD = "[data-field-id]"  # a field box in the placement editor
VERDICT_AUTHENTIC = "[data-verdict=authentic]"
# A signing page's fields still to fill: each is a form of its own until it is saved.
OPEN_FIELD = ".signing-field:has(form)"
SIGNING_LINK = "main a[href*='/s/']"  # a signing link in a message's text
SAVED_IMAGE = "img"
DASHBOARD_COUNT = "[id^=count-]"  # a count on the home dashboard

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000  # a page or a message; the sealed PDF gets SEAL_SECONDS
SEAL_SECONDS = 90
MAX_HEIGHT = 1100  # px: a taller region is cut at this height
MAX_BYTES = 200 * 1024  # each PNG, so the README stays light
PDF_SCALE = 1.25  # 90 dpi: an A4 page about 740 px wide
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CODE = re.compile(r"\b(\d{6})\b")
# The portal's own settings that would send mail, texts or jobs elsewhere: cleared.
OUTSIDE_SETTINGS = ("DATABASE_URL", "REDIS_URL", "SMTP_URL", "SMTP_HOST", "SMS_GATEWAY_URL",
                    "SIGNET_SECRET_KEY", "SIGNET_ADMIN_EMAIL", "SIGNET_ADMIN_PASSWORD",
                    "SIGNET_TSA_URLS", "SIGNET_DEFAULT_LOCALE", "SIGNET_OIDC_ISSUER",
                    "SIGNET_OIDC_DISCOVERY_URL")


class StepFailed(RuntimeError):
    pass


# --- the app -------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(instance: Path, port: int) -> dict:
    env = {name: value for name, value in os.environ.items() if name not in OUTSIDE_SETTINGS}
    env.update(SIGNET_INSTANCE_PATH=str(instance), SIGNET_BASE_URL=f"http://127.0.0.1:{port}",
               FLASK_APP="app.py", SIGNET_SWEEP_SECONDS="0")
    return env


def _flask(*args) -> list[str]:
    return [sys.executable, "-m", "flask", *args]


def _admin_login(seed_output: str) -> tuple[str, str]:
    """The email and password `flask signet seed` prints, as a newcomer reads them."""
    email = re.search(r"email:\s+(\S+)", seed_output)
    password = re.search(r"password:\s+(\S+)", seed_output)
    if not (email and password):
        raise StepFailed(f"the seed printed no admin login:\n{seed_output}")
    return email.group(1), password.group(1)


def start_app(instance: Path, port: int):
    """Migrate, seed and serve, as `make run` does; (server process, email, password)."""
    env = _environment(instance, port)
    for args in (("db", "upgrade"), ("signet", "seed")):
        done = subprocess.run(_flask(*args), cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode:
            raise StepFailed(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    email, password = _admin_login(done.stdout)
    server = subprocess.Popen(
        _flask("run", "--host", "127.0.0.1", "--port", str(port)), cwd=REPO, env=env,
        stdout=open(instance / "server.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise StepFailed("the app stopped:\n" + (instance / "server.log").read_text())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{URL['login']}", timeout=2):
                return server, email, password
        except OSError:
            time.sleep(0.3)
    stop_app(server)
    raise StepFailed("the app did not answer within 30 s")


def stop_app(server) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


# --- pictures ------------------------------------------------------------------------------------

def _optimise(path: Path) -> None:
    """A palette PNG: screens are flat colours, so 256 of them look the same at a third the size."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _box(locators) -> dict:
    """The smallest box around everything the locators match, in page coordinates."""
    rects = []
    for locator in locators:
        rects += locator.evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect(); return"
            " [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]; })")
    rects = [rect for rect in rects if rect[2] > rect[0] and rect[3] > rect[1]]
    if not rects:
        raise StepFailed("nothing to photograph: the region is not on the page")
    left, top = min(r[0] for r in rects), min(r[1] for r in rects)
    return {"x": left, "y": top, "width": max(r[2] for r in rects) - left,
            "height": max(r[3] for r in rects) - top}


def _wait_for_images(page) -> None:
    """Until every image has loaded (polled here: the page's policy forbids an injected loop)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not page.evaluate("[...document.images].every(image => image.complete)"):
        if time.monotonic() > deadline:
            raise StepFailed("the page's images did not load")
        time.sleep(0.1)


def shot(page, name: str, *regions, max_height: int = MAX_HEIGHT,
         full_width: bool = False) -> None:
    """Save `name`.png: the box around the regions (selectors or locators; cut at
    max_height; as wide as the screen with full_width), or the viewport as it is when none
    is given."""
    path = OUT / f"{name}.png"
    if not regions:
        page.screenshot(path=path)
    else:
        # The whole page in one tall viewport: sticky bars then sit where they belong.
        viewport = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": height})
        try:
            _wait_for_images(page)
            box = _box(page.locator(region) if isinstance(region, str) else region
                       for region in regions)
            margin = 8
            clip = {"x": max(box["x"] - margin, 0), "y": max(box["y"] - margin, 0),
                    "width": min(box["width"] + 2 * margin, viewport["width"]),
                    "height": min(box["height"] + 2 * margin, max_height)}
            if full_width:
                clip.update(x=0, width=viewport["width"])
            page.screenshot(path=path, clip=clip)
        finally:
            page.set_viewport_size(viewport)
    _optimise(path)
    _report(path)


def pdf_page_shot(pdf: Path, name: str) -> None:
    """The sealed PDF's first page as its reader sees it: the signatures burned in."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=PDF_SCALE).to_pil()
    finally:
        document.close()
    path = OUT / f"{name}.png"
    image.save(path)
    _optimise(path)
    _report(path)


def _report(path: Path) -> None:
    size = path.stat().st_size
    print(f"  {path.relative_to(REPO)} ({size // 1024} KB)")
    if size > MAX_BYTES:
        raise StepFailed(f"{path.name} is {size // 1024} KB: crop it to under "
                         f"{MAX_BYTES // 1024} KB")


def _stamp_png(folder: Path) -> Path:
    """A round blue stamp on a transparent background, for the client's stamp field."""
    image = Image.new("RGBA", (240, 240), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 230, 230), outline=(30, 60, 160, 255), width=8)
    draw.ellipse((50, 50, 190, 190), outline=(30, 60, 160, 200), width=4)
    path = folder / "stamp.png"
    image.save(path)
    return path


# --- the walkthrough -----------------------------------------------------------------------------

def log_in(page, email: str, password: str) -> None:
    page.goto(URL["login"])
    page.fill(FIELD["email"], email)
    page.fill(FIELD["password"], password)
    shot(page, "01-log-in", REGION["page"])
    page.get_by_role("button", name=TEXT["log_in"]).click()
    page.wait_for_url(lambda url: URL["login"] not in url)


def create_document(page) -> str:
    """The act for the English client, from the new-document form; the document's URL."""
    page.goto(URL["new_document"])
    page.get_by_label(TEXT["template"], exact=True).select_option(label=TEMPLATE)
    expect(page.locator(CHOSEN_COMPANY)).to_have_text(COMPANY)
    page.locator(FIELD["client_search"]).press_sequentially(CLIENT.split()[0], delay=20)
    page.get_by_label(CLIENT).check()
    for name, value in DOCUMENT.items():
        page.fill(f"[name='{name}']", value)
    page.wait_for_load_state("networkidle")  # the directory search has answered
    expect(page.locator(BUSY)).to_have_count(0)
    shot(page, "02-new-document", REGION["page"], max_height=1250)
    page.get_by_role("button", name=TEXT["create"]).click()
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    return page.url


def place_fields(page, document_url: str) -> None:
    """The editor with the template's fields in place, scrolled to the signature blocks."""
    page.goto(URL["fields"].format(document=document_url))
    fields = page.locator(PLACED_FIELD)
    fields.first.wait_for()
    page.wait_for_load_state("networkidle")
    fields.first.evaluate("field => field.scrollIntoView({block: 'center'})")
    shot(page, "03-place-fields")
    page.goto(document_url)


def send(page) -> None:
    shot(page, "04-send", REGION["page"], max_height=760)
    page.get_by_role("button", name=TEXT["send"]).click()
    expect(page.get_by_text(TEXT["sent"]).first).to_be_visible()


def _outbox_row(page, recipient: str, subject: str):
    """The outbox row of the newest message to `recipient` with `subject` in its subject,
    once it has arrived."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        page.goto(URL["outbox"])
        row = page.get_by_role("row").filter(has_text=recipient).filter(has_text=subject)
        if row.count():
            return row.first
        if time.monotonic() > deadline:
            raise StepFailed(f"no message “{subject}” to {recipient} in the outbox")
        time.sleep(0.5)


def read_invitation(page, recipient: str, pictures: bool) -> str:
    """The signing link of the invitation to `recipient`, read in the outbox."""
    row = _outbox_row(page, recipient, TEXT["invitation_subject"])
    if pictures:
        shot(page, "05-outbox", REGION["page"])
    row.get_by_role("link").first.click()
    link = page.locator(SIGNING_LINK).first
    if pictures:
        shot(page, "06-invitation", REGION["page"], max_height=1000)
    return link.get_attribute("href")


def read_code(page, recipient: str, pictures: bool) -> str:
    row = _outbox_row(page, recipient, TEXT["code_subject"])
    if pictures:
        shot(page, "08-outbox-code", REGION["page"])
    return CODE.search(row.inner_text()).group(1)


def _draw_signature(page, field) -> None:
    """A looping scribble across the pad, drawn with the mouse as a finger would."""
    pad = field.locator(FIELD["signature_pad"])
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()

    def point(t: float) -> tuple[float, float]:
        x = 0.08 + 0.84 * t + 0.05 * math.sin(14 * math.pi * t)
        y = 0.55 - 0.3 * math.sin(7 * math.pi * t) * (1 - 0.5 * t)
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    page.mouse.move(*point(0))
    page.mouse.down()
    for step in range(1, 121):
        page.mouse.move(*point(step / 120))
    page.mouse.up()


def _fill_fields(page, stamp: Path) -> None:
    """Every field the signing page asks for: draw the signature, upload the stamp, type text."""
    fields = page.locator(OPEN_FIELD)
    while fields.count():
        # By id: the ":has(form)" locator moves on to the next field once this one is saved.
        field = page.locator(f"#{fields.first.get_attribute('id')}")
        if field.locator(FIELD["signature_pad"]).count():
            _draw_signature(page, field)
        elif field.locator(FIELD["stamp_file"]).count():
            upload = field.locator(FIELD["stamp_by_upload"])
            if upload.count() and upload.get_attribute("type") == "radio":
                upload.check()
            field.locator(FIELD["stamp_file"]).set_input_files(str(stamp))
        else:
            field.locator(FIELD["field_value"]).fill("Accepted in full")
        field.get_by_role("button", name=TEXT["save"]).click()
        expect(field.locator("form")).to_have_count(0)


def sign_as(browser, base_url, admin_page, recipient, stamp, picture: str, steps: bool) -> None:
    """A signer on a phone: the link from the outbox, the agreement, the code from the outbox,
    the fields, the signature. `steps` takes a picture of every step; `picture` names the one
    of the filled fields."""
    link = read_invitation(admin_page, recipient, steps)
    context = browser.new_context(viewport=PHONE, base_url=base_url, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    phone = context.new_page()
    _watch_console(phone)
    phone.goto(re.sub(r"^https?://[^/]+", "", link))
    phone.locator("main img").first.wait_for()
    if steps:
        shot(phone, "07-director-agree")
    phone.get_by_role("button", name=TEXT["agree"]).click()
    phone.locator(FIELD["signing_code"]).wait_for()
    phone.fill(FIELD["signing_code"], read_code(admin_page, recipient, steps))
    phone.get_by_role("button", name=TEXT["confirm"]).click()
    heading = phone.get_by_role("heading", name=TEXT["fill_heading"])
    expect(heading).to_be_visible()
    _fill_fields(phone, stamp)
    sign = phone.get_by_role("button", name=TEXT["sign"])
    shot(phone, picture, heading, sign, max_height=1500, full_width=True)
    sign.click()
    expect(phone.get_by_role("heading", name=TEXT["signed_heading"])).to_be_visible()
    _check_console(phone)
    context.close()


def download_sealed(page, document_url: str, folder: Path) -> Path:
    """Wait for the sealed PDF (a job after the last signature) and download it."""
    deadline = time.monotonic() + SEAL_SECONDS
    download = page.get_by_role("link", name=TEXT["download_signed"])
    while True:
        page.goto(document_url)
        if download.count():
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"no sealed PDF {SEAL_SECONDS} s after the last signature")
        time.sleep(1)
    shot(page, "11-signed-document", REGION["page"], max_height=700)
    with page.expect_download() as started:
        download.click()
    path = folder / "signed.pdf"
    started.value.save_as(path)
    pdf_page_shot(path, "12-sealed-pdf")
    return path


def verify(page, pdf: Path) -> None:
    page.goto(URL["verify"])
    page.set_input_files(FIELD["verify_file"], str(pdf))
    page.get_by_role("button", name=TEXT["check"]).click()
    expect(page.locator(VERDICT_AUTHENTIC)).to_be_visible()
    shot(page, "13-verify", REGION["page"], max_height=850)


def follow_up(page) -> None:
    """The home dashboard and the board, now that one document went all the way."""
    page.goto(URL["home"])
    expect(page.locator(DASHBOARD_COUNT).first).to_be_visible()
    shot(page, "14-home", REGION["page"], max_height=900)
    page.goto(URL["board"])
    page.wait_for_load_state("networkidle")
    shot(page, "15-board", REGION["page"], max_height=700)


# --- console errors are failures (the Content-Security-Policy reports there) -----------------

def _watch_console(page) -> None:
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))


def _check_console(page) -> None:
    if page.console_errors:
        raise StepFailed(f"console errors on {page.url}: {page.console_errors}")


def _chromium() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise StepFailed("Chromium not found: install the Debian package chromium")
    return found


def walkthrough(base_url: str, email: str, password: str, folder: Path) -> None:
    stamp = _stamp_png(folder)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, base_url=base_url,
                                      device_scale_factor=1, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        _watch_console(page)
        state = {}
        steps = [
            ("log in", lambda: log_in(page, email, password)),
            ("create the document", lambda: state.update(url=create_document(page))),
            ("place the fields", lambda: place_fields(page, state["url"])),
            ("send it", lambda: send(page)),
            ("sign as the director", lambda: sign_as(
                browser, base_url, page, DIRECTOR_EMAIL, stamp, "09-director-sign", True)),
            ("sign as the client", lambda: sign_as(
                browser, base_url, page, CLIENT_EMAIL, stamp, "10-client-sign", False)),
            ("download the sealed PDF", lambda: state.update(
                pdf=download_sealed(page, state["url"], folder))),
            ("verify it", lambda: verify(page, state["pdf"])),
            ("follow it on the home page and the board", lambda: follow_up(page)),
        ]
        for name, step in steps:
            print(f"- {name}")
            try:
                step()
                _check_console(page)
            except (PlaywrightError, StepFailed, AttributeError) as failure:
                page.screenshot(path=folder / "failed.png", full_page=True)
                raise StepFailed(f"step “{name}” failed at {page.url}: {failure}\n"
                                 f"(the page as it was: {folder / 'failed.png'})") from failure
        browser.close()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="signet-screenshots-"))
    port = _free_port()
    server = None
    try:
        server, email, password = start_app(folder / "instance", port)
        print(f"Signet on http://127.0.0.1:{port}, instance {folder / 'instance'}")
        walkthrough(f"http://127.0.0.1:{port}", email, password, folder)
    except StepFailed as failure:
        print(f"make screenshots FAILED: {failure}", file=sys.stderr)
        print(f"(kept for a look: {folder})", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_app(server)
    if os.environ.get("SIGNET_SCREENSHOTS_KEEP"):
        print(f"The instance and the sealed PDF are kept for a look: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"Screenshots written to {OUT.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
