"""The page crawl: every demo role, every page it can reach, at phone and desktop width, in Chromium.

Each role logs in through the real form and walks the links it is shown (breadth first, one page per URL
shape, bounded). Every page must have: no sideways scroll of the document, no table or control cut off (a
table may scroll inside a scroll container on a phone; at desktop width only containers marked
`data-scroll-x` — the Kanban board — may scroll), no console or JS error, no link answering 4xx/5xx to that
role, no raw identifier on screen (snake_case keys, `appointment.cancelled`, `Account #13`, JSON), a label on
every input, pt-BR dates and money, and no serious or critical axe-core finding. Screenshots land in
tests/artifacts/crawl/ with an index.html that shows every page at both widths side by side."""
import html
import json
import re
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from portal.extensions import db
from portal.web.demo import DEMO_PASSWORD
from tests.browser.conftest import ARTIFACTS, BROWSER, VIEWPORTS, new_context

pytestmark = BROWSER

CRAWL_DIR = ARTIFACTS / "crawl"
MAX_PAGES = 250          # per role and width: every URL shape the demo shows stays below this
LINKS_PER_SHAPE = 3      # links checked for their status per URL shape (the rest are the same route)
ROLES = {                # one demo login per role; co-buyers and the second manager see the same screens
    "admin": "admin@demo.portal",
    "manager": "gestor@demo.portal",
    "sdr": "sdr@demo.portal",
    "broker": "corretora@demo.portal",
    "cs_leader": "lider.cs@demo.portal",
    "csm": "csm@demo.portal",
    "personalization": "personalizacao@demo.portal",
    "customer": "cliente@demo.portal",
}
PUBLIC_STARTS: list[str] = []   # filled by `demo_site` (they need the demo's slugs and tokens)
# Never followed: they change state on GET by design (none should) or leave the app.
SKIP_PATHS = re.compile(r"^/(static|logout)\b|\.(png|jpe?g|svg|ico|webmanifest)$")

# One pass over the rendered page; returns what a person would see as broken.
PAGE_CHECKS = r"""(vw) => {
  const out = [];
  // The configured width, not innerWidth: a phone (is_mobile) widens its layout viewport to fit content.
  if (window.innerWidth > vw) out.push(`layout viewport widened to ${window.innerWidth}px by content wider than ${vw}px`);
  const desktop = vw >= 1024;
  const doc = document.documentElement;
  if (doc.scrollWidth > vw + 1) out.push(`document scrolls sideways: ${doc.scrollWidth}px > ${vw}px`);
  const describe = (el) => {
    const id = el.id ? '#' + el.id : '';
    const cls = (el.className && typeof el.className === 'string') ? '.' + el.className.trim().split(/\s+/).join('.') : '';
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return `<${el.tagName.toLowerCase()}${id}${cls}> "${text}"`;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none';
  };
  // A scroll container that is allowed to scroll sideways: on phones any overflow-x auto/scroll box, on
  // desktops only the ones the design says scroll (the board).
  const scrollsX = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || !scrollsX(el) || el.scrollWidth <= el.clientWidth + 1) continue;
    if (desktop && !el.closest('[data-scroll-x]')) out.push(`scrolls sideways at desktop width: ${describe(el)} ${el.scrollWidth}px in ${el.clientWidth}px`);
  }
  for (const el of document.querySelectorAll('table, input, select, textarea, button, a.button, .button')) {
    if (!visible(el) || el.type === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.right <= 0 || r.bottom <= 0) continue;   // moved off screen on purpose (skip links, the bots' honeypot)
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (scrollsX(p)) break;   // reachable by scrolling that box
      if (['hidden', 'clip'].includes(s.overflowX)) {
        const pr = p.getBoundingClientRect();
        if (r.right > pr.right + 1 || r.left < pr.left - 1) { clipped = true; break; }
      }
    }
    if (!clipped && !el.closest('[data-scroll-x]') && !(() => { for (let p = el.parentElement; p; p = p.parentElement) if (scrollsX(p)) return true; return false; })()) {
      if ((r.right > vw + 1 && r.left < vw) || (r.left < -1 && r.right > 0)) clipped = true;
    }
    if (clipped) out.push(`cut off: ${describe(el)} (right edge ${Math.round(r.right)}px)`);
  }
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)) continue;
    if (el.labels && el.labels.length) continue;
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) continue;
    out.push(`input without a label: ${el.outerHTML.slice(0, 120)}`);
  }
  // What the person reads: visible text outside code samples (placeholders are shown as <code>).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('code, pre, kbd, textarea, script, style, template, [hidden], [aria-hidden="true"]')) continue;
    const t = n.textContent.trim();
    if (t && el.offsetParent !== null) texts.push(t);
  }
  return {problems: out, text: texts.join('\n')};
}"""

