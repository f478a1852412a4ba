"""Every personalization URL checks who asks: a buyer only their units, staff only their developments."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.personalize.models import Selection
from portal.personalize.services import catalog
from tests.factories import make_development, make_user


def unit_urls(unit, item, option):
    base = f"/personalizacao/unidades/{unit.id}"
    return [("get", base, {}), ("get", f"{base}/revisar", {}),
            ("post", f"{base}/itens/{item.id}", {f"item-{item.id}": option.id}),
            ("post", f"{base}/salvar", {f"item-{item.id}": option.id}),
            ("post", f"{base}/enviar", {"revision": 0})]


def test_buyer_a_asking_for_buyer_bs_unit_gets_404_everywhere(world, client, login_as):
    unit_b, sala, o = world["units"][1], world["items"]["sala"], world["options"]
    login_as(world["a"])
    for method, url, data in unit_urls(unit_b, sala, o["porcelanato"]):
        response = getattr(client, method)(url, data=data) if method == "post" else client.get(url)
        assert response.status_code == 404, url
    db.session.expire_all()
    selection = db.session.execute(select(Selection).where(Selection.unit_id == unit_b.id)).scalar_one_or_none()
    assert selection is None or (selection.lines == [] and selection.status == "not_started")
    html = client.get("/personalizacao/portal").get_data(as_text=True)
    assert unit_b.label not in html  # no link to the other buyer's unit either


def test_an_item_of_another_development_is_404_on_my_unit(world, client, login_as):
    other = make_development("Edifício Vizinho")
    cat = catalog.save_category(other, {"name": "Piso"})
    item = catalog.save_item(other, {"category_id": cat.id, "name": "Piso", "basis": "unit",
                                     "typologies": {str(other.typologies[0].id): "1"}})
    option = catalog.save_option(item, {"name": "Outro", "available": True})
    db.session.commit()
    login_as(world["a"])
    url = f"/personalizacao/unidades/{world['units'][0].id}/itens/{item.id}"
    assert client.post(url, data={f"item-{item.id}": option.id}, headers={"HX-Request": "true"}).status_code == 404


def test_staff_of_another_development_get_404(world, client, login_as):
    stranger = make_user("personalization", name="Outra Pessoa")
    make_development("Edifício da Outra Pessoa", staff=[stranger])
    login_as(stranger)
    dev, unit, item, option = world["dev"], world["units"][0], world["items"]["sala"], world["options"]["porcelanato"]
    for url in [f"/personalizacao/empreendimentos/{dev.id}", f"/personalizacao/empreendimentos/{dev.id}/catalogo",
                f"/personalizacao/empreendimentos/{dev.id}/janelas", f"/personalizacao/catalogo/itens/{item.id}",
                f"/personalizacao/catalogo/opcoes/{option.id}", f"/personalizacao/unidades/{unit.id}",
                f"/personalizacao/compradores/{world['a'].id}",
                f"/personalizacao/compradores/exportar.csv?empreendimento={dev.id}"]:
        assert client.get(url).status_code == 404, url
    for url in [f"/personalizacao/unidades/{unit.id}/reabrir", f"/personalizacao/catalogo/opcoes/{option.id}/retirar",
                f"/personalizacao/empreendimentos/{dev.id}/janelas/{world['window'].id}/excluir"]:
        assert client.post(url, data={"reason": "x"}).status_code == 404, url
    html = client.get("/personalizacao/compradores").get_data(as_text=True)
    assert "Ana Compradora" not in html and "Bruno Comprador" not in html
    assert "Ana Compradora" not in client.get("/personalizacao/compradores/exportar.csv").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/personalizacao/", "/personalizacao/compradores",
                                 "/personalizacao/compradores/importar"])
def test_buyers_never_reach_staff_pages(world, client, login_as, url):
    login_as(world["a"])
    assert client.get(url).status_code == 403


def test_other_staff_roles_do_not_open_units(world, client, login_as):
    login_as(make_user("broker"))
    assert client.get(f"/personalizacao/unidades/{world['units'][0].id}").status_code == 403
