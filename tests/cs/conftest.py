"""Customer-success fixtures: a CS team (leader over two CSMs, one CSM elsewhere), a product catalog with
key features, and helpers to build accounts through the services, as the screens and imports do."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from validate_docbr import CNPJ

from portal.cs.services import accounts as account_services
from portal.extensions import db
from tests.factories import make_team, make_user

SP = ZoneInfo("America/Sao_Paulo")


def at(text: str) -> datetime:
    """A São Paulo wall-clock time as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(timezone.utc)


def new_cnpj() -> str:
    return CNPJ().generate()


def make_account(csm=None, user=None, **data):
    values = {"name": "Viagens Andorinha Ltda", "cnpj": new_cnpj(), "employees": 40, "mrr": "1.500,00",
              "contact_points": 2, "csm_id": csm.id if csm else None, **data}
    account = account_services.create_account(values, user)
    db.session.commit()
    return account


@pytest.fixture
def cs_team(app):
    leader = make_user("cs_leader", name="Lívia Líder")
    team = make_team("Sucesso do Cliente", manager=leader)
    leader.team_id = team.id
    db.session.commit()
    caio = make_user("csm", team=team, name="Caio CSM")
    bia = make_user("csm", team=team, name="Bia CSM")
    outsider = make_user("csm", name="Otto Fora")
    return {"leader": leader, "team": team, "caio": caio, "bia": bia, "outsider": outsider,
            "admin": make_user("admin", name="Ana Admin")}


@pytest.fixture
def catalog(app):
    """Two products; Despesas has three key features."""
    expenses = account_services.save_product({"name": "Despesas"})
    travel = account_services.save_product({"name": "Viagens"})
    for code, name in (("relatorio_economia", "Relatório de economia"), ("aprovacao", "Aprovação"),
                       ("cartao", "Cartão corporativo")):
        account_services.add_key_feature(expenses, {"code": code, "name": name})
    db.session.commit()
    return {"expenses": expenses, "travel": travel}
