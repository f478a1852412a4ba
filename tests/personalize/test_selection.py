"""The buyer's one page: choosing with htmx and without JavaScript, drafts, the confirmation step,
submit and reopen, price versions, and windows enforced by the server."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.automation.models import Event
from portal.extensions import db
from portal.personalize.models import Selection, SelectionLine
from portal.personalize.services import catalog, selections, windows
from tests.personalize.conftest import NOW, window_data

HX = {"HX-Request": "true"}


def pick(client, unit, item, option, htmx=True):
    return client.post(f"/personalizacao/unidades/{unit.id}/itens/{item.id}", data={f"item-{item.id}": option.id},
                       headers=HX if htmx else {})


def selection_of(unit) -> Selection:
    db.session.expire_all()
    return db.session.execute(select(Selection).where(Selection.unit_id == unit.id)).scalar_one()


def lines_of(unit) -> dict:
    sel = selection_of(unit)
    return {line.item.name: (line.option.name, line.unit_price_cents, line.total_cents) for line in sel.lines}


def test_buyer_sees_their_unit_window_items_and_standard_options(world, client, login_as):
    login_as(world["a"])
    html = client.get("/personalizacao/portal").get_data(as_text=True)
    assert world["units"][0].label in html and "Escolhas abertas até 12/03/2026 10:00" in html
    assert "faltam 10 dias" in html
    for name in ("Piso da sala", "Torneira da cozinha", "Bancada da cozinha", "Porcelanato 90x90", "Quartzo branco"):
        assert name in html
    # 20 m² × R$ 50,00/m² = R$ 1.000,00 for this unit; the standard options cost nothing
    assert "+ R$ 1.000,00" in html and "R$ 50,00/m²" in html and "Incluso" in html
    assert re.search(r'value="%d"\s+checked' % world["options"]["ceramica"].id, html)
    assert 'id="pz-total">R$ 0,00<' in html


def test_choosing_with_htmx_answers_the_item_and_the_new_total(world, client, login_as):
    login_as(world["a"])
    unit, items, o = world["units"][0], world["items"], world["options"]
    r = pick(client, unit, items["sala"], o["porcelanato"])
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert body.count('id="item-%d"' % items["sala"].id) == 1 and "<html" not in body
    assert 'id="pz-total" hx-swap-oob="true">R$ 1.000,00<' in body
    assert re.search(r'value="%d"\s+checked' % o["porcelanato"].id, body)
    pick(client, unit, items["torneira"], o["gourmet"])
    r = pick(client, unit, items["bancada"], o["quartzo"])
    assert 'hx-swap-oob="true">R$ 4.589,00<' in r.get_data(as_text=True)
    assert lines_of(unit) == {"Piso da sala": ("Porcelanato 90x90", 5000, 100000),
                              "Torneira da cozinha": ("Torneira gourmet", 68900, 68900),
                              "Bancada da cozinha": ("Quartzo branco", 290000, 290000)}
    sel = selection_of(unit)
    assert sel.status == "draft" and sel.total_cents == 458900 and sel.last_activity_by_id == world["a"].id


def test_changing_an_option_updates_the_one_line_never_adds_a_second(world, client, login_as):
    login_as(world["a"])
    unit, sala, o = world["units"][0], world["items"]["sala"], world["options"]
    for option in (o["porcelanato"], o["vinilico"], o["porcelanato"], o["vinilico"]):
        assert pick(client, unit, sala, option).status_code == 200
    sel = selection_of(unit)
    assert db.session.scalar(select(func.count(SelectionLine.id)).where(SelectionLine.selection_id == sel.id)) == 1
    assert sel.total_cents == 160000  # 20 m² × R$ 80,00


def test_without_javascript_the_whole_form_saves_a_draft_and_goes_to_the_review(world, client, login_as):
    login_as(world["a"])
    unit, items, o = world["units"][0], world["items"], world["options"]
    r = client.post(f"/personalizacao/unidades/{unit.id}/salvar", data={
        f"item-{items['sala'].id}": o["vinilico"].id, f"item-{items['torneira'].id}": o["torneira_std"].id,
        f"item-{items['bancada'].id}": o["quartzo"].id, "next": "stay"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/personalizacao/unidades/{unit.id}")
    assert lines_of(unit) == {"Piso da sala": ("Vinílico amadeirado", 8000, 160000),
                              "Bancada da cozinha": ("Quartzo branco", 290000, 290000)}
    r = client.post(f"/personalizacao/unidades/{unit.id}/salvar", data={"next": "review"})
    assert r.headers["Location"].endswith(f"/personalizacao/unidades/{unit.id}/revisar")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Confira antes de enviar" in html and "Torneira de mesa" in html  # the standard option is listed too
    assert 'id="review-total">R$ 4.500,00<' in html


def test_submit_confirms_the_full_list_then_nothing_changes_until_staff_reopen(world, client, login_as):
    login_as(world["a"])
    unit, items, o = world["units"][0], world["items"], world["options"]
    pick(client, unit, items["sala"], o["porcelanato"])
    revision = selection_of(unit).revision
    r = client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": revision})
    assert r.status_code == 302
    sel = selection_of(unit)
    assert sel.status == "submitted" and sel.submitted_by_id == world["a"].id and sel.total_cents == 100000
    # items left on their standard option got a line at no cost: the submitted list stands on its own
    assert lines_of(unit)["Torneira da cozinha"] == ("Torneira de mesa", 0, 0)
    assert db.session.scalar(select(func.count(Event.id)).where(Event.type == "selection.submitted")) == 1

    r = pick(client, unit, items["sala"], o["vinilico"])
    assert r.status_code == 409 and "já foi enviada" in r.get_data(as_text=True)
    r = client.post(f"/personalizacao/unidades/{unit.id}/salvar", data={f"item-{items['sala'].id}": o["vinilico"].id})
    assert r.status_code == 409
    assert lines_of(unit)["Piso da sala"][0] == "Porcelanato 90x90"
    assert "Personalização enviada" in client.get(f"/personalizacao/unidades/{unit.id}").get_data(as_text=True)

    # a buyer cannot reopen; staff can, with a reason that is logged and published
    assert client.post(f"/personalizacao/unidades/{unit.id}/reabrir", data={"reason": "x"}).status_code == 403
    client.post("/logout")
    login_as(world["staff"])
    r = client.post(f"/personalizacao/unidades/{unit.id}/reabrir", data={"reason": ""})
    assert r.status_code == 422 and "Informe o motivo" in r.get_data(as_text=True)
    r = client.post(f"/personalizacao/unidades/{unit.id}/reabrir", data={"reason": "Comprador pediu troca do piso"})
    assert r.status_code == 302
    assert selection_of(unit).status == "reopened"
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "selection.reopened")).scalar_one()
    assert log.user_id == world["staff"].id and log.details["reason"] == "Comprador pediu troca do piso"
    assert db.session.scalar(select(func.count(Event.id)).where(Event.type == "selection.reopened")) == 1
    client.post("/logout")
    login_as(world["a"])
    assert pick(client, unit, items["sala"], o["vinilico"]).status_code == 200


def test_a_submit_of_a_list_that_changed_since_the_review_is_refused(world, client, login_as):
    login_as(world["a"])
    unit, items, o = world["units"][0], world["items"], world["options"]
    pick(client, unit, items["sala"], o["porcelanato"])
    seen = selection_of(unit).revision
    pick(client, unit, items["sala"], o["vinilico"])  # another tab changed it after this one's review
    r = client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": seen})
    assert r.status_code == 409 and "Sua seleção mudou" in r.get_data(as_text=True)
    assert selection_of(unit).status == "draft"
    r = client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": selection_of(unit).revision})
    assert r.status_code == 302 and selection_of(unit).status == "submitted"
    r = client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": selection_of(unit).revision})
    assert r.status_code == 302 and selection_of(unit).submitted_at is not None  # a double click: no error page


def test_a_price_change_leaves_drafts_on_their_price_and_shows_the_new_one(world, client, login_as):
    units, items, o = world["units"], world["items"], world["options"]
    login_as(world["a"])
    pick(client, units[0], items["sala"], o["porcelanato"])
    client.post(f"/personalizacao/unidades/{units[0].id}/enviar", data={"revision": selection_of(units[0]).revision})
    client.post("/logout")
    login_as(world["b"])
    pick(client, units[1], items["sala"], o["porcelanato"])

    catalog.save_option(items["sala"], {"name": "Porcelanato 90x90", "price": "65,00", "available": True},
                        o["porcelanato"], user=world["staff"])
    db.session.commit()
    assert o["porcelanato"].price_version == 2

    html = client.get(f"/personalizacao/unidades/{units[1].id}").get_data(as_text=True)
    assert "mudou para R$ 65,00/m² depois da sua escolha" in html and "Você mantém R$ 50,00/m²" in html
    assert lines_of(units[1])["Piso da sala"] == ("Porcelanato 90x90", 5000, 100000)
    assert selection_of(units[1]).total_cents == 100000
    # choosing it again keeps the price it was chosen with; another option takes today's prices
    pick(client, units[1], items["sala"], o["porcelanato"])
    assert lines_of(units[1])["Piso da sala"][1] == 5000
    pick(client, units[1], items["sala"], o["vinilico"])
    pick(client, units[1], items["sala"], o["porcelanato"])
    assert lines_of(units[1])["Piso da sala"] == ("Porcelanato 90x90", 6500, 130000)
    # the submitted selection never changes
    assert lines_of(units[0])["Piso da sala"] == ("Porcelanato 90x90", 5000, 100000)
    assert selection_of(units[0]).total_cents == 100000


def test_a_retired_option_stays_on_the_selections_that_used_it(world, client, login_as):
    units, items, o = world["units"], world["items"], world["options"]
    login_as(world["a"])
    pick(client, units[0], items["sala"], o["vinilico"])
    catalog.retire_option(o["vinilico"])
    db.session.commit()
    html = client.get(f"/personalizacao/unidades/{units[0].id}").get_data(as_text=True)
    assert "Vinílico amadeirado" in html and "Fora de linha" in html and "saiu de linha" in html
    client.post("/logout")
    login_as(world["b"])
    html = client.get(f"/personalizacao/unidades/{units[1].id}").get_data(as_text=True)
    assert "Vinílico amadeirado" not in html
    r = pick(client, units[1], items["sala"], o["vinilico"])  # a stale page posting it anyway
    assert r.status_code == 422 and "não está mais disponível" in r.get_data(as_text=True)


def test_before_the_window_opens_the_buyer_reads_but_cannot_save(world, client, login_as, frozen):
    unit, items, o = world["units"][0], world["items"], world["options"]
    windows.save_window(world["dev"], window_data(NOW + timedelta(days=5), NOW + timedelta(days=20)),
                        world["window"])
    db.session.commit()
    login_as(world["a"])
    html = client.get("/personalizacao/portal").get_data(as_text=True)
    assert "As escolhas abrem em 07/03/2026 10:00" in html
    assert "disabled" in html and "Revisar e enviar" not in html
    # the server refuses whatever the page shows
    r = pick(client, unit, items["sala"], o["porcelanato"])
    assert r.status_code == 409 and "não está aberta" in r.get_data(as_text=True)
    assert client.post(f"/personalizacao/unidades/{unit.id}/salvar",
                       data={f"item-{items['sala'].id}": o["porcelanato"].id}).status_code == 409
    assert client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": 0}).status_code == 302
    assert selection_of(unit).status == "not_started" and selection_of(unit).lines == []
    frozen.move_to(NOW + timedelta(days=5))
    assert pick(client, unit, items["sala"], o["porcelanato"]).status_code == 200


def test_after_the_window_closes_the_draft_is_read_only(world, client, login_as, frozen):
    unit, items, o = world["units"][0], world["items"], world["options"]
    login_as(world["a"])
    pick(client, unit, items["sala"], o["porcelanato"])
    frozen.move_to(NOW + timedelta(days=10))  # closes_at itself: closed
    html = client.get("/personalizacao/portal").get_data(as_text=True)
    assert "O prazo de escolha terminou em 12/03/2026 10:00" in html and "o rascunho não foi enviado" in html
    assert pick(client, unit, items["sala"], o["vinilico"]).status_code == 409
    assert client.post(f"/personalizacao/unidades/{unit.id}/salvar", data={}).status_code == 409
    r = client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": selection_of(unit).revision})
    assert r.status_code == 302 and selection_of(unit).status == "draft"
    assert lines_of(unit)["Piso da sala"][0] == "Porcelanato 90x90"


def test_a_window_opening_some_categories_keeps_the_others_read_only(world, client, login_as):
    windows.save_window(world["dev"], window_data(NOW - timedelta(days=1), NOW + timedelta(days=10),
                                                  category_ids=[world["categories"]["metais"].id]), world["window"])
    db.session.commit()
    unit, items, o = world["units"][0], world["items"], world["options"]
    login_as(world["a"])
    html = client.get("/personalizacao/portal").get_data(as_text=True)
    assert 'id="item-%d" disabled' % items["sala"].id in html
    assert 'id="item-%d" hx-post=' % items["torneira"].id in html
    assert pick(client, unit, items["sala"], o["porcelanato"]).status_code == 409
    assert pick(client, unit, items["torneira"], o["gourmet"]).status_code == 200


def test_staff_act_on_behalf_outside_the_window_and_every_change_is_audited(world, client, login_as, frozen):
    unit, items, o = world["units"][0], world["items"], world["options"]
    frozen.move_to(NOW + timedelta(days=30))
    login_as(world["staff"])
    html = client.get(f"/personalizacao/unidades/{unit.id}").get_data(as_text=True)
    assert "em nome do comprador" in html and "Ana Compradora" in html
    assert pick(client, unit, items["sala"], o["vinilico"]).status_code == 200
    line = selection_of(unit).lines[0]
    assert line.on_behalf and line.chosen_by_id == world["staff"].id
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "selection.changed_on_behalf")).scalar_one()
    assert log.user_id == world["staff"].id and log.details["option"] == "Vinílico amadeirado"
    r = client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": selection_of(unit).revision})
    assert r.status_code == 302 and selection_of(unit).status == "submitted"
    html = client.get(f"/personalizacao/unidades/{unit.id}").get_data(as_text=True)
    assert "Alterado pela equipe em nome do comprador" in html and "Personalização enviada" in html


def test_an_item_without_a_standard_option_must_be_chosen_before_submit(world, client, login_as):
    items, o = world["items"], world["options"]
    catalog.save_option(items["bancada"], {"name": "Granito São Gabriel", "price": "10,00", "available": True},
                        o["granito"])  # no longer the standard one
    db.session.commit()
    unit = world["units"][0]
    login_as(world["a"])
    html = client.get(f"/personalizacao/unidades/{unit.id}/revisar").get_data(as_text=True)
    assert "Falta escolher: Bancada da cozinha" in html
    r = client.post(f"/personalizacao/unidades/{unit.id}/enviar", data={"revision": selection_of(unit).revision})
    assert r.status_code == 409 and "Escolha uma opção para: Bancada da cozinha" in r.get_data(as_text=True)
    assert selection_of(unit).status != "submitted"


def test_staff_list_shows_each_units_status_and_last_activity(world, client, login_as):
    units, items, o = world["units"], world["items"], world["options"]
    login_as(world["a"])
    pick(client, units[0], items["sala"], o["porcelanato"])
    client.post("/logout")
    login_as(world["b"])
    pick(client, units[1], items["sala"], o["porcelanato"])
    client.post(f"/personalizacao/unidades/{units[1].id}/enviar", data={"revision": selection_of(units[1]).revision})
    client.post("/logout")
    login_as(world["staff"])
    dev = world["dev"]
    html = client.get(f"/personalizacao/empreendimentos/{dev.id}").get_data(as_text=True)
    assert "Ana Compradora" in html and "Bruno Comprador" in html and "02/03/2026 10:00" in html
    rows = re.findall(r'<span class="pill pz-pill-(\w+)">', html)
    assert sorted(rows) == ["draft", "not_started", "not_started", "not_started", "not_started", "submitted"]
    html = client.get(f"/personalizacao/empreendimentos/{dev.id}?situacao=submitted").get_data(as_text=True)
    assert "Bruno Comprador" in html and "Ana Compradora" not in html
    html = client.get(f"/personalizacao/empreendimentos/{dev.id}?q=ana").get_data(as_text=True)
    assert "Ana Compradora" in html and "Bruno Comprador" not in html


def test_concurrent_first_choices_make_one_line(world):
    """Two tabs choosing the same item for the first time: the (selection, item) unique constraint
    turns the second insert into an update of the first."""
    unit, sala, o, a = world["units"][0], world["items"]["sala"], world["options"], world["a"]
    sel = selections.ensure_selection(unit)
    price = catalog.current_price(o["porcelanato"])
    # the other tab inserted its line after this one looked (as if between our SELECT and INSERT)
    db.session.add(SelectionLine(selection_id=sel.id, item_id=sala.id, option_id=o["porcelanato"].id,
                                 option_price_id=price.id, quantity=20, unit_price_cents=5000, total_cents=100000))
    db.session.flush()
    original = db.session.execute
    calls = {"n": 0}

    def blind_first_lookup(stmt, *args, **kw):  # our own lookup misses it once, like a race would
        if "FROM selection_lines" in str(stmt) and "item_id" in str(stmt) and calls["n"] < 2:
            calls["n"] += 1
            if calls["n"] == 2:
                return original(stmt.where(SelectionLine.id == -1), *args, **kw)
        return original(stmt, *args, **kw)

    db.session.execute = blind_first_lookup
    try:
        selections.choose(sel, sala.id, o["vinilico"].id, a)
    finally:
        del db.session.execute
    db.session.commit()
    assert calls["n"] == 2  # the insert really went through the IntegrityError path
    rows = db.session.execute(select(SelectionLine).where(SelectionLine.selection_id == sel.id)).scalars().all()
    assert [(r.option_id, r.total_cents) for r in rows] == [(o["vinilico"].id, 160000)]
