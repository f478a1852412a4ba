"""A development with a small finish catalog, an open window and two buyers (shared by the personalization
tests and the browser journey)."""
from datetime import datetime, timedelta

from portal.extensions import db
from portal.personalize.services import buyers, catalog, windows
from portal.personalize.services.common import local_input
from tests.factories import make_development, make_user


def window_data(opens: datetime, closes: datetime, **extra) -> dict:
    return {"name": "1ª janela", "opens_at": local_input(opens), "closes_at": local_input(closes), **extra}


def build_world(now: datetime, password: str = "segredo123") -> dict:
    staff = make_user("personalization", name="Patrícia Personalização")
    dev = make_development("Residencial Bosque Verde", towers=("Torre A", "Torre B"), units_per_tower=3,
                           staff=[staff])
    typ = dev.typologies[0]
    piso = catalog.save_category(dev, {"name": "Piso", "position": 1})
    metais = catalog.save_category(dev, {"name": "Metais", "position": 2})
    bancadas = catalog.save_category(dev, {"name": "Bancadas", "position": 3})
    sala = catalog.save_item(dev, {"category_id": piso.id, "name": "Piso da sala", "basis": "area",
                                   "typologies": {str(typ.id): "20,00"}})
    torneira = catalog.save_item(dev, {"category_id": metais.id, "name": "Torneira da cozinha", "basis": "unit",
                                       "typologies": {str(typ.id): "1"}})
    bancada = catalog.save_item(dev, {"category_id": bancadas.id, "name": "Bancada da cozinha", "basis": "fixed",
                                      "typologies": {str(typ.id): ""}})
    o = {}
    for key, item, name, price, std in [
        ("ceramica", sala, "Cerâmica 45x45", "", True), ("porcelanato", sala, "Porcelanato 90x90", "50,00", False),
        ("vinilico", sala, "Vinílico amadeirado", "80,00", False),
        ("torneira_std", torneira, "Torneira de mesa", "", True),
        ("gourmet", torneira, "Torneira gourmet", "689,00", False),
        ("granito", bancada, "Granito São Gabriel", "", True), ("quartzo", bancada, "Quartzo branco", "2.900,00", False),
    ]:
        o[key] = catalog.save_option(item, {"name": name, "price": price, "is_standard": std, "available": True})
    window = windows.save_window(dev, window_data(now - timedelta(days=1), now + timedelta(days=10)))
    units = sorted(dev.towers[0].units, key=lambda u: u.number)
    a, _ = buyers.register_buyer({"name": "Ana Compradora", "email": "ana@exemplo.com.br",
                                  "phone": "(11) 98888-0001", "cpf": "529.982.247-25"}, [units[0]])
    b, _ = buyers.register_buyer({"name": "Bruno Comprador", "email": "bruno@exemplo.com.br",
                                  "phone": "(11) 98888-0002", "cpf": "111.444.777-35"}, [units[1]])
    for user in (a, b):
        user.set_password(password)
    db.session.commit()
    return {"staff": staff, "dev": dev, "typology": typ, "items": {"sala": sala, "torneira": torneira,
            "bancada": bancada}, "options": o, "window": window, "units": units, "a": a, "b": b,
            "categories": {"piso": piso, "metais": metais, "bancadas": bancadas}}
