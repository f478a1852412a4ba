"""Password policy (issue 15, item 10): every place that sets a password refuses common and guessable ones
(zxcvbn score, the person's own name and e-mail, the company name) and short ones, with a 422 and the
field's message; nothing is written."""
import pytest
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.models import User
from portal.errors import ServiceError
from portal.extensions import db
from tests.factories import PASSWORD, make_user

GUESSABLE = "Senha fácil de adivinhar"
STRONG = "rua-das-palmeiras-ipe-42"


def _reset_link(app, user, invitation=False):
    with app.test_request_context():
        return f"/senha/redefinir/{services.reset_token(user, invitation=invitation)}"


def _users_named(email):
    return db.session.scalar(select(func.count(User.id)).where(User.email == email))


@pytest.mark.parametrize("password", ["senha123", "12345678", "qwerty123", "fonseca2024", "portal2024"])
def test_admin_cannot_create_a_user_with_a_guessable_password(client, login_as, password):
    login_as(make_user("admin"))
    r = client.post("/admin/usuarios/novo", data={"name": "Roberta Fonseca", "email": "roberta.fonseca@exemplo.com.br",
                                                  "role": "broker", "team_id": "", "password": password})
    assert r.status_code == 422
    assert GUESSABLE in r.get_data(as_text=True)
    assert _users_named("roberta.fonseca@exemplo.com.br") == 0


def test_admin_creates_a_user_with_a_strong_password(client, login_as):
    login_as(make_user("admin"))
    r = client.post("/admin/usuarios/novo", data={"name": "Roberta Fonseca", "email": "roberta.fonseca@exemplo.com.br",
                                                  "role": "broker", "team_id": "", "password": STRONG})
    assert r.status_code == 302
    assert services.find_user_by_email("roberta.fonseca@exemplo.com.br").check_password(STRONG)


def test_a_refused_reset_answers_422_keeps_the_password_and_the_link(app, client):
    user = make_user("broker")
    link = _reset_link(app, user)
    r = client.post(link, data={"password": "senha123", "confirm": "senha123"})
    assert r.status_code == 422 and GUESSABLE in r.get_data(as_text=True)
    r = client.post(link, data={"password": "curta", "confirm": "curta"})
    assert r.status_code == 422 and "ao menos 8 caracteres" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)
    assert client.post(link, data={"password": STRONG, "confirm": STRONG}).status_code == 302  # link still good
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(STRONG)


def test_accepting_an_invitation_with_a_guessable_password_is_refused(app, client):
    customer = services.create_user({"name": "Helena Costa", "email": "helena.costa@exemplo.com.br",
                                     "role": "customer"})
    db.session.commit()
    r = client.post(_reset_link(app, customer, invitation=True), data={"password": "helena123", "confirm": "helena123"})
    assert r.status_code == 422 and GUESSABLE in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, customer.id).password_hash == ""


def test_changing_to_a_guessable_password_answers_422(client, login_as):
    user = make_user("broker")
    login_as(user)
    r = client.post("/conta/senha", data={"current": PASSWORD, "password": "qwerty123", "confirm": "qwerty123"})
    assert r.status_code == 422 and GUESSABLE in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_cli_refuses_a_guessable_first_admin_password(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--name", "Admin", "--email", "adm@exemplo.com.br",
                                                "--password", "admin123"])
    assert result.exit_code == 2 and GUESSABLE in result.output
    assert _users_named("adm@exemplo.com.br") == 0


def test_only_an_explicit_argument_lets_demo_data_set_a_weak_password(app):
    data = {"name": "Demo", "email": "demo@exemplo.com.br", "role": "broker"}
    with pytest.raises(ServiceError) as refused:
        services.create_user(data, password="portal123")
    assert GUESSABLE in refused.value.errors["password"]
    with pytest.raises(ServiceError):  # the bypass skips the score, never the length
        services.create_user(data, password="curta", allow_weak_password=True)
    user = services.create_user(data, password="portal123", allow_weak_password=True)
    assert user.check_password("portal123")
