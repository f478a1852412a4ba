"""A deploy reaches a browser that installed the service worker: Chromium installs it from a real `portal run`,
the server restarts with a changed CSS file, one reload shows the new CSS and the old build's cache is gone."""
import json

import pytest

from portal.web.views import static_version
from tests.runtime.test_web_sw_openapi import PortalRun, static_copy

pytestmark = pytest.mark.browser

BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"
CACHES = "async () => (await caches.keys()).sort()"


def test_a_deploy_reaches_a_browser_that_installed_the_worker(browser, tmp_path):
    static = static_copy(tmp_path)
    server = PortalRun(tmp_path, static)
    server.start()
    context = browser.new_context()
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(server.url + "/login")
        page.evaluate("async () => { await navigator.serviceWorker.ready; }")  # installed and active
        page.reload()  # now controlled: the CSS comes through the worker (cache-first)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        old_background = page.evaluate(BACKGROUND)
        assert page.evaluate(CACHES) == [f"portal-shell-{static_version(str(static))}"]

        server.stop()
        css = static / "css" / "app.css"
        css.write_text(css.read_text() + "\nbody { background-color: rgb(1, 2, 3) !important; }\n")
        server.start()
        page.reload()
        assert page.evaluate(BACKGROUND) == "rgb(1, 2, 3)" != old_background
        new_cache = f"portal-shell-{static_version(str(static))}"
        page.wait_for_function(f"async () => JSON.stringify((await caches.keys()).sort()) === "
                               f"JSON.stringify({json.dumps([new_cache])})")
    finally:
        context.close()
        server.stop()
