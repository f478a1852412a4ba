"""Issue 15, item 10's headers: whatever a signed-in user gets (pages, exports, report files) carries
`Cache-Control: no-store`, static assets stay cacheable, and neither `portal run` nor gunicorn names its
version in a `Server` header — checked on the test client for every GET route and on real processes."""
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from portal.extensions import db
from tests.factories import give_unit, make_development, make_user
from tests.runtime.test_web_sw_openapi import NoRedirect, fetch, free_port
from tests.security.test_csv_exports import _urls


def _walk(app, client):
    for rule, url in _urls(app):
        try:
            yield url, client.get(url)
        except Exception:  # noqa: BLE001 - a page failing on made-up ids is other suites' business
            continue


@pytest.mark.parametrize("role", ["admin", "customer"])
def test_every_response_to_a_signed_in_user_is_no_store(app, client, login_as, run_jobs, role):
    dev = make_development()
    user = make_user(role)
    if role == "customer":
        give_unit(user, dev.towers[0].units[0])
    login_as(user)
    if role == "admin":  # so the walk also downloads a report file (run 1) and the CSV exports
        assert client.post("/relatorios/accounts.users", data={"format": "csv"}).status_code == 303
        run_jobs()
    seen, wrong = 0, []
    for url, r in _walk(app, client):
        seen += 1
        if "no-store" not in r.headers.get("Cache-Control", ""):
            wrong.append((url, r.status_code, r.headers.get("Cache-Control")))
    assert seen > 100 and wrong == []
    if role == "admin":
        r = client.get("/relatorios/execucoes/1/arquivo")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


def test_static_assets_stay_cacheable_for_a_signed_in_user(client, login_as):
    login_as(make_user("admin"))
    r = client.get("/static/css/app.css")
    assert r.status_code == 200 and "no-store" not in r.headers.get("Cache-Control", "")
    assert client.get("/inicio").headers["Cache-Control"] == "no-store"


def test_a_signed_out_visitor_does_not_load_a_user_for_the_header(client):
    # /offline must not load the user (see portal.web.views.offline): no cookie comes back.
    r = client.get("/offline")
    assert r.status_code == 200 and not r.headers.get_all("Set-Cookie")


# ---- real servers ----------------------------------------------------------------------------------------

@pytest.fixture(params=["portal run", "gunicorn"])
def server(request, app):
    """A real web process on this test's database and Redis (CSRF on, as in production)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": os.environ.get("REDIS_URL", ""), "PYTHONUNBUFFERED": "1"}
    if request.param == "portal run":
        cmd = [sys.executable, "-m", "portal.cli", "run", "--port", str(port), "--no-worker"]
    else:
        cmd = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "portal:create_app()"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, f"{request.param} did not answer in 60 s"
            try:
                with urllib.request.urlopen(url + "/login", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)  # polling a real condition (the port answers), with a deadline
        yield request.param, url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_real_server_hides_its_version_and_signed_in_pages_are_no_store(server):
    name, url = server
    admin = make_user("admin")
    db.session.commit()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    status, headers, page = fetch(opener, url + "/login")
    assert status == 200 and "no-store" not in (headers.get("Cache-Control") or "")  # nobody signed in yet
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    status, _, _ = fetch(opener, url + "/login", {"csrf_token": csrf, "email": admin.email,
                                                   "password": "segredo123"})
    assert status == 302
    responses = {path: fetch(opener, url + path) for path in
                 ("/inicio", "/personalizacao/compradores/exportar.csv", "/static/css/app.css")}
    for path, (status, headers, _) in [("/login", (200, headers, page)), *responses.items()]:
        assert status == 200, (name, path)
        server_header = headers.get("Server")
        if name == "portal run":
            assert server_header is None, path
        else:  # gunicorn always names itself; what matters is that it tells no version, no Python
            assert server_header and not re.search(r"\d|werkzeug|python", server_header, re.I), server_header
    assert responses["/inicio"][1]["Cache-Control"] == "no-store"
    assert responses["/personalizacao/compradores/exportar.csv"][1]["Cache-Control"] == "no-store"
    assert "no-store" not in (responses["/static/css/app.css"][1].get("Cache-Control") or "")
