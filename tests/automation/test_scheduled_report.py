"""A scheduled rule renders a report and e-mails it as an attachment (the weekly-report pattern)."""
import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import time_machine
from pypdf import PdfReader

from portal.automation import engine
from portal.automation.rules import save_rule
from portal.extensions import db
from tests.factories import make_user

SP = ZoneInfo("America/Sao_Paulo")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(timezone.utc)


def test_monday_rule_emails_the_report_pdf_once(app, smtp_server, run_jobs):
    make_user("admin", name="Ana Admin")
    for i in range(3):
        make_user("broker", name=f"Corretor Número {i}")
    with time_machine.travel(at("2026-03-04 12:00"), tick=False):
        save_rule({"name": "Relatório semanal", "active": True, "trigger": "schedule", "cron": "0 8 * * 1",
                   "actions": [{"type": "report", "report": "accounts.users", "format": "pdf", "to": "fixed",
                                "address": "lider@exemplo.com.br"}]})
        db.session.commit()
    with time_machine.travel(at("2026-03-09 08:00:30"), tick=False):
        assert engine.sweep_scheduled() == 1
        assert engine.sweep_scheduled() == 0
        run_jobs()
    (mail,) = smtp_server.messages
    assert mail["to"] == ["lider@exemplo.com.br"]
    (attachment,) = list(mail["message"].iter_attachments())
    assert attachment.get_filename().endswith(".pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "Corretor Número 2" in text and "Ana Admin" in text


def test_a_rule_with_a_broken_report_fails_alone(app, run_jobs):
    from portal.automation.models import Rule
    make_user("admin")
    db.session.add(Rule(name="Quebrada", active=True, trigger="schedule", subject_type="", cron="0 8 * * 1",
                        next_run_at=at("2026-03-09 08:00"), conditions=[],
                        actions=[{"type": "report", "report": "nao.existe", "to": "fixed", "address": "a@b.com.br"}]))
    db.session.commit()
    assert engine.sweep_scheduled(at("2026-03-09 08:01")) == 1  # recorded as a problem, the sweep goes on
    rule = db.session.query(Rule).one()
    assert "nao.existe" in rule.last_error or "Relatório" in rule.last_error
