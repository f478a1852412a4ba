"""Buyer questions: a thread per unit with attachments checked by content, scoped to the unit's buyers and
the development's staff, each message telling the other side."""
import io

import pytest
from sqlalchemy import func, select

from portal.automation.models import Event, Notification
from portal.extensions import db
from portal.personalize.questions import BuyerQuestion, QuestionAttachment, QuestionMessage
from portal.personalize.services import questions as qs
from tests.factories import make_development, make_user
from tests.security.test_uploads import pdf, png

PDF = pdf()  # files are decoded on upload (portal.uploads): real ones, not just their first bytes
PNG = png()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files():
    return sorted(p.name for p in qs.files_dir().iterdir()) if qs.files_dir().exists() else []


def ask(client, unit, subject="Posso trocar a bancada?", body="Queria saber se dá para trocar depois.",
        files=()):
    data = {"subject": subject, "body": body,
            "attachments": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/personalizacao/unidades/{unit.id}/duvidas", data=data,
                       content_type="multipart/form-data")


def reply(client, question_id, body, files=()):
    data = {"body": body, "attachments": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/personalizacao/duvidas/{question_id}/mensagens", data=data,
                       content_type="multipart/form-data")


def only_question():
    return db.session.execute(select(BuyerQuestion)).scalar_one()


def test_buyer_asks_staff_answers_and_each_side_is_told(world, client, login_as, smtp_server, run_jobs):
    qs.ensure_default_rules()
    db.session.commit()
    assert qs.ensure_default_rules() == []  # seeded once
    ana, staff, unit = world["a"], world["staff"], world["units"][0]
    other_staff = make_user("personalization", name="Otávio Obras")
    world["dev"].staff.append(other_staff)
    db.session.commit()

    login_as(ana)
    page = client.get(f"/personalizacao/unidades/{unit.id}/duvidas")
    assert page.status_code == 200 and "Nova dúvida" in page.get_data(as_text=True)
    response = ask(client, unit, files=[("planta.pdf", PDF), ("foto.png", PNG)])
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    question = only_question()
    assert question.status == "open" and len(question.messages[0].attachments) == 2
    assert {f"{a.stored_name}.{qs.KINDS[a.content_type]}" for a in question.messages[0].attachments} <= set(stored_files())
    # the bell of every staff member of the development, not only the rule's owner
    bells = db.session.execute(select(Notification.user_id).where(Notification.url == f"/personalizacao/duvidas/"
                                                                  f"{question.id}")).scalars().all()
    assert sorted(bells) == sorted([staff.id, other_staff.id])
    run_jobs()
    to_staff = [m for m in smtp_server.messages if staff.email in m["to"]]
    assert to_staff and "Nova dúvida: Posso trocar a bancada?" in to_staff[0]["message"]["subject"]

    client.post("/logout")
    login_as(staff)
    inbox = client.get("/personalizacao/duvidas?situacao=open").get_data(as_text=True)
    assert "Posso trocar a bancada?" in inbox
    thread = client.get(f"/personalizacao/duvidas/{question.id}").get_data(as_text=True)
    assert "planta.pdf" in thread and "Queria saber se dá para trocar depois." in thread
    attachment = question.messages[0].attachments[0]
    download = client.get(f"/personalizacao/duvidas/anexos/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert reply(client, question.id, "Pode sim, até o fim da janela.").status_code == 302
    db.session.refresh(question)
    assert question.status == "answered"
    run_jobs()
    to_buyer = [m for m in smtp_server.messages if ana.email in m["to"]]
    assert len(to_buyer) == 1
    mail = to_buyer[0]["message"]
    assert mail["subject"] == "Sua dúvida foi respondida: Posso trocar a bancada?"
    assert "Pode sim, até o fim da janela." in mail.get_content()
    assert f"/personalizacao/duvidas/{question.id}" in mail.get_content()
    # the unit's history (staff unit page) tells the thread's life
    history = client.get(f"/personalizacao/unidades/{unit.id}").get_data(as_text=True)
    assert "Dúvida aberta pelo comprador" in history and "Equipe respondeu a dúvida" in history

    # the buyer replies: open again, and the staff are rung again
    client.post("/logout")
    login_as(ana)
    assert reply(client, question.id, "Obrigada! E a torneira?").status_code == 302
    db.session.refresh(question)
    assert question.status == "open" and question.messages_count == 3
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == staff.id)) == 2
    types = db.session.execute(select(Event.type).where(Event.subject_type == "question")
                               .order_by(Event.id)).scalars().all()
    assert types == ["question.opened", "question.answered", "question.buyer_replied"]


def test_close_and_reopen_from_either_side(world, client, login_as):
    ana, staff, unit = world["a"], world["staff"], world["units"][0]
    login_as(ana)
    ask(client, unit)
    question = only_question()
    assert client.post(f"/personalizacao/duvidas/{question.id}/encerrar").status_code == 302
    db.session.refresh(question)
    assert question.status == "closed" and question.closed_by_id == ana.id
    # nothing can be written on a closed question until it is reopened
    refused = reply(client, question.id, "Mais uma coisa")
    assert refused.status_code == 422 and "Reabra-a" in refused.get_data(as_text=True)
    assert count(QuestionMessage) == 1
    client.post("/logout")
    login_as(staff)
    client.post(f"/personalizacao/duvidas/{question.id}/reabrir")
    db.session.refresh(question)
    assert question.status == "answered" and question.closed_at is None
    client.post(f"/personalizacao/duvidas/{question.id}/encerrar")
    db.session.refresh(question)
    assert question.status == "closed" and question.closed_by_id == staff.id
    closed_list = client.get("/personalizacao/duvidas?situacao=closed").get_data(as_text=True)
    open_list = client.get("/personalizacao/duvidas?situacao=open").get_data(as_text=True)
    assert "Posso trocar a bancada?" in closed_list and "Posso trocar a bancada?" not in open_list