EMAIL_OR_URL = re.compile(r"\S*@\S*|https?://\S+|\b[\w-]+(\.[\w-]+)+/\S*|\b\w+\.(com|br|portal|org|net)\b\S*")
RAW_TEXT = [
    (re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"), "snake_case key"),
    (re.compile(r"\b[a-z]+\.(?!(?:png|jpe?g|gif|webp|pdf|csv|xlsx|ics|zip|txt)\b)[a-z_]{3,}\b"), "dotted event key"),
    (re.compile(r"\b[A-Z][A-Za-z]+ #\d+\b"), "model name and id"),
    (re.compile(r"\{\s*\"[^\"]+\"\s*:|\[\s*\{\s*\""), "raw JSON"),
    (re.compile(r"\\u00[0-9a-f]{2}"), "escaped accent"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?"), "ISO date (pt-BR is dd/mm/aaaa)"),
    (re.compile(r"(?<!R)\$\s?\d|R\$\s?\d{1,3}(?:,\d{3})+\.\d{2}\b"), "money not in R$ 1.234,56"),
    (re.compile(r"\b(None|null|undefined|NaN|True|False)\b"), "raw value"),
    (re.compile(r"has no attribute|Traceback|jinja2\.", re.I), "English error"),
]


def raw_text_findings(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        clean = EMAIL_OR_URL.sub(" ", line)
        for pattern, what in RAW_TEXT:
            m = pattern.search(clean)
            if m:
                found.append(f"{what}: {m.group(0)!r} in {line.strip()[:80]!r}")
    return found


def shape(url: str) -> str:
    """One page per route: ids become #, tokens ~, and the query is dropped (a filtered list is the same
    template; the first link found to each route is the one visited)."""
    path = re.sub(r"/\d+(?=/|$)", "/#", urlsplit(url).path)
    return re.sub(r"/[0-9a-f]{8,}(?=/|$)|/[\w-]{20,}(?=/|$)", "/~", path)  # tokens and hashes


@pytest.fixture(autouse=True)
def _clean():
    """The crawl shares one demo data set across its tests (see `demo_site`), so the per-test wipe is off."""
    yield


@pytest.fixture(scope="module")
def demo_site(app):
    from tests.conftest import _truncate
    from portal import jobs
    from portal.web.demo import load_demo

    from sqlalchemy import select
    from portal.automation.services import unsubscribe_token
    from portal.realestate.models import Development

    with app.app_context():
        _truncate()
        load_demo()
        db.session.commit()
        slug = db.session.execute(select(Development.slug).order_by(Development.id)).scalars().first()
        # What a visitor reaches without logging in: from the login page, a development's ads, e-mails.
        PUBLIC_STARTS[:] = ["/login", "/offline", "/personalizacao/verificar", f"/f/{slug}", f"/f/{slug}/obrigado",
                            f"/automacao/descadastrar/{unsubscribe_token('email', 'visitante@example.com')}"]
        db.session.remove()
    CRAWL_DIR.mkdir(parents=True, exist_ok=True)
    for old in CRAWL_DIR.glob("*"):
        old.unlink()
    yield
    with app.app_context():
        db.session.remove()
        _truncate()
        jobs.get_redis().flushdb()
    write_index()


def login(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{email} could not log in"


def crawl(browser, base, role, email, viewport):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = new_context(browser, base, viewport, timeout_ms=15_000)
    page = context.new_page()
    console = []
    page.on("pageerror", lambda exc: console.append(f"JS error: {exc}"))
    page.on("console", lambda msg: console.append(f"console error: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: console.append(f"resource answers {r.status}: {r.url[len(base):]}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    findings, visited = {}, []
    if email:
        login(page, email)
        starts = [page.url]
    else:
        starts = [base + path for path in PUBLIC_STARTS]
    queue, seen_shapes, checked = deque(starts), set(), {}
    link_status = {}
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        if shape(url) in seen_shapes:
            continue
        seen_shapes.add(shape(url))
        console.clear()
        t0 = time.perf_counter()
        try:
            response = page.goto(url)
        except PlaywrightError as exc:   # a file download (CSV, PDF, ICS): its status was checked as a link
            if "Download is starting" in str(exc):
                continue
            raise
        problems = []
        if response is None or response.status >= 400:
            problems.append(f"answers {response.status if response else 'nothing'}")
        ctype = (response.headers.get("content-type", "") if response else "")
        if "text/html" not in ctype:
            continue
        t1 = time.perf_counter()
        result = page.evaluate(PAGE_CHECKS, VIEWPORTS[viewport]["width"])
        problems += result["problems"] + raw_text_findings(result["text"]) + list(console)
        t2 = time.perf_counter()
        for v in axe.run(page).response["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = ", ".join(str(n["target"]) for n in v["nodes"][:3])
                problems.append(f"axe {v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {targets})")
        slug = re.sub(r"[^\w]+", "_", shape(url).replace("#", "id").replace("~", "token")).strip("_") or "home"
        shot = f"{role}-{slug}-{viewport}.png"
        t3 = time.perf_counter()
        page.screenshot(path=str(CRAWL_DIR / shot), full_page=True)
        t4 = time.perf_counter()
        visited.append({"url": url, "shape": shape(url), "shot": shot, "title": page.title(),
                        "seconds": {"load": t1 - t0, "checks": t2 - t1, "axe": t3 - t2, "shot": t4 - t3}})
        hrefs = page.eval_on_selector_all(
            "a[href]", "els => els.map(a => new URL(a.getAttribute('href'), document.baseURI).href)")
        for href in hrefs:
            parts = urlsplit(href)
            if parts.scheme not in ("http", "https") or not href.startswith(base) or SKIP_PATHS.search(parts.path):
                continue
            href = href.split("#")[0]
            s = shape(href)
            if href not in link_status and checked.get(s, 0) < LINKS_PER_SHAPE:
                checked[s] = checked.get(s, 0) + 1
                link_status[href] = context.request.get(href, max_redirects=5).status
            if link_status.get(href, 200) >= 400:
                problems.append(f"link answers {link_status[href]}: {href[len(base):]}")
            if s not in seen_shapes:
                queue.append(href)
        visited[-1]["seconds"]["links"] = time.perf_counter() - t4
        if problems:
            findings[url[len(base):]] = sorted(set(problems))
    context.close()
    (CRAWL_DIR / f"{role}-{viewport}.json").write_text(json.dumps({"pages": visited, "findings": findings},
                                                                    ensure_ascii=False, indent=1))
    return visited, findings


def write_index():
    """tests/artifacts/crawl/index.html: per role, every page with its phone and desktop screenshots."""
    rows = []
    for role in ["anonymous", *ROLES]:
        pages = {}
        for viewport in VIEWPORTS:
            path = CRAWL_DIR / f"{role}-{viewport}.json"
            if path.exists():
                data = json.loads(path.read_text())
                for p in data["pages"]:
                    pages.setdefault(p["shape"], {})[viewport] = p
                for url, problems in data["findings"].items():
                    pages.setdefault(shape(url), {}).setdefault("problems", []).extend(
                        f"[{viewport}] {x}" for x in problems)
        if not pages:
            continue
        rows.append(f"<h2 id='{role}'>{role} — {len(pages)} páginas</h2>")
        for s, p in pages.items():
            title = html.escape((p.get("desktop") or p.get("phone") or {}).get("title", s))
            cells = "".join(f"<a href='{p[v]['shot']}'><img loading='lazy' src='{p[v]['shot']}' class='{v}'></a>"
                            for v in VIEWPORTS if v in p)
            issues = "".join(f"<li>{html.escape(x)}</li>" for x in p.get("problems", []))
            rows.append(f"<section><h3>{title} <small>{html.escape(s)}</small></h3><div>{cells}</div>"
                        f"{'<ul class=bad>' + issues + '</ul>' if issues else ''}</section>")
    nav = " · ".join(f"<a href='#{r}'>{r}</a>" for r in ["anonymous", *ROLES])
    (CRAWL_DIR / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>Portal — todas as páginas</title><style>"
        "body{font:14px system-ui;margin:1rem}section{display:inline-block;vertical-align:top;margin:.35rem;"
        "border:1px solid #ccc;padding:.4rem;width:440px;box-sizing:border-box}h3{font-size:12px;margin:0 0 .3rem;white-space:nowrap;"
        "overflow:hidden;text-overflow:ellipsis}img{height:220px;border:1px solid #ddd;margin-right:.3rem;"
        "vertical-align:top;object-fit:cover;object-position:top}img.phone{width:100px}img.desktop{width:310px}"
        ".bad{color:#a00;font-size:12px}</style>"
        f"<h1>Portal — todas as páginas</h1><p>{nav}</p>" + "\n".join(rows), encoding="utf-8")


@pytest.mark.timeout(900)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_every_page_reachable_by_a_role_looks_finished(browser, live_url, demo_site, role, viewport):
    visited, findings = crawl(browser, live_url, role, ROLES.get(role), viewport)
    assert len(visited) >= 3, f"{role} reached only {[p['url'] for p in visited]}"
    report = "\n".join(f"{url}\n  " + "\n  ".join(problems) for url, problems in findings.items())
    assert not findings, f"{role} at {viewport}: {len(findings)} of {len(visited)} pages with findings\n{report}"
