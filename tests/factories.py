"""Factories: realistic people and places so tests read like stories."""
import itertools
import unicodedata
from decimal import Decimal

from validate_docbr import CPF

from portal.accounts import services

from portal.extensions import db
from portal.realestate.models import Development, Tower, Typology, Unit, UnitBuyer

PASSWORD = "segredo123"
_seq = itertools.count(1)
FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elaine", "Fábio", "Gisele", "Heitor", "Íris", "João", "Larissa", "Márcio"]
LAST = ["Silva", "Souza", "Oliveira", "Santos", "Pereira", "Lima", "Carvalho", "Ribeiro", "Almeida", "Gomes"]


def ascii_fold(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def person_name(n):
    return f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}"


def make_user(role="broker", team=None, name=None, email=None, password=PASSWORD, **extra):
    n = next(_seq)
    name = name or person_name(n)
    data = {"name": name, "email": email or f"{ascii_fold(name.split()[0].lower())}.{n}@exemplo.com.br",
            "role": role, "phone": f"+55119{n:08d}", "team_id": team.id if team else None, **extra}
    if role == "customer" and "cpf" not in data:
        data["cpf"] = CPF().generate()
    user = services.create_user(data, password=password)
    db.session.commit()
    return user


def make_team(name, manager=None, parent=None):
    team = services.save_team({"name": name, "manager_id": manager.id if manager else None,
                               "parent_id": parent.id if parent else None})
    db.session.commit()
    return team


def make_development(name="Residencial Bosque Verde", towers=("Torre A",), units_per_tower=4, slug=None, staff=()):
    n = next(_seq)
    dev = Development(name=name, slug=slug or f"dev-{n}", city="São Paulo", state="SP", address="Rua Exemplo, 10")
    typ = Typology(development=dev, name="2 dormitórios", bedrooms=2, private_area_m2=Decimal("58.40"))
    for tname in towers:
        tower = Tower(development=dev, name=tname)
        for i in range(units_per_tower):
            db.session.add(Unit(development=dev, tower=tower, number=f"{i + 1:02d}{n % 10}", floor=i + 1,
                                typology=typ, private_area_m2=Decimal("58.40")))
    dev.staff.extend(staff)
    db.session.add(dev)
    db.session.commit()
    return dev


def give_unit(customer, unit):
    db.session.add(UnitBuyer(user_id=customer.id, unit_id=unit.id))
    db.session.commit()


def sales_tree():
    """Head of sales over two teams; each team has a manager and brokers."""
    head = make_user("manager", name="Marcos Diretor")
    south_mgr = make_user("manager", name="Paula Gestora")
    root = make_team("Comercial", manager=head)
    south = make_team("Zona Sul", manager=south_mgr, parent=root)
    north = make_team("Zona Norte", parent=root)
    for team in (root, south, north):
        db.session.refresh(team)
    head.team_id = root.id
    south_mgr.team_id = south.id
    db.session.commit()
    return {
        "head": head, "south_mgr": south_mgr, "root": root, "south": south, "north": north,
        "south_broker": make_user("broker", team=south, name="Bruna Corretora"),
        "north_broker": make_user("broker", team=north, name="Carlos Corretor"),
        "sdr": make_user("sdr", team=root, name="Sérgio SDR"),
    }
