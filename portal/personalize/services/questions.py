"""Buyer questions: open, reply, close, reopen; attachments checked by content; who is told what.

- Every file is checked (size, then decoded by portal.uploads: images re-encoded, PDFs without JavaScript,
  automatic actions or embedded files) before anything is written: a bad file refuses the whole message,
  with the reason, and leaves neither rows nor files behind.
- A buyer's message rings the bell of every staff member of the development; a staff message is
  e-mailed to the buyer by a seeded default rule on "question.answered" (admins may edit or turn it off).
- Every step is an event on the question, so the unit's history (staff unit page) shows the thread's life.
"""
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from portal.accounts.audit import audit
from portal.accounts.scope import scoped
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.automation.models import Event
from portal.automation.services import notify
from portal.automation.timeline import Entry
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.jobs import periodic
from portal.personalize import default_rules
from portal.personalize.questions import QUESTION_STATUSES, BuyerQuestion, QuestionAttachment, QuestionMessage
from portal.personalize.services.selections import is_staff
from portal.realestate.models import Development, Tower, Unit
from portal.uploads import UploadRefused, check

DEFAULT_MAX_MB = 10
MAX_FILES = 3
MAX_BODY = 5000
KINDS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
PER_PAGE = 30


# ---- attachments ---------------------------------------------------------------------------------

