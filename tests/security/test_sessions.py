"""Issue 15 item 2: logout, a password change or reset, deactivation and the admin button end every session.

Each test logs in, keeps the cookies the browser got, makes the change, then replays each cookie alone in a
fresh client (another device, or an attacker who copied it): it must land on the login page."""
import hashlib
import http.cookiejar as cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
import time_machine
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import event, select

from portal.accounts import services, sessions
from portal.accounts.models import AuditLog, RememberToken, User
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.factories import PASSWORD, make_user

PAGE = "/inicio"  # any page that needs a staff login


class Device(FlaskClient):
    """A browser of its own. The test's app context is reused by every request of the test, and with it
    Flask-Login's cached user in `g`: forget it, so each request loads its user from its own cookies as a
    separate process would. The response is closed, as a server closes it (its close callbacks run)."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


def new_device(app):
    return Device(app, app.response_class, use_cookies=True)


def log_in(app, user, remember=True, password=PASSWORD):
    """A new device: its own client, logged in. Returns (client, session cookie, remember cookie or None)."""
    device = new_device(app)
    r = device.post("/login", data={"email": user.email, "password": password, "remember": "y" if remember else ""})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    remember_cookie = device.get_cookie(sessions.REMEMBER_COOKIE)
    return device, device.get_cookie("session").value, remember_cookie.value if remember_cookie else None


def replay(app, name, value):
    """The page as seen by a browser holding only this one cookie."""
    other = new_device(app)
    other.set_cookie(name, value)
    return other.get(PAGE)


def assert_logged_out(response):
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code


def assert_cookies_dead(app, session_cookie, remember_cookie):
    assert_logged_out(replay(app, "session", session_cookie))
    assert_logged_out(replay(app, sessions.REMEMBER_COOKIE, remember_cookie))


def test_both_cookies_log_a_device_in_until_logout_and_never_after(app):
    user = make_user("broker")
    device, session_cookie, remember_cookie = log_in(app, user)
    assert replay(app, "session", session_cookie).status_code == 200
    assert replay(app, sessions.REMEMBER_COOKIE, remember_cookie).status_code == 200  # a browser restarted

    assert device.post("/logout").status_code == 302
    assert_cookies_dead(app, session_cookie, remember_cookie)
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "user.logout",
                                                       AuditLog.object_id == str(user.id))) is not None


def test_logout_ends_the_sessions_of_every_device(app):
    user = make_user("broker")
    laptop, laptop_session, laptop_remember = log_in(app, user)
    phone, _, _ = log_in(app, user)
    phone.post("/logout")
    assert_cookies_dead(app, laptop_session, laptop_remember)
    assert_logged_out(laptop.get(PAGE))


def test_a_password_change_on_one_device_ends_the_others_and_keeps_this_one(app):
    user = make_user("broker")
    _, old_session, old_remember = log_in(app, user)
    desk, _, _ = log_in(app, user)
    r = desk.post("/conta/senha", data={"current": PASSWORD, "password": "Nova-senha-forte-2026",
                                        "confirm": "Nova-senha-forte-2026"})
    assert r.status_code == 302
    assert_cookies_dead(app, old_session, old_remember)
    assert desk.get(PAGE).status_code == 200  # the device that changed it goes on, with a new remember cookie
    assert replay(app, sessions.REMEMBER_COOKIE, desk.get_cookie(sessions.REMEMBER_COOKIE).value).status_code == 200
    log_in(app, user, password="Nova-senha-forte-2026")


def test_a_wrong_current_password_changes_nothing(app):
    user = make_user("broker")
    _, old_session, _ = log_in(app, user)
    desk, _, _ = log_in(app, user)
    r = desk.post("/conta/senha", data={"current": "nao-e-essa", "password": "Nova-senha-forte-2026",
                                        "confirm": "Nova-senha-forte-2026"})
    assert r.status_code == 422 and "Senha atual incorreta." in r.get_data(as_text=True)
    assert replay(app, "session", old_session).status_code == 200
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_a_password_reset_ends_every_session(app):
    user = make_user("broker")
    _, session_cookie, remember_cookie = log_in(app, user)
    with app.test_request_context():
        token = services.reset_token(user)
    r = new_device(app).post(f"/senha/redefinir/{token}", data={"password": "Nova-senha-forte-2026",
                                                                  "confirm": "Nova-senha-forte-2026"})
    assert r.status_code == 302
    assert_cookies_dead(app, session_cookie, remember_cookie)


def test_deactivation_ends_every_session(app):
    admin = make_user("admin")
    user = make_user("broker")
    _, session_cookie, remember_cookie = log_in(app, user)
    admin_device, _, _ = log_in(app, admin, remember=False)
    assert admin_device.post(f"/admin/usuarios/{user.id}/ativo").status_code == 302
    assert_cookies_dead(app, session_cookie, remember_cookie)
    assert admin_device.post(f"/admin/usuarios/{user.id}/ativo").status_code == 302  # back at work next month:
    assert_cookies_dead(app, session_cookie, remember_cookie)  # the cookies of before stay dead


def test_the_admin_button_ends_every_session_of_that_person(app):
    admin = make_user("admin")
    user = make_user("broker")
    _, session_cookie, remember_cookie = log_in(app, user)
    admin_device, _, _ = log_in(app, admin, remember=False)
    page = admin_device.get(f"/admin/usuarios/{user.id}").get_data(as_text=True)
    assert "Encerrar todas as sessões" in page
    r = admin_device.post(f"/admin/usuarios/{user.id}/sessoes/encerrar")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/admin/usuarios/{user.id}")
    assert_cookies_dead(app, session_cookie, remember_cookie)
    assert admin_device.get(PAGE).status_code == 200  # the admin's own session is untouched
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "user.sessions_ended")).scalar_one()
    assert entry.user_id == admin.id and entry.object_id == str(user.id)


def test_only_admins_and_managers_of_that_person_may_end_their_sessions(app):
    user = make_user("broker")
    _, session_cookie, _ = log_in(app, user)
    colleague, _, _ = log_in(app, make_user("broker"), remember=False)
    assert colleague.post(f"/admin/usuarios/{user.id}/sessoes/encerrar").status_code == 403
    assert replay(app, "session", session_cookie).status_code == 200


def test_each_login_gets_its_own_remember_token_stored_only_as_a_hash_and_revocable_alone(app):
    user = make_user("broker")
    _, _, first = log_in(app, user)
    _, _, second = log_in(app, user)
    assert first != second
    stored = db.session.execute(select(RememberToken.token_hash).where(RememberToken.user_id == user.id)).scalars()
    assert sorted(stored) == sorted(hashlib.sha256(c.encode()).hexdigest() for c in (first, second))

    with app.test_request_context():
        assert sessions.revoke_remember_token(first)
        db.session.commit()
    assert_logged_out(replay(app, sessions.REMEMBER_COOKIE, first))
    assert replay(app, sessions.REMEMBER_COOKIE, second).status_code == 200


def test_a_remember_token_expires_and_records_its_last_use(app):
    user = make_user("broker")
    start = utcnow()
    with time_machine.travel(start, tick=False):
        _, _, cookie = log_in(app, user)
    with time_machine.travel(start + timedelta(days=29), tick=False):
        assert replay(app, sessions.REMEMBER_COOKIE, cookie).status_code == 200
        db.session.expire_all()
        used = db.session.execute(select(RememberToken.last_used_at)).scalar_one()
        assert used == start + timedelta(days=29)
    with time_machine.travel(start + timedelta(days=31), tick=False):
        response = replay(app, sessions.REMEMBER_COOKIE, cookie)
    assert_logged_out(response)
    cleared = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{sessions.REMEMBER_COOKIE}=")]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]  # the dead cookie leaves the browser


def test_session_cookies_from_before_generations_no_longer_work(app):
    """The cookie every session had until now ("_user_id": "<id>"): a deploy of this change ends them."""
    user = make_user("broker")
    with app.test_request_context():
        old = app.session_interface.get_signing_serializer(app).dumps({"_user_id": str(user.id), "_fresh": True})
    assert_logged_out(replay(app, "session", old))


def test_remember_cookie_flags_follow_the_settings(app):
    user = make_user("broker")
    app.config["REMEMBER_COOKIE_SECURE"] = True
    try:
        r = new_device(app).post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    finally:
        app.config["REMEMBER_COOKIE_SECURE"] = False
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith(f"{sessions.REMEMBER_COOKIE}="))
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} <= {p.strip() for p in cookie.split(";")}
    assert f"Max-Age={app.config['REMEMBER_COOKIE_DURATION']}" in cookie  # one login lasts the configured time


def test_a_session_costs_one_query_to_load_and_none_on_remember_tokens(app):
    user = make_user("broker")
    device, _, _ = log_in(app, user)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    session_id = user.get_id()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with app.test_request_context():
            db.session.expunge_all()  # nothing cached: the loader has to go to the database
            assert sessions.user_for_session_id(session_id).id == user.id
            loader_statements = list(statements)
        assert device.get(PAGE).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(loader_statements) == 1 and "FROM users" in loader_statements[0]
    assert not [s for s in statements if "remember_tokens" in s]  # the live session never looks at them


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(opener, url, data=None, cookie=None):
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data else None)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with opener.open(request, timeout=10) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def test_over_real_http_cookies_saved_before_logout_are_refused(app, live_server):
    user = make_user("broker")
    jar = cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    assert http(browser, live_server + "/login", {"email": user.email, "password": PASSWORD, "remember": "y"})[0] == 302
    saved = {c.name: c.value for c in jar}
    assert set(saved) >= {"session", sessions.REMEMBER_COOKIE}
    bare = urllib.request.build_opener(NoRedirect)
    for name, value in saved.items():
        assert http(bare, live_server + PAGE, cookie=f"{name}={value}")[0] == 200, name
    assert http(browser, live_server + "/logout", {"x": "1"})[0] == 302
    for name, value in saved.items():
        status, headers = http(bare, live_server + PAGE, cookie=f"{name}={value}")
        assert status == 302 and re.search(r"/login\b", headers["Location"]), name
