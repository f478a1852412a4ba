"""Staff linking an existing customer by e-mail: a buyer of another development is not pulled into the staff
member's scope until the buyer accepts the request sent by e-mail; until then staff see only the e-mail
they typed (not the name, CPF, phone or other units)."""
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.link_requests import LinkRequest
from portal.personalize.services import buyers
from portal.realestate.models import UnitBuyer
from tests.factories import make_development, make_user
from tests.personalize.test_esign_builtin import as_user  # noqa: F401  (fixture: logout, then login)

MARTA = {"name": "Marta Reservada", "email": "marta.reservada@exemplo.com.br", "phone": "(11) 97654-3210",
         "cpf": "390.533.447-05"}


@pytest.fixture
def two_developments(app):
    staff_a = make_user("personalization", name="Paula Alfa")
    staff_b = make_user("personalization", name="Pedro Beta")
    dev_a = make_development("Residencial Alfa", staff=[staff_a])
    dev_b = make_development("Residencial Beta", staff=[staff_b])
    units_a, units_b = dev_a.towers[0].units, dev_b.towers[0].units
    marta, _ = buyers.register_buyer(MARTA, [units_a[0]])  # dev A's buyer (no request: the CLI/demo path)
    marta.set_password("segredo123")
    db.session.commit()
    return {"staff_a": staff_a, "staff_b": staff_b, "dev_a": dev_a, "dev_b": dev_b, "marta": marta,
            "unit_a": units_a[0], "unit_a2": units_a[1], "unit_b": units_b[0]}


def _register(client, unit, **data):
    form = {"name": "Marta Trocada", "email": MARTA["email"].upper(), "phone": "", "cpf": "", **data}
    return client.post(f"/personalizacao/compradores/novo?unidade={unit.id}", data=form)


def _request_path(smtp, run_jobs, marta) -> str:
    """The link in the request e-mail, read from the real SMTP server the worker's delivery job sent it to."""
    run_jobs()
    (mail,) = [m for m in smtp.messages if marta.email in m["to"]
               and m["message"]["Subject"].startswith("Pedido de vínculo")]
    text = mail["message"].get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/personalizacao/vinculos/\S+)", text).group(1)


def test_another_developments_buyer_stays_out_of_scope_until_they_accept(two_developments, client, as_user,
                                                                          smtp_server, run_jobs):
    w = two_developments
    marta, unit_b = w["marta"], w["unit_b"]
    as_user(w["staff_b"])
    r = _register(client, unit_b, name="Marta Trocada")
    assert r.status_code == 302 and r.headers["Location"].endswith("/personalizacao/compradores")
    # not linked, her record untouched, and staff B see the e-mail they typed and nothing else of hers
    assert db.session.get(UnitBuyer, (unit_b.id, marta.id)) is None
    db.session.expire_all()
    assert (marta.name, marta.cpf, marta.phone) == ("Marta Reservada", "39053344705", "+5511976543210")
    listing = client.get("/personalizacao/compradores").get_data(as_text=True)
    assert MARTA["email"] in listing
    for secret in ("Marta Reservada", "39053344705", "390.533.447-05", "97654", "Residencial Alfa",
                   w["unit_a"].number):
        assert secret not in listing, secret
    assert client.get(f"/personalizacao/compradores/{marta.id}").status_code == 404
    assert client.get(f"/personalizacao/compradores?q={MARTA['cpf']}").get_data(as_text=True).count("Marta") == 0
    export = client.get("/personalizacao/compradores/exportar.csv").get_data(as_text=True)
    assert MARTA["email"] not in export and "Marta" not in export
    # staff A's view of their buyer is unchanged
    as_user(w["staff_a"])
    assert client.get(f"/personalizacao/compradores/{marta.id}").status_code == 200

    # the e-mail reaches Marta; another customer holding the link gets 404; Marta accepts (logged in)
    path = _request_path(smtp_server, run_jobs, marta)
    other = make_user("customer", name="Otávio Outro")
    as_user(other)
    assert client.get(path).status_code == 404
    assert client.post(path, data={"answer": "accept"}).status_code == 404
    assert db.session.get(UnitBuyer, (unit_b.id, marta.id)) is None
    as_user(marta)
    page = client.get(path).get_data(as_text=True)
    assert "Residencial Beta" in page and "Aceitar vínculo" in page
    assert client.post(path, data={"answer": "accept"}).status_code == 302
    assert db.session.get(UnitBuyer, (unit_b.id, marta.id)) is not None

    as_user(w["staff_b"])
    assert client.get(f"/personalizacao/compradores/{marta.id}").status_code == 200  # now in scope
    assert "Vínculos aguardando" not in client.get("/personalizacao/compradores").get_data(as_text=True)


def test_a_declined_request_links_nothing_and_a_buyer_already_in_scope_links_at_once(two_developments, client,
                                                                                      as_user, smtp_server, run_jobs):
    w = two_developments
    marta = w["marta"]
    as_user(w["staff_b"])
    # another CPF and phone typed: no "this e-mail has another CPF" answer that would confirm hers
    assert _register(client, w["unit_b"], cpf="529.982.247-25", phone="(11) 90000-0000").status_code == 302
    db.session.expire_all()
    assert (marta.cpf, marta.phone) == ("39053344705", "+5511976543210")
    path = _request_path(smtp_server, run_jobs, marta)
    as_user(marta)
    with time_machine.travel(utcnow() + timedelta(days=8)):  # past INVITATION_MAX_AGE (7 days)
        page = client.get(path)
        assert page.status_code == 410 and "Link expirado" in page.get_data(as_text=True)
    assert client.post(path, data={"answer": "decline"}).status_code == 302
    assert client.post(path, data={"answer": "accept"}).status_code == 200  # answered once: nothing changes
    assert db.session.get(UnitBuyer, (w["unit_b"].id, marta.id)) is None
    assert db.session.execute(select(LinkRequest)).scalar_one().declined_at is not None

    # staff A adding their own buyer to another of their units: linked at once, no request
    as_user(w["staff_a"])
    assert _register(client, w["unit_a2"], name=MARTA["name"]).status_code == 302
    assert db.session.get(UnitBuyer, (w["unit_a2"].id, marta.id)) is not None
    assert db.session.scalar(select(func.count(LinkRequest.id))) == 1
    assert db.session.scalar(select(func.count(User.id)).where(User.email == MARTA["email"])) == 1


def test_a_csv_import_naming_another_developments_buyer_only_asks_them(two_developments, client, as_user,
                                                                       smtp_server, run_jobs):
    from tests.personalize.test_buyers_import import HEADER, commit, token_of, upload
    w = two_developments
    marta, unit_b = w["marta"], w["unit_b"]
    as_user(w["staff_b"])
    row = f"Marta Trocada;{MARTA['email']};;;Residencial Beta;{unit_b.tower.name};{unit_b.number}\n"
    preview = upload(client, (HEADER + row).encode())
    assert "Marta Reservada" not in preview.get_data(as_text=True)
    assert commit(client, token_of(preview)).status_code == 302
    assert db.session.get(UnitBuyer, (unit_b.id, marta.id)) is None
    db.session.expire_all()
    assert marta.name == "Marta Reservada"
    assert client.get(f"/personalizacao/compradores/{marta.id}").status_code == 404
    assert _request_path(smtp_server, run_jobs, marta).startswith("/personalizacao/vinculos/")
