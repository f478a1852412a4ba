"""Login throttling and audit (issue 15, item 3): failures are audited and limited per account and per IP,
successes never count, and an unknown e-mail costs the same hash check as a known one."""
import hashlib

import pytest
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import AuditLog
from portal.extensions import db
from tests.factories import PASSWORD, make_user


def _post(client, email, password, ip="203.0.113.10"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def _failures():
    db.session.expire_all()
    rows = db.session.execute(select(AuditLog).where(AuditLog.action == "user.login_failed")
                              .order_by(AuditLog.id)).scalars()
    return [(r.details["email"], r.details["reason"], r.ip, r.object_id, r.user_id) for r in rows]


def test_every_failed_login_is_audited_with_email_ip_and_reason(client):
    known = make_user("broker")
    inactive = make_user("sdr")
    services.set_active(inactive, False)
    invited = services.create_user({"name": "Convidada Souza", "email": "convidada@exemplo.com.br",
                                    "role": "customer"})  # no password until the invitation is accepted
    db.session.commit()

    assert _post(client, known.email.upper(), "errada123", ip="10.0.0.1").status_code == 422
    assert _post(client, "ninguem@exemplo.com.br", PASSWORD, ip="10.0.0.2").status_code == 422
    assert _post(client, inactive.email, PASSWORD, ip="10.0.0.3").status_code == 422
    assert _post(client, invited.email, "qualquer-coisa", ip="10.0.0.4").status_code == 422

    assert _failures() == [
        (known.email, "wrong_password", "10.0.0.1", str(known.id), None),
        ("ninguem@exemplo.com.br", "unknown_email", "10.0.0.2", None, None),
        (inactive.email, "inactive", "10.0.0.3", str(inactive.id), None),
        (invited.email, "password_not_set", "10.0.0.4", str(invited.id), None),
    ]


@pytest.fixture
def hash_calls(monkeypatch):
    """Every key derivation werkzeug makes (the test config hashes with pbkdf2), with its algorithm and cost."""
    calls, real = [], hashlib.pbkdf2_hmac

    def spy(hash_name, password, salt, iterations, *args, **kwargs):
        calls.append((hash_name, iterations))
        return real(hash_name, password, salt, iterations, *args, **kwargs)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", spy)
    return calls


def test_unknown_email_checks_one_hash_of_the_same_cost_as_a_wrong_password(app, client, hash_calls):
    known = make_user("broker")
    invited = services.create_user({"name": "Convidado Lima", "email": "convidado@exemplo.com.br",
                                    "role": "customer"})
    db.session.commit()
    _post(client, "aquecimento@exemplo.com.br", "x")  # the dummy hash is made once per process
    cost = tuple(app.config["PASSWORD_HASH_METHOD"].split(":")[1:])
    for email in (known.email, "ninguem@exemplo.com.br", invited.email):
        hash_calls.clear()
        assert _post(client, email, "errada123").status_code == 422
        assert [(name, str(iterations)) for name, iterations in hash_calls] == [cost], email


def test_fifteen_colleagues_behind_one_office_ip_all_get_in(app):
    colleagues = [make_user("broker") for _ in range(15)]
    typo = app.test_client()
    for _ in range(3):  # a few typos among them do not lock the office out either
        assert _post(typo, colleagues[0].email, "errada123").status_code == 422
    for user in colleagues:
        r = _post(app.test_client(), user.email, PASSWORD)
        assert r.status_code == 302, user.email


def test_ten_wrong_passwords_lock_that_account_even_from_other_ips(app, client):
    victim, neighbour = make_user("broker"), make_user("broker")
    for i in range(10):
        assert _post(client, victim.email, f"chute{i:04d}", ip=f"198.51.100.{i + 1}").status_code == 422
    r = _post(app.test_client(), victim.email.upper(), PASSWORD, ip="198.51.100.200")
    assert r.status_code == 429
    assert "Muitas tentativas de entrada sem sucesso" in r.get_data(as_text=True)
    assert _post(client, neighbour.email, PASSWORD, ip="198.51.100.1").status_code == 302  # only that account
    assert _failures()[-1][:2] == (victim.email, "throttled")


def test_a_spray_across_accounts_from_one_ip_hits_the_per_ip_ceiling(app, client):
    ceiling = 30
    assert app.config["LOGIN_IP_RATE_LIMIT"].startswith(f"{ceiling} per minute")
    victim = make_user("broker")
    for i in range(ceiling):
        assert _post(client, f"alvo{i}@exemplo.com.br", "senha-chutada", ip="192.0.2.66").status_code == 422
    assert _post(client, victim.email, "senha-chutada", ip="192.0.2.66").status_code == 429
    assert _post(client, victim.email, PASSWORD, ip="192.0.2.67").status_code == 302  # another address: fine
