"""A rule e-mails a report: rendered once, one delivery per recipient, the file attached, idempotent."""
import io
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.automation.models import Delivery
from portal.extensions import db
from portal.reports.services import email_report
from tests.factories import make_development, make_user


def outbox_messages(app):
    return [message_from_bytes(p.read_bytes(), policy=email_policy)
            for p in sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))]


def test_email_report_attaches_the_pdf_once_per_recipient_and_is_idempotent(app, run_jobs):
    make_user("admin", name="Ana Administradora")
    make_development("Residencial Bosque Verde", units_per_tower=4)
    deliveries = email_report("realestate.units", {}, "pdf", ["diretoria@exemplo.com.br", "Financeiro@Exemplo.com.br",
                                                              "diretoria@exemplo.com.br"])
    db.session.commit()
    assert sorted(d.recipient for d in deliveries) == ["diretoria@exemplo.com.br", "financeiro@exemplo.com.br"]
    assert deliveries[0].attachments[0]["path"] == deliveries[1].attachments[0]["path"]  # rendered once
    run_jobs()
    messages = outbox_messages(app)
    assert len(messages) == 2
    msg = messages[0]
    assert msg["Subject"] == "Relatório: Unidades por empreendimento"
    assert "com 1 linha" in msg.get_body(("plain",)).get_content()
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().startswith("unidades-por-empreendimento-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "Residencial Bosque Verde" in text and "São Paulo/SP" in text

    again = email_report("realestate.units", {}, "pdf", ["diretoria@exemplo.com.br"])
    db.session.commit()
    assert again == []
    assert db.session.scalar(select(func.count(Delivery.id))) == 2
    # another rule slot (its own key) is another message
    assert len(email_report("realestate.units", {}, "csv", ["diretoria@exemplo.com.br"], key="r7:slot2:a0")) == 1


def test_email_report_runs_with_the_given_users_scope_and_checks_input(app):
    staff = make_user("personalization")
    make_development("Residencial Bosque Verde", units_per_tower=2, staff=[staff])
    make_development("Torres do Mirante", units_per_tower=2)
    (delivery,) = email_report("realestate.units", {}, "csv", ["equipe@exemplo.com.br"], run_as_user=staff)
    body = Path(delivery.attachments[0]["path"]).read_text(encoding="utf-8-sig")
    assert "Bosque Verde" in body and "Mirante" not in body
    with pytest.raises(ServiceError) as exc:
        email_report("realestate.units", {}, "pdf", ["não é e-mail"], run_as_user=staff)
    assert "recipients" in exc.value.errors
    with pytest.raises(ServiceError):
        email_report("realestate.units", {"development": "999"}, "pdf", ["a@exemplo.com.br"], run_as_user=staff)
    with pytest.raises(ServiceError):  # no admin to run as
        email_report("realestate.units", {}, "pdf", ["a@exemplo.com.br"])
