import re

import time_machine
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.models import AuditLog, User
from portal.automation.models import Delivery
from portal.extensions import db
from tests.factories import PASSWORD, make_user


def test_login_lands_staff_on_role_home_and_customer_in_portal(client):
    broker = make_user("broker")
    customer = make_user("customer")
    r = client.post("/login", data={"email": broker.email.upper(), "password": PASSWORD})
    assert r.status_code == 302
    assert client.get("/").headers["Location"].endswith("/pre-vendas/")
    client.post("/logout")
    r = client.post("/login", data={"email": customer.email, "password": PASSWORD}, follow_redirects=True)
    assert "Olá" in r.get_data(as_text=True) and r.request.path == "/personalizacao/portal"


def test_wrong_password_and_unknown_email_get_a_clear_message_and_no_session(client):
    user = make_user("sdr")
    for email, password in [(user.email, "errada123"), ("ninguem@exemplo.com.br", PASSWORD)]:
        r = client.post("/login", data={"email": email, "password": password})
        assert r.status_code == 422
        assert "E-mail ou senha incorretos." in r.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous: sent to login
    assert db.session.scalar(select(User.last_login_at).where(User.id == user.id)) is None


def test_inactive_user_cannot_log_in(client):
    user = make_user("broker")
    services.set_active(user, False)
    db.session.commit()
    r = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 422 and "desativado" in r.get_data(as_text=True)


def test_login_is_audited_with_ip(client):
    user = make_user("broker")
    client.post("/login", data={"email": user.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "user.login")).scalar_one()
    assert entry.user_id == user.id and entry.ip == "10.1.2.3"


def test_eleventh_login_attempt_in_a_minute_is_refused(client):
    user = make_user("broker")
    for _ in range(10):
        assert client.post("/login", data={"email": user.email, "password": "errada123"}).status_code == 422
    r = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 429
    assert "Muitas tentativas" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302  # the right password did not sneak in


def test_form_without_csrf_token_is_refused_and_changes_nothing(app, client):
    admin = make_user("admin")
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post("/admin/usuarios/novo", data={"name": "Intrusa", "email": "intrusa@exemplo.com.br",
                                                      "role": "admin", "team_id": ""})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert r.status_code == 400
    assert "CSRF" in r.get_data(as_text=True)
    assert services.find_user_by_email("intrusa@exemplo.com.br") is None


def test_password_reset_by_email_link_is_single_use(client, run_jobs):
    user = make_user("broker")
    r = client.post("/senha/esqueci", data={"email": user.email})
    assert r.status_code == 302
    delivery = db.session.execute(select(Delivery)).scalar_one()
    assert delivery.recipient == user.email and delivery.subject == "Redefinição de senha do Portal"
    link = re.search(r"http://localhost(/senha/redefinir/\S+)", delivery.body).group(1)
    assert client.get(link).status_code == 200
    r = client.post(link, data={"password": "novasenha99", "confirm": "novasenha99"})
    assert r.status_code == 302
    assert client.post("/login", data={"email": user.email, "password": "novasenha99"}).status_code == 302
    client.post("/logout")
    r = client.get(link)
    assert r.status_code == 400 and "já foi usado" in r.get_data(as_text=True)


def test_unknown_email_reset_answers_the_same_and_sends_nothing(client):
    r = client.post("/senha/esqueci", data={"email": "ninguem@exemplo.com.br"}, follow_redirects=True)
    assert "Se o e-mail estiver cadastrado" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Delivery.id))) == 0


def test_expired_reset_token_is_refused_and_password_unchanged(app, client):
    user = make_user("broker")
    with time_machine.travel("2026-01-05 10:00 +0000", tick=False):
        with app.test_request_context():
            token = services.reset_token(user)
    with time_machine.travel("2026-01-05 12:01 +0000", tick=False):
        r = client.post(f"/senha/redefinir/{token}", data={"password": "novasenha99", "confirm": "novasenha99"})
    assert r.status_code == 400 and "expirou" in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_tampered_reset_token_is_invalid(client):
    r = client.get("/senha/redefinir/abc.def.ghi")
    assert r.status_code == 400 and "inválido" in r.get_data(as_text=True)


def test_security_headers_and_cookie_flags(client):
    user = make_user("broker")
    r = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    cookies = r.headers.getlist("Set-Cookie")
    assert any(c.startswith("remember_token=") and "HttpOnly" in c for c in cookies)
    assert all("HttpOnly" in c for c in cookies)


def test_open_redirect_after_login_is_ignored(client):
    user = make_user("broker")
    r = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"] == "/"


def test_invitation_links_last_a_week_reset_links_two_hours(app, client):
    user = make_user("customer")
    with time_machine.travel("2026-01-05 10:00 +0000", tick=False):
        with app.test_request_context():
            invite, reset = services.reset_token(user, invitation=True), services.reset_token(user)
    with time_machine.travel("2026-01-08 10:00 +0000", tick=False):
        assert client.get(f"/senha/redefinir/{invite}").status_code == 200
        assert client.get(f"/senha/redefinir/{reset}").status_code == 400
    with time_machine.travel("2026-01-13 10:00 +0000", tick=False):
        assert client.get(f"/senha/redefinir/{invite}").status_code == 400