def test_a_buyer_never_reaches_another_buyers_unit(world, client, login_as):
    ana, bruno = world["a"], world["b"]
    login_as(ana)
    ask(client, world["units"][0], files=[("planta.pdf", PDF)])
    question = only_question()
    attachment = db.session.execute(select(QuestionAttachment)).scalar_one()
    client.post("/logout")
    login_as(bruno)
    assert client.get(f"/personalizacao/unidades/{world['units'][0].id}/duvidas").status_code == 404
    assert ask(client, world["units"][0], subject="Invasão").status_code == 404
    assert client.get(f"/personalizacao/duvidas/{question.id}").status_code == 404
    assert reply(client, question.id, "Olá").status_code == 404
    assert client.post(f"/personalizacao/duvidas/{question.id}/encerrar").status_code == 404
    assert client.get(f"/personalizacao/duvidas/anexos/{attachment.id}").status_code == 404
    assert client.get("/personalizacao/duvidas").status_code == 403  # the staff inbox
    assert count(BuyerQuestion) == 1 and count(QuestionMessage) == 1
    db.session.refresh(question)
    assert question.status == "open"
    # his own unit works
    assert client.get(f"/personalizacao/unidades/{world['units'][1].id}/duvidas").status_code == 200


def test_staff_of_another_development_never_sees_its_questions(world, client, login_as):
    login_as(world["a"])
    ask(client, world["units"][0], files=[("planta.pdf", PDF)])
    question = only_question()
    attachment = db.session.execute(select(QuestionAttachment)).scalar_one()
    client.post("/logout")
    outsider = make_user("personalization", name="Olga Outra Obra")
    other = make_development("Edifício Horizonte", staff=[outsider])
    db.session.commit()
    login_as(outsider)
    inbox = client.get("/personalizacao/duvidas")
    assert inbox.status_code == 200 and "Posso trocar a bancada?" not in inbox.get_data(as_text=True)
    assert "Nenhuma dúvida" in inbox.get_data(as_text=True)
    assert client.get(f"/personalizacao/duvidas?empreendimento={world['dev'].id}").status_code == 404
    assert client.get(f"/personalizacao/duvidas?empreendimento={other.id}").status_code == 200
    assert client.get(f"/personalizacao/duvidas/{question.id}").status_code == 404
    assert reply(client, question.id, "Oi").status_code == 404
    assert client.get(f"/personalizacao/duvidas/anexos/{attachment.id}").status_code == 404
    assert qs.status_counts(outsider) == {"open": 0, "answered": 0, "closed": 0}
    assert qs.status_counts(world["staff"])["open"] == 1


@pytest.mark.parametrize("files, message", [
    ([("planta.pdf", PDF), ("programa.png", b"MZ\x90\x00" + b"\x00" * 60)], "não é PDF, JPEG ou PNG"),
    ([("desenho.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")], "não é PDF, JPEG ou PNG"),
    ([("grande.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024))], "passa de 10 MB"),
    ([("a.pdf", PDF), ("b.pdf", PDF), ("c.pdf", PDF), ("d.pdf", PDF)], "no máximo 3 arquivos"),
])
def test_a_bad_attachment_refuses_the_whole_message(world, client, login_as, files, message):
    login_as(world["a"])
    before = stored_files()
    response = ask(client, world["units"][0], files=files)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "Posso trocar a bancada?" in page  # what was typed stays in the form
    assert count(BuyerQuestion) == count(QuestionMessage) == count(QuestionAttachment) == 0
    assert stored_files() == before
    assert db.session.scalar(select(func.count(Event.id)).where(Event.subject_type == "question")) == 0


def test_a_bad_reply_attachment_writes_nothing(world, client, login_as):
    login_as(world["a"])
    ask(client, world["units"][0])
    question = only_question()
    before = stored_files()
    response = reply(client, question.id, "Segue a foto", files=[("foto.jpg", b"GIF89a" + b"\x00" * 40)])
    assert response.status_code == 422 and "não é PDF, JPEG ou PNG" in response.get_data(as_text=True)
    assert count(QuestionMessage) == 1 and count(QuestionAttachment) == 0 and stored_files() == before


def test_required_fields(world, client, login_as):
    login_as(world["a"])
    response = ask(client, world["units"][0], subject="  ", body="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Informe o assunto." in page and "Escreva a sua mensagem." in page
    assert count(BuyerQuestion) == 0


def test_staff_cannot_open_a_question_in_the_buyers_name(world, client, login_as):
    login_as(world["staff"])
    assert ask(client, world["units"][0]).status_code == 403
    assert count(BuyerQuestion) == 0


def test_staff_inbox_queries_do_not_grow_with_the_questions(world, client, login_as):
    from sqlalchemy import event

    from tests.factories import give_unit
    units = world["dev"].towers[1].units

    def ask(n):
        for unit in units[:n]:
            if db.session.scalar(select(func.count(BuyerQuestion.id)).where(BuyerQuestion.unit_id == unit.id)):
                continue
            buyer = make_user("customer")
            give_unit(buyer, unit)
            qs.open_question(unit, buyer, "Dúvida", "Texto da dúvida")
        db.session.commit()
        db.session.expire_all()

    def count():
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/personalizacao/duvidas").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    login_as(world["staff"])
    ask(1)
    few = count()
    ask(3)
    assert count() == few  # no query per row (the buyer who opened it)
