from decimal import Decimal

from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.extensions import db
from portal.realestate.models import Development, Tower, Unit
from tests.factories import give_unit, make_development, make_user

HX = {"HX-Request": "true"}


def unit_data(unit, **changes):
    prefix = f"unit-{unit.id}-"
    data = {"tower_id": str(unit.tower_id), "number": unit.number, "floor": str(unit.floor),
            "typology_id": str(unit.typology_id or ""), "private_area_m2": "58,40", "status": unit.status}
    data.update(changes)
    return {prefix + k: v for k, v in data.items()}


def test_list_is_scoped_and_manager_sees_it_read_only(client, login_as):
    staff = make_user("personalization")
    mine = make_development("Residencial Alfa", staff=[staff])
    make_development("Residencial Beta")
    login_as(staff)
    html = client.get("/empreendimentos/").get_data(as_text=True)
    assert "Residencial Alfa" in html and "Residencial Beta" not in html
    client.post("/logout")
    login_as(make_user("manager"))
    html = client.get(f"/empreendimentos/{mine.id}").get_data(as_text=True)
    assert "Residencial Alfa" in html and "/unidades/" not in html and "Nova unidade" not in html
    unit = mine.towers[0].units[0]
    assert client.get(f"/empreendimentos/{mine.id}/unidades/{unit.id}").status_code == 403
    assert client.post(f"/empreendimentos/{mine.id}/torres/nova", data={"new-tower-name": "Torre Z"}).status_code == 403


