"""`portal demo`: a realistic, idempotent demo data set. Modules add theirs through DEMO_STEPS."""
from decimal import Decimal

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import Team
from portal.extensions import db
from portal.realestate.models import Development, Tower, Typology, Unit, UnitBuyer

DEMO_PASSWORD = "portal123"

PEOPLE = [  # name, e-mail, role, team key, phone, cpf
    ("Ana Administradora", "admin@demo.portal", "admin", None, "+5511990000001", None),
    ("Marcos Gestor Comercial", "gestor@demo.portal", "manager", "sales", "+5511990000002", None),
    ("Paula Gestora Zona Sul", "gestora.sul@demo.portal", "manager", "south", "+5511990000003", None),
    ("Sérgio SDR", "sdr@demo.portal", "sdr", "sales", "+5511990000004", None),
    ("Bruna Corretora", "corretora@demo.portal", "broker", "south", "+5511990000005", None),
    ("Carlos Corretor", "corretor@demo.portal", "broker", "north", "+5511990000006", None),
    ("Lívia Líder de CS", "lider.cs@demo.portal", "cs_leader", "cs", "+5511990000007", None),
    ("Caio CSM", "csm@demo.portal", "csm", "cs", "+5511990000008", None),
    ("Patrícia Personalização", "personalizacao@demo.portal", "personalization", None, "+5511990000009", None),
    ("João Comprador", "cliente@demo.portal", "customer", None, "+5511990000010", "52998224725"),
    ("Maria Compradora", "cliente2@demo.portal", "customer", None, "+5511990000011", "11144477735"),
]

DEVELOPMENTS = [
    {"name": "Residencial Jardim das Acácias", "slug": "jardim-das-acacias", "city": "São Paulo", "state": "SP",
     "address": "Rua das Acácias, 120 — Vila Mariana", "status": "construction",
     "towers": ["Torre A", "Torre B"], "typologies": [("2 dormitórios", 2, "58.40"), ("3 dormitórios", 3, "74.90")]},
    {"name": "Edifício Mirante do Parque", "slug": "mirante-do-parque", "city": "Campinas", "state": "SP",
     "address": "Av. Norte-Sul, 900 — Cambuí", "status": "launch",
     "towers": ["Bloco Único"], "typologies": [("Studio", 1, "32.10"), ("2 suítes", 2, "68.00")]},
]

def _module_steps():
    from portal.cs.demo import load_demo as cs
    from portal.personalize.demo import load_demo as personalize
    from portal.presales.demo import load_demo as presales
    return [presales, personalize, cs]


DEMO_STEPS = []  # extra callables (run after the base data and the modules', inside one transaction)


def _get_or_create(model, lookup: dict, **values):
    row = db.session.execute(select(model).filter_by(**lookup)).scalar_one_or_none()
    if row is None:
        row = model(**lookup, **values)
        db.session.add(row)
        db.session.flush()
    return row


def load_demo() -> list[tuple[str, str, str]]:
    teams = {
        "sales": _get_or_create(Team, {"name": "Comercial"}),
        "cs": _get_or_create(Team, {"name": "Sucesso do Cliente"}),
    }
    teams["south"] = _get_or_create(Team, {"name": "Comercial — Zona Sul"}, parent=teams["sales"])
    teams["north"] = _get_or_create(Team, {"name": "Comercial — Zona Norte"}, parent=teams["sales"])
    users = {}
    for name, email, role, team, phone, cpf in PEOPLE:
        user = services.find_user_by_email(email)
        if user is None:
            user = services.create_user({"name": name, "email": email, "role": role, "phone": phone, "cpf": cpf,
                                         "team_id": teams[team].id if team else None}, password=DEMO_PASSWORD,
                                         allow_weak_password=True)  # printed to every demo visitor anyway
        users[email] = user
    teams["sales"].manager = users["gestor@demo.portal"]
    teams["north"].manager = users["gestor@demo.portal"]
    teams["south"].manager = users["gestora.sul@demo.portal"]
    teams["cs"].manager = users["lider.cs@demo.portal"]

    units_per_dev = 20
    for spec in DEVELOPMENTS:
        dev = _get_or_create(Development, {"slug": spec["slug"]}, name=spec["name"], city=spec["city"],
                             state=spec["state"], address=spec["address"], status=spec["status"])
        typologies = [_get_or_create(Typology, {"development_id": dev.id, "name": n}, bedrooms=b,
                                     private_area_m2=Decimal(a)) for n, b, a in spec["typologies"]]
        towers = [_get_or_create(Tower, {"development_id": dev.id, "name": t}) for t in spec["towers"]]
        per_tower = units_per_dev // len(towers)
        for tower in towers:
            for i in range(per_tower):
                floor, pos = divmod(i, 4)
                typ = typologies[pos % len(typologies)]
                _get_or_create(Unit, {"tower_id": tower.id, "number": f"{floor + 1}{pos + 1:02d}"},
                               development_id=dev.id, floor=floor + 1, typology_id=typ.id,
                               private_area_m2=typ.private_area_m2,
                               status=("sold" if i % 3 == 0 else "reserved" if i % 3 == 1 else "available"))
        if users["personalizacao@demo.portal"] not in dev.staff:
            dev.staff.append(users["personalizacao@demo.portal"])
    db.session.flush()
    first = db.session.execute(select(Unit).join(Tower).join(Development)
                               .where(Development.slug == "jardim-das-acacias").order_by(Tower.name, Unit.number)).scalars().first()
    for email in ("cliente@demo.portal", "cliente2@demo.portal"):  # co-buyers of the same unit
        _get_or_create(UnitBuyer, {"unit_id": first.id, "user_id": users[email].id})
    for step in _module_steps() + DEMO_STEPS:
        step(users)
    return [(u.role_label, u.email, DEMO_PASSWORD) for u in users.values()]


@click.command("demo", help="Load the demo data set (idempotent) and print the logins.")
@with_appcontext
def demo_command():
    logins = load_demo()
    db.session.commit()
    click.echo("\nLogins de demonstração (senha igual para todos):")
    for role, email, password in logins:
        click.echo(f"  {role:<26} {email:<30} {password}")