def max_bytes() -> int:
    return int(current_app.config.get("QUESTION_ATTACHMENT_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024


def files_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "personalize" / "questions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(attachment: QuestionAttachment) -> Path:
    return files_dir() / f"{attachment.stored_name}.{KINDS[attachment.content_type]}"


def check_files(files) -> list[tuple[str, bytes, str]]:
    """[(name, data)] → [(name, data, type)], or ServiceError naming the first bad file."""
    files = [(name or "", data) for name, data in files or [] if data or name]
    if len(files) > MAX_FILES:
        raise ServiceError({"attachments": f"Envie no máximo {MAX_FILES} arquivos por mensagem."})
    limit, out = max_bytes(), []
    for name, data in files:
        label = f"“{name}”" if name else "O arquivo"
        if not data:
            raise ServiceError({"attachments": f"{label} está vazio."})
        if len(data) > limit:
            raise ServiceError({"attachments": f"{label} passa de {limit // (1024 * 1024)} MB. "
                                               "Reduza o arquivo e envie de novo."})
        try:
            clean, kind = check(data, KINDS, label)
        except UploadRefused as exc:
            raise ServiceError({"attachments": str(exc)}) from None
        out.append((name[:255], clean, kind))
    return out


def _store(message: QuestionMessage, unit_id: int, checked) -> None:
    for name, data, kind in checked:
        row = QuestionAttachment(message=message, unit_id=unit_id, stored_name=secrets.token_hex(16),
                                 original_name=name, content_type=kind, size_bytes=len(data))
        db.session.add(row)
        db.session.flush()
        file_path(row).write_bytes(data)  # last step: every check already passed


# ---- the thread ----------------------------------------------------------------------------------

def _clean_body(body) -> str:
    text = str(body or "").strip()
    if not text:
        raise ServiceError({"body": "Escreva a sua mensagem."})
    if len(text) > MAX_BODY:
        raise ServiceError({"body": f"Use no máximo {MAX_BODY} caracteres."})
    return text


def _add_message(question: BuyerQuestion, actor, body: str, checked, now) -> QuestionMessage:
    message = QuestionMessage(question=question, author_id=getattr(actor, "id", None), from_staff=is_staff(actor),
                              body=body, created_at=now)
    db.session.add(message)
    db.session.flush()
    _store(message, question.unit_id, checked)
    question.last_message_at = now
    question.messages_count = (question.messages_count or 0) + 1
    return message


def _ring_staff(question: BuyerQuestion, message: QuestionMessage, title: str) -> None:
    """The bell of every staff member of the development (the rule owner is only one of them)."""
    development = db.session.get(Development, question.development_id)
    for user in development.staff if development else []:
        if user.active:
            notify(user.id, title, f"{question.unit.label}: {question.subject}",
                   url=f"/personalizacao/duvidas/{question.id}", key=f"question-msg:{message.id}:u{user.id}")


def open_question(unit: Unit, actor, subject, body, files=(), now=None) -> BuyerQuestion:
    """A buyer asks about their unit (the caller already checked the unit is theirs)."""
    now = now or utcnow()
    errors = {}
    subject_text = " ".join(str(subject or "").split())
    if not subject_text:
        errors["subject"] = "Informe o assunto."
    elif len(subject_text) > 160:
        errors["subject"] = "Use no máximo 160 caracteres."
    try:
        body = _clean_body(body)
    except ServiceError as exc:
        errors.update(exc.errors)
    if errors:
        raise ServiceError(errors)
    checked = check_files(files)
    question = BuyerQuestion(unit_id=unit.id, development_id=unit.development_id, opened_by_id=actor.id,
                             subject=subject_text, status="open", created_at=now, last_message_at=now)
    question.unit = unit
    db.session.add(question)
    db.session.flush()
    message = _add_message(question, actor, body, checked, now)
    publish("question.opened", question, actor=actor, message_id=message.id, attachments=len(checked))
    _ring_staff(question, message, f"Nova dúvida de {actor.name}")
    return question


def post_message(question: BuyerQuestion, actor, body, files=(), now=None) -> QuestionMessage:
    now = now or utcnow()
    if question.status == "closed":
        raise ServiceError({"body": "Esta dúvida está encerrada. Reabra-a para escrever de novo."})
    body = _clean_body(body)
    checked = check_files(files)
    message = _add_message(question, actor, body, checked, now)
    if message.from_staff:
        question.status = "answered"
        publish("question.answered", question, actor=actor, message_id=message.id, attachments=len(checked))
    else:
        question.status = "open"
        publish("question.buyer_replied", question, actor=actor, message_id=message.id, attachments=len(checked))
        _ring_staff(question, message, f"{actor.name} respondeu na dúvida")
    db.session.flush()
    return message


def close(question: BuyerQuestion, actor, now=None) -> BuyerQuestion:
    if question.status == "closed":
        raise ServiceError({"status": "Esta dúvida já está encerrada."})
    question.status, question.closed_at, question.closed_by_id = "closed", now or utcnow(), actor.id
    audit("question.closed", question, unit_id=question.unit_id)
    publish("question.closed", question, actor=actor)
    return question


def reopen(question: BuyerQuestion, actor) -> BuyerQuestion:
    if question.status != "closed":
        raise ServiceError({"status": "Só uma dúvida encerrada pode ser reaberta."})
    # Reopened by the buyer: the staff's turn; by staff: they reopen to write to the buyer.
    question.status = "answered" if is_staff(actor) else "open"
    question.closed_at = question.closed_by_id = None
    audit("question.reopened", question, unit_id=question.unit_id)
    publish("question.reopened", question, actor=actor)
    return question


# ---- reading -------------------------------------------------------------------------------------

def load_thread(question_id: int, user) -> BuyerQuestion | None:
    return db.session.execute(
        scoped(user, BuyerQuestion).where(BuyerQuestion.id == question_id)
        .options(selectinload(BuyerQuestion.messages).selectinload(QuestionMessage.attachments),
                 selectinload(BuyerQuestion.messages).selectinload(QuestionMessage.author))).scalar_one_or_none()


def unit_questions(unit: Unit) -> list[BuyerQuestion]:
    return db.session.execute(select(BuyerQuestion).where(BuyerQuestion.unit_id == unit.id)
                              .order_by(BuyerQuestion.last_message_at.desc())).scalars().all()


def staff_list(user, status: str | None = None, development_id: int | None = None, page: int = 1):
    """Questions in the user's developments; open ones (the staff's turn) first, newest activity first."""
    from portal.personalize.queries import Pager
    stmt = scoped(user, BuyerQuestion)
    if status in QUESTION_STATUSES:
        stmt = stmt.where(BuyerQuestion.status == status)
    if development_id:
        stmt = stmt.where(BuyerQuestion.development_id == development_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(
        stmt.join(Unit, Unit.id == BuyerQuestion.unit_id).join(Tower, Tower.id == Unit.tower_id)
        .add_columns(Unit, Tower)
        .options(selectinload(BuyerQuestion.opened_by), selectinload(BuyerQuestion.unit).selectinload(Unit.development))
        .order_by(case((BuyerQuestion.status == "open", 0), (BuyerQuestion.status == "answered", 1), else_=2),
                  BuyerQuestion.last_message_at.desc(), BuyerQuestion.id.desc())
        .limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE)).all()
    return Pager([(q, unit, tower) for q, unit, tower in rows], max(page, 1), total, PER_PAGE)


def status_counts(user, development_id: int | None = None) -> dict[str, int]:
    stmt = scoped(user, BuyerQuestion, BuyerQuestion.status, func.count(BuyerQuestion.id))
    if development_id:
        stmt = stmt.where(BuyerQuestion.development_id == development_id)
    counts = dict(db.session.execute(stmt.group_by(BuyerQuestion.status)).all())
    return {key: counts.get(key, 0) for key in QUESTION_STATUSES}


def unit_timeline(unit_id: int) -> list[Entry]:
    """The question events of a unit, for the unit's history (titled with the question's subject)."""
    from portal.automation.subjects import EVENT_TYPES
    subjects = dict(db.session.execute(select(BuyerQuestion.id, BuyerQuestion.subject)
                                       .where(BuyerQuestion.unit_id == unit_id)).all())
    if not subjects:
        return []
    rows = db.session.execute(select(Event).where(Event.subject_type == "question",
                                                  Event.subject_id.in_(list(subjects)))
                              .order_by(Event.created_at.desc()).limit(200)).scalars()
    return [Entry(e.created_at, "event", EVENT_TYPES.get(e.type, (None, e.type))[1],
                  body=f"Dúvida: {subjects.get(e.subject_id, '')}", actor=e.actor.name if e.actor else None)
            for e in rows]


# ---- default rules -------------------------------------------------------------------------------

QUESTION_RULES = {
    "question.answered.email": {
        "name": "Dúvidas: resposta da equipe por e-mail ao comprador", "active": True, "trigger": "event",
        "subject_type": "question", "event_type": "question.answered", "quiet_hours": True,
        "actions": [{"type": "message", "channel": "email", "to": "contact",
                     "subject": "Sua dúvida foi respondida: {{ question.subject }}",
                     "body": "Olá, {{ contato.nome }}! A equipe de personalização respondeu a sua dúvida "
                             "“{{ question.subject }}” sobre a unidade {{ question.unit.number }} "
                             "({{ question.unit.development.name }}):\n\n{{ question.last_excerpt }}\n\n"
                             "Leia a resposta completa e responda pelo portal: {{ link }}"}]},
    "question.opened.email": {
        "name": "Dúvidas: nova dúvida de comprador por e-mail ao responsável", "active": True, "trigger": "event",
        "subject_type": "question", "event_type": "question.opened", "quiet_hours": True,
        "actions": [{"type": "message", "channel": "email", "to": "owner",
                     "subject": "[Personalização] Nova dúvida: {{ question.subject }}",
                     "body": "{{ contato.nome }} abriu uma dúvida sobre a unidade {{ question.unit.number }} "
                             "({{ question.unit.tower.name }}, {{ question.unit.development.name }}):\n\n"
                             "{{ question.last_excerpt }}\n\nResponder: {{ link }}"}]},
}


def ensure_default_rules() -> list[str]:
    """Seed the question and survey rules not seeded yet (idempotent)."""
    from portal.personalize.services.surveys import SURVEY_RULES
    return default_rules.seed({**QUESTION_RULES, **SURVEY_RULES})


@periodic(cron="20 * * * *", queue_name="low")
def seed_default_rules() -> dict:
    """Hourly: the default question/survey rules appear on a fresh install without a manual step."""
    created = ensure_default_rules()
    db.session.commit()
    return {"created": created}


def load_demo(users: dict) -> None:
    """Demo: the default rules, and one answered question for João (the demo buyer). Idempotent."""
    ensure_default_rules()
    joao, staff = users.get("cliente@demo.portal"), users.get("personalizacao@demo.portal")
    if joao is None or staff is None:
        return
    from portal.realestate.models import UnitBuyer
    unit = db.session.execute(select(Unit).join(UnitBuyer, UnitBuyer.unit_id == Unit.id)
                              .where(UnitBuyer.user_id == joao.id).order_by(Unit.id)).scalars().first()
    if unit is None or db.session.execute(select(BuyerQuestion.id).where(BuyerQuestion.unit_id == unit.id)).first():
        return
    question = open_question(unit, joao, "Posso escolher o piso depois de enviar?",
                             "Olá! Se eu enviar a personalização agora, ainda consigo trocar o piso da sala?")
    post_message(question, staff, "Oi, João! Depois de enviar, a personalização fica travada; se precisar trocar, "
                                  "fale com a gente por aqui que reabrimos enquanto a janela estiver aberta.")
