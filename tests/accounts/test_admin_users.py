from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import AuditLog, Team, User
from portal.automation.models import Delivery
from portal.extensions import db
from tests.factories import make_team, make_user, sales_tree


def test_manager_creates_a_broker_in_their_team_and_an_invitation_is_queued(client, login_as):
    t = sales_tree()
    login_as(t["south_mgr"])
    r = client.post("/admin/usuarios/novo", data={"name": "Nova Corretora", "email": "Nova@Exemplo.com.br",
                                                  "phone": "(11) 98888-7777", "role": "broker",
                                                  "team_id": str(t["south"].id)})
    assert r.status_code == 302
    user = services.find_user_by_email("nova@exemplo.com.br")
    assert user.email == "nova@exemplo.com.br" and user.phone == "+5511988887777" and user.team_id == t["south"].id
    invite = db.session.execute(select(Delivery).where(Delivery.recipient == user.email)).scalar_one()
    assert invite.subject == "Seu acesso ao Portal"
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "user.created",
                                                AuditLog.object_id == str(user.id))).scalar_one()
    assert entry.user_id == t["south_mgr"].id


def test_manager_cannot_create_an_admin_or_use_another_team(client, login_as):
    t = sales_tree()
    login_as(t["south_mgr"])
    r = client.post("/admin/usuarios/novo", data={"name": "Golpe", "email": "golpe@exemplo.com.br",
                                                  "role": "admin", "team_id": str(t["north"].id)})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Escolha inválida." in html
    assert services.find_user_by_email("golpe@exemplo.com.br") is None


def test_bad_user_input_shows_field_errors_and_writes_nothing(client, login_as):
    admin = make_user("admin")
    existing = make_user("broker")
    login_as(admin)
    count = db.session.query(User).count()
    r = client.post("/admin/usuarios/novo", data={"name": "X", "email": existing.email.upper(), "phone": "123",
                                                  "cpf": "111.111.111-11", "role": "broker", "team_id": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Já existe um usuário com este e-mail." in html and "Telefone inválido." in html and "CPF inválido." in html
    assert db.session.query(User).count() == count


def test_admin_deactivates_user_with_htmx_and_gets_the_row(client, login_as):
    admin = make_user("admin")
    broker = make_user("broker")
    login_as(admin)
    r = client.post(f"/admin/usuarios/{broker.id}/ativo", headers={"HX-Request": "true"})
    assert r.status_code == 200 and f'id="user-{broker.id}"' in r.get_data(as_text=True) and "Inativo" in r.get_data(as_text=True)
    db.session.refresh(broker)
    assert broker.active is False


def test_users_list_is_scoped_and_htmx_gets_partial(client, login_as):
    t = sales_tree()
    login_as(t["south_mgr"])
    full = client.get("/admin/usuarios").get_data(as_text=True)
    assert "Bruna Corretora" in full and "Carlos Corretor" not in full and "<html" in full
    part = client.get("/admin/usuarios?q=bruna", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Bruna Corretora" in part and "<html" not in part


def test_team_cannot_be_placed_under_itself(client, login_as):
    admin = make_user("admin")
    root = make_team("Raiz")
    child = make_team("Filha", parent=root)
    login_as(admin)
    r = client.post(f"/admin/equipes/{root.id}", data={"name": "Raiz", "parent_id": str(child.id), "manager_id": ""})
    assert r.status_code == 422 and "abaixo dela mesma" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Team, root.id).parent_id is None


def test_broker_cannot_open_admin_screens(client, login_as):
    login_as(make_user("broker"))
    assert client.get("/admin/usuarios").status_code == 403
    assert client.get("/admin/equipes").status_code == 403


def test_user_page_shows_the_timeline_of_events_and_messages(client, login_as):
    admin = make_user("admin")
    broker = make_user("broker")
    login_as(admin)
    html = client.get(f"/admin/usuarios/{broker.id}").get_data(as_text=True)
    assert 'id="timeline"' in html and "Usuário criado" in html