def test_staff_of_another_development_gets_404_everywhere(client, login_as):
    staff = make_user("personalization")
    make_development("Residencial Alfa", staff=[staff])
    other = make_development("Residencial Beta")
    unit = other.towers[0].units[0]
    login_as(staff)
    base = f"/empreendimentos/{other.id}"
    for url in (base, f"{base}/editar", f"{base}/unidades/{unit.id}", f"{base}/unidades/importar"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/unidades/{unit.id}", data=unit_data(unit, status="sold"), headers=HX).status_code == 404
    assert client.post(f"{base}/unidades/{unit.id}/excluir").status_code == 404
    db.session.refresh(unit)
    assert unit.status == "available"


def test_a_unit_of_another_development_is_404_even_under_an_allowed_development(client, login_as):
    admin = make_user("admin")
    mine = make_development("Residencial Alfa")
    other = make_development("Residencial Beta")
    login_as(admin)
    assert client.get(f"/empreendimentos/{mine.id}/unidades/{other.towers[0].units[0].id}").status_code == 404


def test_htmx_click_returns_the_inline_form_row_and_save_returns_the_updated_row(client, login_as):
    staff = make_user("personalization")
    dev = make_development(staff=[staff])
    unit = dev.towers[0].units[0]
    login_as(staff)
    page = client.get(f"/empreendimentos/{dev.id}").get_data(as_text=True)
    assert f'hx-get="/empreendimentos/{dev.id}/unidades/{unit.id}"' in page

    r = client.get(f"/empreendimentos/{dev.id}/unidades/{unit.id}", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith(f'<tr id="unidades-{unit.id}" class="editing">')
    assert "<html" not in html and f'name="unit-{unit.id}-number"' in html and 'value="58,40"' in html

    r = client.post(f"/empreendimentos/{dev.id}/unidades/{unit.id}", headers=HX,
                    data=unit_data(unit, status="sold", private_area_m2="60,5"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith(f'<tr id="unidades-{unit.id}"')
    assert "Vendida" in html and "60,50" in html and "<form" not in html
    db.session.refresh(unit)
    assert (unit.status, unit.private_area_m2) == ("sold", Decimal("60.50"))

    r = client.get(f"/empreendimentos/{dev.id}/unidades/{unit.id}/linha", headers=HX)
    assert "<form" not in r.get_data(as_text=True) and "Vendida" in r.get_data(as_text=True)


def test_htmx_bad_input_answers_422_with_the_form_row_and_errors_and_writes_nothing(client, login_as):
    staff = make_user("personalization")
    dev = make_development(staff=[staff])
    first, second = dev.towers[0].units[:2]
    login_as(staff)
    r = client.post(f"/empreendimentos/{dev.id}/unidades/{first.id}", headers=HX,
                    data=unit_data(first, number=second.number, private_area_m2="-3", status="sold"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "<html" not in html
    assert f"Já existe a unidade {second.number} na Torre A." in html and "A área não pode ser negativa." in html
    db.session.refresh(first)
    assert (first.number, first.status) == (dev.towers[0].units[0].number, "available")


def test_plain_post_without_htmx_redirects_and_a_plain_get_is_a_full_page(client, login_as):
    admin = make_user("admin")
    dev = make_development()
    unit = dev.towers[0].units[0]
    login_as(admin)
    page = client.get(f"/empreendimentos/{dev.id}/unidades/{unit.id}").get_data(as_text=True)
    assert "<html" in page and f'name="unit-{unit.id}-floor"' in page
    r = client.post(f"/empreendimentos/{dev.id}/unidades/{unit.id}", data=unit_data(unit, floor="12"))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/empreendimentos/{dev.id}#unidades-{unit.id}")
    db.session.refresh(unit)
    assert unit.floor == 12
    r = client.post(f"/empreendimentos/{dev.id}/unidades/{unit.id}", data=unit_data(unit, floor="andar"))
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    assert "Informe um número inteiro." in r.get_data(as_text=True)
    assert client.get(f"/empreendimentos/{dev.id}/unidades/{unit.id}/linha").status_code == 302


def test_add_forms_create_and_bad_input_rerenders_the_page_with_422(client, login_as):
    staff = make_user("personalization")
    dev = make_development(staff=[staff])
    login_as(staff)
    r = client.post(f"/empreendimentos/{dev.id}/torres/nova", data={"new-tower-name": "Torre B"})
    assert r.status_code == 302
    tower_b = db.session.execute(select(Tower).where(Tower.name == "Torre B")).scalar_one()
    r = client.post(f"/empreendimentos/{dev.id}/unidades/nova",
                    data={"new-unit-tower_id": str(tower_b.id), "new-unit-number": "1201", "new-unit-floor": "12",
                          "new-unit-typology_id": str(dev.typologies[0].id), "new-unit-status": "reserved"})
    assert r.status_code == 302
    unit = db.session.execute(select(Unit).where(Unit.tower_id == tower_b.id)).scalar_one()
    assert (unit.number, unit.private_area_m2, unit.status) == ("1201", Decimal("58.40"), "reserved")
    count = db.session.scalar(select(func.count(Unit.id)))
    r = client.post(f"/empreendimentos/{dev.id}/unidades/nova", data={"new-unit-tower_id": "", "new-unit-number": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Escolha uma torre deste empreendimento." in html
    assert "Informe o número da unidade." in html
    assert db.session.scalar(select(func.count(Unit.id))) == count


def test_inline_typology_and_tower_edit(client, login_as):
    admin = make_user("admin")
    dev = make_development()
    typology, tower = dev.typologies[0], dev.towers[0]
    login_as(admin)
    r = client.post(f"/empreendimentos/{dev.id}/tipologias/{typology.id}", headers=HX,
                    data={f"typology-{typology.id}-name": "2 dorms. com suíte",
                          f"typology-{typology.id}-bedrooms": "2",
                          f"typology-{typology.id}-private_area_m2": "61,2"})
    assert r.status_code == 200 and "2 dorms. com suíte" in r.get_data(as_text=True)
    r = client.post(f"/empreendimentos/{dev.id}/torres/{tower.id}", headers=HX,
                    data={f"tower-{tower.id}-name": ""})
    assert r.status_code == 422 and "Informe o nome da torre." in r.get_data(as_text=True)
    db.session.refresh(typology)
    db.session.refresh(tower)
    assert (typology.private_area_m2, tower.name) == (Decimal("61.20"), "Torre A")


def test_delete_unit_with_htmx_removes_the_row_and_refuses_when_it_has_buyers(client, login_as):
    staff = make_user("personalization")
    dev = make_development(staff=[staff])
    sold, free = dev.towers[0].units[:2]
    give_unit(make_user("customer"), sold)
    login_as(staff)
    r = client.post(f"/empreendimentos/{dev.id}/unidades/{free.id}/excluir", headers=HX)
    assert r.status_code == 200 and r.get_data(as_text=True) == ""
    r = client.post(f"/empreendimentos/{dev.id}/unidades/{sold.id}/excluir", headers=HX)
    assert r.status_code == 409 and "comprador" in r.get_data(as_text=True)
    r = client.post(f"/empreendimentos/{dev.id}/unidades/{sold.id}/excluir")
    assert r.status_code == 302
    assert {u.id for u in db.session.execute(select(Unit)).scalars()} == {u.id for u in dev.towers[0].units} - {free.id}
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "unit.deleted")) == 1


def test_admin_creates_a_development_with_staff_and_personalization_cannot(client, login_as):
    admin = make_user("admin")
    staff = make_user("personalization")
    login_as(admin)
    r = client.post("/empreendimentos/novo", data={"name": "Vila Jacarandá", "city": "Santos", "state": "SP",
                                                   "status": "construction", "staff_ids": [str(staff.id)]})
    assert r.status_code == 302
    dev = db.session.execute(select(Development)).scalar_one()
    assert (dev.slug, [u.id for u in dev.staff]) == ("vila-jacaranda", [staff.id])
    r = client.post("/empreendimentos/novo", data={"name": "", "state": "ZZ"})
    assert r.status_code == 422 and "Informe o nome do empreendimento." in r.get_data(as_text=True)
    client.post("/logout")
    login_as(staff)
    assert client.get("/empreendimentos/novo").status_code == 403
    r = client.post(f"/empreendimentos/{dev.id}/editar", data={"name": "Vila Jacarandá II", "slug": dev.slug,
                                                              "status": "delivered", "staff_ids": []})
    assert r.status_code == 302
    db.session.refresh(dev)
    assert (dev.name, dev.status, [u.id for u in dev.staff]) == ("Vila Jacarandá II", "delivered", [staff.id])
