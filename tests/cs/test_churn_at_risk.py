"""The weekly at-risk (churn risk) report: the seeded Monday 08:00 rule e-mails one PDF per leader with the
accounts at risk, never twice for the same Monday, and a missed Monday is caught up once."""
import io

import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from portal.automation import engine
from portal.automation.models import Delivery
from portal.cs.reports import AtRiskAccounts, at_risk_accounts
from portal.cs.services.at_risk import ensure_weekly_rule
from portal.extensions import db
from tests.cs.conftest import at, make_account
from tests.factories import make_user


def _fixture(cs_team):
    red = make_account(csm=cs_team["caio"], name="Vermelha Ltda", mrr="3.000,00")
    red.health_grade, red.health_score = "red", 30
    flagged = make_account(csm=cs_team["bia"], name="Sinalizada Ltda", mrr="2.000,00")
    flagged.risk_flag, flagged.risk_reason = True, "Sponsor saiu"
    dropped = make_account(csm=cs_team["caio"], name="Caindo Ltda")
    dropped.health_grade, dropped.health_score, dropped.health_change_7d = "yellow", 60, -15
    fine = make_account(csm=cs_team["caio"], name="Tranquila Ltda")
    fine.health_grade, fine.health_score, fine.health_change_7d = "green", 85, -5
    db.session.commit()


def test_rows_and_reasons(app, cs_team):
    _fixture(cs_team)
    names = [a.name for a in at_risk_accounts(cs_team["leader"])]
    assert names[:2] == ["Vermelha Ltda", "Sinalizada Ltda"] and set(names) == {"Vermelha Ltda", "Sinalizada Ltda",
                                                                                  "Caindo Ltda"}
    assert [a.name for a in at_risk_accounts(cs_team["leader"], drop=20)] == ["Vermelha Ltda", "Sinalizada Ltda"]
    rows = {r["account"]: r for r in AtRiskAccounts().rows(cs_team["leader"], {})}
    assert "Sinalizada pelo CSM: Sponsor saiu" in rows["Sinalizada Ltda"]["reasons"]
    assert "caiu 15 pontos" in rows["Caindo Ltda"]["reasons"]
    assert rows["Vermelha Ltda"]["mrr_cents"] == 300_000 and rows["Vermelha Ltda"]["csm"] == "Caio CSM"


def _pdf_text(mail) -> str:
    (attachment,) = list(mail["message"].iter_attachments())
    assert attachment.get_filename().endswith(".pdf")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(attachment.get_content())).pages)


def test_monday_mail_per_leader_once_and_one_catch_up(app, cs_team, smtp_server, run_jobs):
    make_user("cs_leader", name="Léo Líder", email="leo.lider@exemplo.com.br")
    _fixture(cs_team)
    with time_machine.travel(at("2026-03-04 12:00"), tick=False):
        rule = ensure_weekly_rule()
        assert ensure_weekly_rule() is rule
        db.session.commit()
    with time_machine.travel(at("2026-03-09 08:00:30"), tick=False):
        assert engine.sweep_scheduled() == 1
        assert engine.sweep_scheduled() == 0
        run_jobs()
    assert sorted(m["to"][0] for m in smtp_server.messages) == sorted([cs_team["leader"].email,
                                                                       "leo.lider@exemplo.com.br"])
    text = _pdf_text(smtp_server.messages[0])
    assert "Vermelha Ltda" in text and "Sinalizada Ltda" in text and "Caindo Ltda" in text
    assert "Tranquila Ltda" not in text
    with time_machine.travel(at("2026-03-09 09:00"), tick=False):
        assert engine.sweep_scheduled() == 0
        run_jobs()
    assert len(smtp_server.messages) == 2
    # the worker is down on Monday 16 and returns on Wednesday 18: one catch-up, not one per missed slot
    with time_machine.travel(at("2026-03-18 10:00"), tick=False):
        assert engine.sweep_scheduled() == 1
        assert engine.sweep_scheduled() == 0
        run_jobs()
    assert len(smtp_server.messages) == 4
    assert db.session.execute(select(Delivery).where(Delivery.subject_type == "report")).scalars().all().__len__() == 4
