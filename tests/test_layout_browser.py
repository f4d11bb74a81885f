"""Every back-office screen, and a signer's page, laid out without collisions from a small
phone (360 px) to a wide screen (1920 px), in every language (Chromium).

One browser context per language; each screen is opened once and the viewport resized in place
under it. What is measured at each width (MEASURE):

- the page does not scroll sideways (a board or a table may scroll inside its own box);
- no two visible controls (links, buttons, inputs, selects, summaries) overlap, unless one holds
  the other; each line of a wrapped link counts on its own;
- no label is cut or runs out of its box (buttons, labels, table heads, badges, terms of a
  definition list, ...): its content is not wider than its box. An element that ellipsizes on
  purpose says so with both `text-overflow: ellipsis` and a `title` holding the whole text.
  A select's chosen text fits beside its arrow;
- nothing is logged to the console as an error (a Content-Security-Policy refusal included), and
  no page answers 500.

Every failure is collected and the list reported at the end: screen, language, width, what.
"""

import os
from dataclasses import dataclass

import pytest

from portal.api.tokens import create_token
from portal.automation import services as automation
from portal.bulk import services as bulk
from portal.delivery.models import Message
from portal.delivery.redaction import as_sent
from portal.extensions import db
from portal.links import presign as presigning
from portal.links.services import publish as publish_link
from portal.parties.models import Company
from tests.bulk.support import batch_ceremony_url
from tests.documents.support import make_template, signet_company, user
from tests.factories import make_counterparty, make_department, make_user
from tests.helpers import browser_log_in
from tests.pipeline.support import at_client_signing, declined, draft, expired, stopped
from tests.signing.support import last_code
from tests.signing.support import sent_document as sent_with_every_field

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
LANGUAGES = ("en", "ru", "pt")
# Every screen at the narrowest phone, the narrowest desktop bar and a wide screen; the screens
# whose layout changes between them (grids, tables, the board) at a phone, a tablet and a small
# laptop too.
WIDTHS = (360, 1280, 1920)
BETWEEN = (390, 768, 1024)
DENSE = {"documents", "document", "pipeline", "template", "counterparty", "company",
         "user", "role", "webhook", "signing fields", "bulk check", "bulk batch",
         "batch signing chosen"}
SHOTS = os.environ.get("SIGNET_SCREENSHOTS")  # a folder: save each screen at each width there

# Controls that must not overlap, and labels that must not be cut.
MEASURE = """async () => {
  // After a resize, let the page's own media-query listeners run (the menu opens or closes).
  await new Promise(done => requestAnimationFrame(done));
  const root = document.documentElement;
  const shown = el => {  // rendered, seen (not in a closed <details>, not transparent), sized
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    if (el.closest('.visually-hidden')) return false;
    const box = el.getBoundingClientRect();
    return box.width > 2 && box.height > 2;
  };
  const name = el => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 40);
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + text + '"';
  };
  const failures = [];
  const overflow = root.scrollWidth - root.clientWidth;
  if (overflow > 0) {
    const wide = [...document.body.querySelectorAll('*')].filter(el => {
      const box = el.getBoundingClientRect();
      return box.right > root.clientWidth + 1 && box.width > 0;
    }).filter((el, _, all) => !all.some(other => other !== el && other.contains(el)));
    failures.push('the page scrolls sideways by ' + overflow + 'px: '
                  + wide.slice(0, 3).map(name).join(', '));
  }
  const controls = [...document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')].filter(shown);
  const pieces = controls.map(
    el => [el, [...el.getClientRects()].filter(r => r.width && r.height)]);
  for (let i = 0; i < pieces.length; i++) {
    for (let j = i + 1; j < pieces.length; j++) {
      const [a, aBoxes] = pieces[i], [b, bBoxes] = pieces[j];
      if (a.contains(b) || b.contains(a)) continue;
      const hit = aBoxes.some(p => bBoxes.some(q =>
        Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1
        && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1));
      if (hit) failures.push('overlap: ' + name(a) + ' / ' + name(b));
    }
  }
  const labels = [...document.querySelectorAll(
      'button, .button, label, .label, th, dt, .badge, summary, legend, .column-count, '
      + '.segmented span, .view-switch a')].filter(shown);
  for (const el of labels) {
    if (!el.clientWidth || el.scrollWidth <= el.clientWidth + 1) continue;
    const ellipsized = getComputedStyle(el).textOverflow === 'ellipsis' && el.title;
    if (!ellipsized) failures.push('cut: ' + name(el) + ' (' + el.scrollWidth + ' > '
                                   + el.clientWidth + 'px)');
  }
  // A select's chosen text must fit beside its arrow (about 20px in Chromium).
  const pen = document.createElement('canvas').getContext('2d');
  for (const el of document.querySelectorAll('select')) {
    const chosen = el.options[el.selectedIndex];
    if (!chosen || !shown(el)) continue;
    const style = getComputedStyle(el);
    pen.font = style.font;
    const room = el.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight) - 20;
    const text = chosen.text.trim(), needed = pen.measureText(text).width;
    if (needed > room + 1) failures.push('cut: ' + name(el) + ' shows "' + text + '" ('
                                         + Math.round(needed) + ' > ' + Math.round(room) + 'px)');
  }
  return failures;
}"""


