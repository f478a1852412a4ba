from datetime import datetime, timezone

import pytest

from portal import normalize
from portal.web import filters
from tests.factories import make_user


def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["checks"] == {"database": "ok", "redis": "ok"}


def test_healthz_names_the_failing_part(app, client, monkeypatch):
    import redis
    from portal import jobs
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    broken = redis.Redis(unix_socket_path="/nonexistent/redis.sock", retry=Retry(NoBackoff(), 0))
    monkeypatch.setitem(app.extensions, "portal_redis", broken)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json["status"] == "failing: redis" and r.json["checks"]["database"] == "ok"
    monkeypatch.undo()
    assert jobs  # restored connection is used by the cleanup fixture


def test_money_and_dates_in_brazilian_format(app):
    with app.app_context():
        assert filters.brl(123456) == "R$ 1.234,56"
        assert filters.brl(0) == "R$ 0,00"
        assert filters.brl(-5) == "-R$ 0,05"
        moment = datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)  # 23:30 of the day before in São Paulo
        assert filters.datetime_br(moment) == "28/02/2026 23:30"
        assert filters.date_br(moment) == "28/02/2026"
        assert filters.phone_br("+5511987654321") == "(11) 98765-4321"
        assert filters.cpf_br("52998224725") == "529.982.247-25"


def test_normalizers():
    assert normalize.phone("(11) 98765-4321") == "+5511987654321"
    assert normalize.email("  Fulano@Exemplo.COM.br ") == "fulano@exemplo.com.br"
    assert normalize.cpf("529.982.247-25") == "52998224725"
    assert normalize.cnpj("11.222.333/0001-81") == "11222333000181"
    for fn, bad in [(normalize.phone, "123"), (normalize.email, "sem-arroba"), (normalize.email, "joão@exemplo.com.br"), (normalize.cpf, "111.111.111-11"),
                    (normalize.cnpj, "11.111.111/1111-11")]:
        with pytest.raises(normalize.InvalidValue):
            fn(bad)


def test_pages_by_role_have_navigation_and_pwa_links(client, login_as):
    login_as(make_user("admin"))
    html = client.get("/inicio").get_data(as_text=True)
    for label in ("Pré-vendas", "Personalização", "Sucesso do cliente", "Usuários", "Equipes"):
        assert label in html
    assert 'rel="manifest"' in html and "htmx.min.js" in html
    manifest = client.get("/manifest.webmanifest")
    assert manifest.json["start_url"] == "/" and manifest.mimetype == "application/manifest+json"
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and "caches" in sw.get_data(as_text=True)


def test_module_homes_answer_for_their_roles(client, login_as):
    for role, path in [("broker", "/pre-vendas/"), ("csm", "/sucesso/"), ("personalization", "/personalizacao/")]:
        login_as(make_user(role))
        assert client.get(path).status_code == 200
        assert client.get("/sucesso/" if role != "csm" else "/pre-vendas/").status_code == 403
        client.post("/logout")


def test_unknown_page_is_a_friendly_404(client):
    r = client.get("/nao-existe")
    assert r.status_code == 404 and "Página não encontrada" in r.get_data(as_text=True)


def test_demo_is_idempotent(app):
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.realestate.models import Development, Unit
    from portal.web.demo import load_demo
    load_demo()
    db.session.commit()
    counts = (db.session.query(User).count(), db.session.query(Unit).count(), db.session.query(Development).count())
    load_demo()
    db.session.commit()
    assert (db.session.query(User).count(), db.session.query(Unit).count(), db.session.query(Development).count()) == counts
    assert counts[1] == 40 and counts[2] == 2
    roles = {u.role for u in db.session.query(User)}
    assert roles == {"admin", "manager", "sdr", "broker", "csm", "cs_leader", "personalization", "customer"}


def test_offline_page_never_sets_a_session_cookie(client):
    r = client.get("/offline")
    assert r.status_code == 200 and "Sem conexão" in r.get_data(as_text=True)
    assert not r.headers.getlist("Set-Cookie")
