"""Registering buyers one by one, anti-duplication, invitations, the profile fields and the LGPD export."""
import csv
import io

from sqlalchemy import func, select

from portal.accounts.models import AuditLog, User
from portal.automation.models import Delivery
from portal.extensions import db
from portal.personalize.models import BuyerKey, BuyerProfile
from portal.realestate.models import UnitBuyer
from tests.factories import make_user


def new_buyer(client, dev, unit, **data):
    form = {"name": "Carla Dias", "email": "carla.dias@exemplo.com.br", "phone": "(11) 97777-1234",
            "cpf": "390.533.447-05", "u-development_id": dev.id, "u-tower": unit.tower.name, "u-unit": unit.number,
            **data}
    return client.post("/personalizacao/compradores/novo", data=form)


def test_staff_register_a_buyer_and_the_invitation_goes_out(world, client, login_as, run_jobs):
    login_as(world["staff"])
    unit = world["units"][2]
    r = new_buyer(client, world["dev"], unit, invite="1")
    assert r.status_code == 302
    user = db.session.execute(select(User).where(User.email == "carla.dias@exemplo.com.br")).scalar_one()
    assert (user.role, user.phone, user.cpf, user.password_hash) == ("customer", "+5511977771234", "39053344705", "")
    assert db.session.get(UnitBuyer, (unit.id, user.id)) is not None
    assert {k.key for k in db.session.execute(select(BuyerKey).where(BuyerKey.user_id == user.id)).scalars()} == {
        "cpf:39053344705", "phone:+5511977771234"}
    assert db.session.get(BuyerProfile, user.id).invited_at is not None
    run_jobs()
    mail = db.session.execute(select(Delivery).where(Delivery.recipient == user.email)).scalar_one()
    assert mail.status == "sent" and "/senha/redefinir/" in mail.body


def test_the_same_person_again_is_linked_not_duplicated_and_clashes_are_refused(world, client, login_as):
    login_as(world["staff"])
    dev, units = world["dev"], world["units"]
    before = db.session.scalar(select(func.count(User.id)))
    # Ana again (same e-mail in capitals) for another unit: her record gets the unit
    r = new_buyer(client, dev, units[2], name="Ana Compradora", email="ANA@exemplo.com.br", phone="", cpf="")
    assert r.status_code == 302
    assert db.session.scalar(select(func.count(User.id))) == before
    assert db.session.get(UnitBuyer, (units[2].id, world["a"].id)) is not None
    # Ana's CPF under a new e-mail, Bruno's phone on a new person: refused next to the field
    r = new_buyer(client, dev, units[2], email="outra@exemplo.com.br", cpf="52998224725", phone="")
    assert r.status_code == 422 and "Este CPF já está cadastrado para outro comprador." in r.get_data(as_text=True)
    r = new_buyer(client, dev, units[2], email="outra@exemplo.com.br", cpf="", phone="11 98888-0002")
    assert r.status_code == 422 and "Este telefone já está cadastrado" in r.get_data(as_text=True)
    # a staff member's e-mail never becomes a buyer
    r = new_buyer(client, dev, units[2], email=world["staff"].email, cpf="", phone="")
    assert r.status_code == 422 and "usuário da equipe" in r.get_data(as_text=True)
    r = new_buyer(client, dev, units[2], cpf="123.456.789-00", email="x@exemplo.com.br", phone="")
    assert r.status_code == 422 and "CPF inválido." in r.get_data(as_text=True)
    r = new_buyer(client, dev, units[2], **{"u-unit": "999", "email": "y@exemplo.com.br", "cpf": "", "phone": ""})
    assert r.status_code == 422 and "Unidade 999 não encontrada" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == before


def test_editing_a_buyer_keeps_keys_in_step(world, client, login_as):
    login_as(world["staff"])
    a = world["a"]
    r = client.post(f"/personalizacao/compradores/{a.id}", data={"name": "Ana Souza", "email": a.email,
                                                                 "phone": "(11) 96666-0000", "cpf": a.cpf})
    assert r.status_code == 302
    keys = {k.key for k in db.session.execute(select(BuyerKey).where(BuyerKey.user_id == a.id)).scalars()}
    assert keys == {f"cpf:{a.cpf}", "phone:+5511966660000"}
    r = client.post(f"/personalizacao/compradores/{a.id}", data={"name": "Ana Souza", "email": a.email,
                                                                 "phone": "(11) 98888-0002", "cpf": a.cpf})
    assert r.status_code == 422 and "Este telefone já está cadastrado" in r.get_data(as_text=True)


