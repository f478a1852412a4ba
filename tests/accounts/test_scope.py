
from portal.accounts.models import User
from portal.accounts.scope import scoped
from portal.extensions import db
from portal.realestate.models import Development, Unit
from tests.factories import give_unit, make_development, make_user, sales_tree


def names(user, model=User):
    return {u.name for u in db.session.execute(scoped(user, model)).scalars()}


def test_manager_sees_own_team_and_every_sub_team():
    t = sales_tree()
    assert {"Bruna Corretora", "Carlos Corretor", "Sérgio SDR", "Paula Gestora", "Marcos Diretor"} <= names(t["head"])
    south = names(t["south_mgr"])
    assert "Bruna Corretora" in south and "Carlos Corretor" not in south and "Sérgio SDR" not in south


def test_broker_sees_only_self_and_admin_everyone():
    t = sales_tree()
    assert names(t["south_broker"]) == {"Bruna Corretora"}
    admin = make_user("admin")
    assert len(names(admin)) == db.session.query(User).count()


def test_customer_sees_only_own_units_and_staff_only_assigned_developments():
    staff = make_user("personalization")
    mine = make_development("Residencial Alfa", staff=[staff])
    other = make_development("Residencial Beta")
    buyer = make_user("customer")
    unit = mine.towers[0].units[0]
    give_unit(buyer, unit)
    assert [u.id for u in db.session.execute(scoped(buyer, Unit)).scalars()] == [unit.id]
    assert names(staff, Development) == {"Residencial Alfa"}
    assert {u.development_id for u in db.session.execute(scoped(staff, Unit)).scalars()} == {mine.id}
    assert other.id not in {d.id for d in db.session.execute(scoped(buyer, Development)).scalars()}


def test_reaching_another_teams_user_by_url_is_404(client, login_as):
    t = sales_tree()
    login_as(t["south_mgr"])
    assert client.get(f"/admin/usuarios/{t['south_broker'].id}").status_code == 200
    r = client.get(f"/admin/usuarios/{t['north_broker'].id}")
    assert r.status_code == 404
    before = db.session.get(User, t["north_broker"].id).name
    r = client.post(f"/admin/usuarios/{t['north_broker'].id}/ativo")
    assert r.status_code == 404
    db.session.expire_all()
    north = db.session.get(User, t["north_broker"].id)
    assert north.active and north.name == before


def test_staff_cannot_open_a_development_outside_their_assignment(client, login_as):
    staff = make_user("personalization")
    make_development("Residencial Alfa", staff=[staff])
    other = make_development("Residencial Beta")
    login_as(staff)
    assert client.get(f"/empreendimentos/{other.id}").status_code == 404