@dataclass
class Seeded:
    """Ids of what the screens show."""

    document: int
    draft: int
    counterparty: int
    company: int
    template: int
    user: int
    role: int
    department: int
    webhook: int
    message: int
    signing_urls: dict  # language -> a link whose signer has not started yet
    batch_urls: dict  # language -> a batch ceremony's link (one document to sign on its own)
    signer_contact: str
    bulk_checked: int  # a batch on its check page (rows with errors among them)
    bulk_sent: int  # a batch sent, on its run's page
    link: int  # a public link to the template, and the path visitors open
    link_path: str
    presigned_link: int  # a pre-signed link waiting for our signer, and their invitation
    presign_path: str


# Long names, a row with errors and a duplicate: what the bulk pages must lay out.
BULK_SHEET = ("ФИО;Почта;Телефон;Сумма;Место\n"
              "Константинопольский Александр Владиславович;alexander.konstantinopolsky@"
              "example.com;;1 500,50;г. Санкт-Петербург\n"
              "Мария Силва;maria@example.com;+79161234567;2500;Лиссабон\n"
              "Без почты;not-an-email;;100;Порто\n").encode("cp1251")


def seed(admin_id: int) -> Seeded:
    """A portal with something on every screen: documents at every stage, parties, a template,
    a colleague in a department, a rule, a webhook, an API token (call in an app context)."""
    from portal.auth.models import Role

    admin = user(admin_id)
    # Our signer's turn, a stamp field among others: a link per language, each walked afresh.
    signings = {language: sent_with_every_field(admin_id) for language in LANGUAGES}
    signing = signings["en"]
    first_draft = draft(admin_id, title="Договор поставки оборудования № 17/2026")
    for make in (at_client_signing, declined, stopped, expired):
        make(admin_id)
    counterparty = make_counterparty(
        name="ООО «Северные технологии и логистика»", kind="company", email="office@north.example",
        tax_id="7701234567", phone="+79161234567")
    company = db.session.scalar(db.select(Company).order_by(Company.id)) or signet_company()
    template = make_template()
    batch_urls = {language: batch_ceremony_url(
        admin_id, template.id, [each.party_id, sent_with_every_field(
            admin_id, extra_fields=False).party_id], language)
        for language, each in signings.items()}
    department = make_department("Отдел продаж")
    colleague = make_user(email="maria.santos@example.com", name="Maria Santos da Conceição",
                          department=department)
    automation.create_rule(admin, {"name": "Remind the client", "trigger": "declined",
                                   "action": "notify_responsible"})
    webhook = automation.create_endpoint(admin, {"url": "https://crm.example.com/hooks",
                                                 "description": "CRM", "events": []})
    db.session.commit()
    create_token(admin, "Accounting export")
    checked = bulk.start_batch(admin, template.id, company.id, BULK_SHEET, "клиенты-декабрь.csv")
    sent = bulk.start_batch(user(admin_id), template.id, company.id, BULK_SHEET, "clients.csv")
    bulk.confirm(user(admin_id), sent.id, skip_invalid=True)
    link, link_token = publish_link(admin, None, template_id=template.id, company_id=company.id,
                                    title="Договор оказания услуг — стандартная оферта",
                                    max_uses=50, allowed_domains="north.example",
                                    values={"place": "Москва", "vat_rate": "20", "items": [
                                        {"name": "Разработка фирменного стиля", "quantity": "1",
                                         "unit": "усл.", "price": "125000"}]})
    offer, _not_asked = presigning.publish(admin, None, template_id=template.id,
                                           company_id=company.id, title="Оферта студии",
                                           presigned=True)
    presign_message = db.session.scalar(db.select(Message).where(Message.kind == "link_presign")
                                        .order_by(Message.id.desc()))
    presign_path = "/p/sign/" + as_sent(presign_message).body_text.split("/p/sign/", 1)[1] \
        .split()[0]
    role = db.session.scalar(db.select(Role).order_by(Role.id))
    invitation = db.session.scalar(db.select(Message.id).where(Message.kind == "signing-invitation")
                                   .order_by(Message.id))
    return Seeded(document=signing.document_id, draft=first_draft, counterparty=counterparty.id,
                  company=company.id, template=template.id, user=colleague.id, role=role.id,
                  department=department.id, webhook=webhook.id, message=invitation,
                  signing_urls={language: each.url for language, each in signings.items()},
                  batch_urls=batch_urls, signer_contact="director@signet.example",
                  bulk_checked=checked.id, bulk_sent=sent.id, link=link.id,
                  link_path=f"/p/{link_token}", presigned_link=offer.id,
                  presign_path=presign_path)