def test_pending_invitations_go_to_everyone_never_invited_once(world, client, login_as, run_jobs):
    login_as(world["staff"])
    html = client.get("/personalizacao/compradores").get_data(as_text=True)
    assert "2 comprador(es) ainda sem convite" in html
    client.post("/personalizacao/compradores/convites", data={})
    client.post("/personalizacao/compradores/convites", data={})  # a second click invites nobody twice
    run_jobs()
    assert sorted(db.session.execute(select(Delivery.recipient)).scalars()) == ["ana@exemplo.com.br",
                                                                              "bruno@exemplo.com.br"]


def test_profile_fields_are_kept_and_exported(world, client, login_as):
    login_as(world["staff"])
    r = client.post("/personalizacao/compradores/campos", data={"label": "Faixa de renda", "kind": "choice",
                                                                "choices": "Até 5 mil, 5 a 10 mil", "active": "y"})
    assert r.status_code == 302
    a = world["a"]
    data = {"name": a.name, "email": a.email, "phone": a.phone, "cpf": a.cpf, "field_faixa_de_renda": "Outra"}
    r = client.post(f"/personalizacao/compradores/{a.id}", data=data)
    assert r.status_code == 422 and "Escolha uma das opções." in r.get_data(as_text=True)
    data["field_faixa_de_renda"] = "5 a 10 mil"
    assert client.post(f"/personalizacao/compradores/{a.id}", data=data).status_code == 302
    assert db.session.get(BuyerProfile, a.id).values == {"faixa_de_renda": "5 a 10 mil"}
    rows = list(csv.reader(io.StringIO(client.get("/personalizacao/compradores/exportar.csv")
                                       .data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Faixa de renda"
    assert [r[-1] for r in rows[1:] if r[1] == a.email] == ["5 a 10 mil"]


def test_export_is_scoped_and_logged_for_lgpd(world, client, login_as):
    other_staff = make_user("personalization")
    login_as(world["staff"])
    r = client.get(f"/personalizacao/compradores/exportar.csv?empreendimento={world['dev'].id}")
    assert r.mimetype == "text/csv" and r.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:7] == ["Nome", "E-mail", "Telefone", "CPF", "Empreendimento", "Torre", "Unidade"]
    assert sorted(row[1] for row in rows[1:]) == ["ana@exemplo.com.br", "bruno@exemplo.com.br"]
    assert rows[1][7] == "Não iniciada"
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "buyers.exported")).scalar_one()
    assert log.user_id == world["staff"].id and log.details["count"] == 2 and "LGPD" in log.details["purpose"]
    client.post("/logout")
    login_as(other_staff)
    rows = list(csv.reader(io.StringIO(client.get("/personalizacao/compradores/exportar.csv")
                                       .data.decode("utf-8-sig")), delimiter=";"))
    assert rows[1:] == []


def test_a_buyer_added_from_the_units_list_and_their_page(world, client, login_as):
    login_as(world["staff"])
    unit = world["units"][2]
    url = f"/personalizacao/compradores/novo?unidade={unit.id}"
    assert unit.label in client.get(url).get_data(as_text=True)
    r = client.post(url, data={"name": "Diego Lima", "email": "diego@exemplo.com.br", "phone": "11 97777-0000"})
    assert r.status_code == 302
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "(11) 97777-0000" in html and unit.label in html and "Não iniciada" in html and "ainda sem convite" in html
    other = world["dev"].towers[1].units[0]
    r = client.post(r.headers["Location"] + "/unidades", data={"u-development_id": world["dev"].id,
                                                               "u-tower": "torre b", "u-unit": other.number})
    assert r.status_code == 302
    assert other.label in client.get(r.headers["Location"]).get_data(as_text=True)


def test_a_large_batch_of_invitations_goes_to_the_worker(world, client, login_as, run_jobs, monkeypatch):
    from portal.personalize.services import buyers as buyer_services
    monkeypatch.setattr(buyer_services, "INLINE_INVITATIONS", 1)
    login_as(world["staff"])
    r = client.post("/personalizacao/compradores/convites", data={}, follow_redirects=True)
    assert "2 convite(s) sendo enviados em segundo plano." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Delivery.id))) == 0
    run_jobs()
    assert db.session.scalar(select(func.count(Delivery.id))) == 2
    invited = db.session.execute(select(AuditLog).where(AuditLog.action == "buyer.invited")).scalars().all()
    assert {a.user_id for a in invited} == {world["staff"].id}
