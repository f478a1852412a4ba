"""Browser fixtures: the session app served on 127.0.0.1, Debian's Chromium driven by Playwright, and a
`page` per test at phone (375x812) and desktop (1280x800) sizes that saves screenshots to tests/artifacts/."""
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_MISSING = not os.path.exists(CHROMIUM)
SKIP_REASON = f"Chromium not found at {CHROMIUM} (install Debian's chromium package to run browser tests)"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 800}}

# Every module here should also say `pytestmark = BROWSER` so the marker is visible where the tests live.
BROWSER = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM_MISSING, reason=SKIP_REASON)]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            for mark in BROWSER:
                item.add_marker(mark)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def live_server(app):
    """The session app on a random port, one thread per request, like a small real deployment."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_url(app, live_server):
    """CSRF protection on while a browser talks to the app: real browsers post the real token."""
    old = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    yield live_server
    app.config["WTF_CSRF_ENABLED"] = old


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM_MISSING:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def new_context(browser, base_url, viewport, timeout_ms=10_000):
    """A browser context as a Brazilian user's phone or laptop: own cookies, pt-BR, São Paulo time."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[viewport], locale="pt-BR",
                                  timezone_id="America/Sao_Paulo", is_mobile=viewport == "phone",
                                  has_touch=viewport == "phone")
    context.set_default_timeout(timeout_ms)
    return context


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture
def page(request, browser, live_url, viewport):
    """A fresh browser context (own cookies and storage) at the test's viewport.

    `page.shot("name")` saves tests/artifacts/name-<viewport>.png (full page). A failing test leaves
    FAILED-<test>.png behind. Uncaught JS errors and CSP violations fail the test."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, live_url, viewport)
    pg = context.new_page()
    problems = []
    pg.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console: {msg.text}")
          if msg.type == "error" and "Content Security Policy" in msg.text else None)

    def shot(name):
        path = ARTIFACTS / f"{name}-{viewport}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    pg.shot = shot
    pg.viewport_name = viewport
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        safe = re.sub(r"[^\w.-]+", "_", request.node.name)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"FAILED-{safe}.png"), full_page=True)
        except Exception:  # the page may already be gone; the failure itself is what matters
            pass
    context.close()
    assert not problems, problems