def back_office(seeded: Seeded) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("documents", "/documents"),
        ("document", f"/documents/{seeded.document}"),
        ("new document", "/documents/new"),
        ("fields", f"/documents/{seeded.draft}/fields"),
        ("pipeline", "/pipeline"),
        ("pipeline list", "/pipeline?view=list"),
        ("pipeline panel", f"/pipeline/documents/{seeded.document}"),
        ("templates", "/templates/"),
        ("bulk", "/bulk/"),
        ("bulk upload", "/bulk/new"),
        ("bulk check", f"/bulk/{seeded.bulk_checked}"),
        ("bulk batch", f"/bulk/{seeded.bulk_sent}"),
        ("template", f"/templates/{seeded.template}/edit"),
        ("vault", "/vault"),
        ("counterparties", "/counterparties"),
        ("counterparty", f"/counterparties/{seeded.counterparty}"),
        ("counterparty form", f"/counterparties/{seeded.counterparty}/edit"),
        ("companies", "/companies"),
        ("company", f"/companies/{seeded.company}"),
        ("company form", f"/companies/{seeded.company}/edit"),
        ("users", "/admin/users"),
        ("user", f"/admin/users/{seeded.user}/edit"),
        ("roles", "/admin/roles"),
        ("role", f"/admin/roles/{seeded.role}"),
        ("departments", "/admin/departments"),
        ("automation", "/automation/"),
        ("webhooks", "/admin/webhooks/"),
        ("webhook", f"/admin/webhooks/{seeded.webhook}"),
        ("outbox", "/outbox"),
        ("outbox message", f"/outbox/{seeded.message}"),  # the mail itself in a sandboxed frame
        ("sealing", "/admin/sealing"),
        ("profile", "/profile"),
        ("security log", "/admin/security"),
        ("verify", "/verify"),
        ("public links", "/links/"),
        ("public link", f"/links/{seeded.link}"),
        ("publish link", f"/links/new/{seeded.template}"),
        ("link values", f"/links/{seeded.link}/values"),
        ("public link visitor", seeded.link_path),
        ("pre-signed link", f"/links/{seeded.presigned_link}"),
        ("pre-sign invitation", seeded.presign_path),
    ]


class Walk:
    """One language's browser context and what went wrong in it."""

    def __init__(self, browser, base_url: str, language: str):
        self.language = language
        self.context = browser.new_context(viewport={"width": WIDTHS[0], "height": 800},
                                           base_url=base_url, locale=language)
        self.page = self.context.new_page()
        self.screen = "login"
        self.failures: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.fail(
            "-", "console: " + message.text))
        self.page.on("pageerror", lambda error: self.fail("-", f"script error: {error}"))
        self.page.on("response", lambda response: response.status >= 500 and self.fail(
            "-", f"{response.status} from {response.url}"))

    def fail(self, width, what: str) -> None:
        self.failures.append(f"{self.screen} [{self.language}, {width}px]: {what}")

    def visit(self, screen: str, url: str) -> None:
        self.screen = screen
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        self.page.goto(url, wait_until="domcontentloaded")  # what loads later is measured too
        self.measure()

    def measure(self) -> None:
        for width in WIDTHS + (BETWEEN if self.screen in DENSE else ()):
            self.page.set_viewport_size({"width": width, "height": 800})
            self.page.evaluate("window.scrollTo(0, 0)")  # nothing slides under the sticky bar
            for failure in self.page.evaluate(MEASURE):
                self.fail(width, failure)
            if SHOTS:
                name = f"{self.screen.replace(' ', '-')}-{self.language}-{width}.png"
                self.page.screenshot(path=os.path.join(SHOTS, name), full_page=True,
                                     caret="initial")  # hiding the caret injects a style


def test_every_screen_at_every_width_in_every_language(app, browser, live_server, admin):
    with app.app_context():
        seeded = seed(admin["id"])
    failures = []
    for language in LANGUAGES:
        walk = Walk(browser, live_server.url, language)
        try:
            browser_log_in(walk.page, admin["email"], PASSWORD)
            for screen, url in back_office(seeded):
                walk.visit(screen, url)
            walk.visit("signing", seeded.signing_urls[language])
            walk.page.locator("form[hx-post$='/consent'] button[type=submit]").click()
            walk.page.locator("input[name=code]").wait_for()
            walk.measure()
            with app.app_context():
                code = last_code(seeded.signer_contact)
            walk.page.fill("input[name=code]", code)
            walk.page.locator("input[name=code]").press("Enter")
            walk.page.locator("input[type=file]").first.wait_for(state="attached")
            walk.screen = "signing fields"
            walk.measure()
            walk.visit("batch signing", seeded.batch_urls[language])
            walk.page.locator("form[action$='/consent'] button[type=submit]").click()
            walk.page.locator("input[name=code]").wait_for()
            with app.app_context():
                code = last_code(seeded.signer_contact)
            walk.page.fill("input[name=code]", code)
            walk.page.locator("input[name=code]").press("Enter")
            walk.page.locator("input.bundle-check").first.wait_for()
            walk.screen = "batch signing chosen"
            walk.measure()
        finally:
            walk.context.close()
        failures += walk.failures
    assert not failures, f"{len(failures)} collisions:\n" + "\n".join(failures)
