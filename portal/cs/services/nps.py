"""NPS: signed single-use survey links (sent by rules through the account field `nps_link`, see
nps_survey.py), answers without login, NPS per period / segment / CSM / product, and the detractor follow-up task that cannot be closed
without a response note and an action plan."""
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.accounts.scope import scoped
from portal.errors import ServiceError
from portal.automation.models import Task
from portal.cs.models import SEGMENTS, Account
from portal.cs.nps_models import NpsResponse, NpsSurvey
from portal.dbtypes import utcnow
from portal.extensions import db
from portal import signed_links

SALT = "cs-nps-link"  # not the old "cs-nps": links that carried the account id and e-mail stop working
DETRACTOR_DUE_DAYS = 2
TASK_KEY = "nps-detractor:"


# ---- links -------------------------------------------------------------------------------------
# The link carries the survey's random nonce, signed and timestamped (portal.signed_links): no account id
# or e-mail, and it expires SURVEY_LINK_MAX_AGE_DAYS after it was sent.

def survey_token(account: Account, email: str | None = None) -> str:
    """A fresh link token for this account (a new pending survey): every link answers once."""
    if email is None and account.main_contact is not None:
        email = account.main_contact.email
    survey = NpsSurvey(account_id=account.id, nonce=secrets.token_urlsafe(12), sent_at=utcnow(),
                       email=(email or "").lower() or None)
    db.session.add(survey)
    db.session.flush()
    return token_for(survey)


def token_for(survey) -> str:
    return signed_links.dumps(SALT, survey.nonce)


def survey_url(account: Account, email: str | None = None) -> str:
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    return f"{base}/sucesso/nps/r/{survey_token(account, email)}"


def link_state(token: str):
    """(survey, expired) for a link; survey None when the link is forged, altered or unknown."""
    nonce, expired = signed_links.loads(SALT, token, signed_links.survey_max_age())
    if nonce is None:
        return None, False
    survey = db.session.execute(select(NpsSurvey).where(NpsSurvey.nonce == nonce)).scalar_one_or_none()
    return survey, expired and survey is not None


# ---- answering ---------------------------------------------------------------------------------

def _leader_fallback() -> int | None:
    return db.session.execute(select(User.id).where(User.role == "cs_leader", User.active.is_(True))
                              .order_by(User.id)).scalar()


EXPIRED = "Este link de pesquisa expirou."


class AlreadyAnswered(ServiceError):
    """The link was used already (also when two answers race: the unique nonce decides)."""

    def __init__(self):
        super().__init__({"token": "Esta pesquisa já foi respondida. Obrigado!"})


def answer(token: str, score, comment: str = "") -> NpsResponse:
    survey, expired = link_state(token)
    account = survey.account if survey is not None else None
    if account is None:
        raise ServiceError({"token": "Link de pesquisa inválido."})
    if survey.answered_at is not None:
        raise AlreadyAnswered()
    if expired:
        raise ServiceError({"token": EXPIRED})
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        raise ServiceError({"score": "Escolha uma nota de 0 a 10."}) from None
    if not 0 <= value <= 10:
        raise ServiceError({"score": "Escolha uma nota de 0 a 10."})
    if db.session.execute(select(NpsResponse.id).where(NpsResponse.nonce == survey.nonce)).first():
        raise AlreadyAnswered()
    now = utcnow()
    response = NpsResponse(account_id=account.id, csm_id=account.csm_id, segment=account.segment,
                           email=survey.email, nonce=survey.nonce, score=value, comment=(comment or "").strip()[:5000],
                           answered_at=now)
    response.products = list(account.products)
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:  # a concurrent answer with the same link committed first
        raise AlreadyAnswered() from None
    account.last_nps, account.last_nps_at = value, now
    db.session.flush()
    survey.answered_at, survey.response_id = now, response.id
    if response.is_detractor:
        assignee = account.csm_id or _leader_fallback()
        if assignee is not None:
            body = f"Nota {value}." + (f" Comentário: “{response.comment}”" if response.comment else "")
            task = Task(assignee_id=assignee, title=f"Responder detrator NPS: {account.name}"[:200],
                        description=body + "\nFeche pela tela de NPS com a resposta dada ao cliente e o plano de ação: "
                        + current_app.config["PORTAL_BASE_URL"].rstrip("/") + f"/sucesso/nps/respostas/{response.id}",
                        subject_type="account", subject_id=account.id,
                        due_at=now + timedelta(days=DETRACTOR_DUE_DAYS),
                        idempotency_key=f"{TASK_KEY}{response.id}")
            db.session.add(task)
            db.session.flush()
            response.task_id = task.id
    from portal.automation import events
    events.publish("account.nps_answered", account, score=value, category=response.category)
    return response


def close_detractor(response: NpsResponse, note: str, plan: str) -> NpsResponse:
    note, plan = (note or "").strip(), (plan or "").strip()
    errors = {}
    if not note:
        errors["response_note"] = "Descreva a resposta dada ao cliente."
    if not plan:
        errors["action_plan"] = "Descreva o plano de ação."
    if errors:
        raise ServiceError(errors)
    response.response_note, response.action_plan = note, plan
    now = utcnow()
    response.closed_at = now
    db.session.flush()  # the task guard reads the note and plan from the database
    if response.task is not None and response.task.done_at is None:
        response.task.done_at = now
    return response


@event.listens_for(Task, "before_update")
def _guard_detractor_task(mapper, connection, task: Task):
    """A detractor task closes only once its NPS answer holds a response note and an action plan."""
    if task.done_at is None or not (task.idempotency_key or "").startswith(TASK_KEY):
        return
    response_id = int(task.idempotency_key[len(TASK_KEY):])
    row = connection.execute(select(NpsResponse.response_note, NpsResponse.action_plan)
                             .where(NpsResponse.id == response_id)).first()
    if row is not None and not ((row.response_note or "").strip() and (row.action_plan or "").strip()):
        raise ServiceError({"task": "Tarefa de detrator só fecha com a resposta ao cliente e o plano de ação."})


def escalate_overdue(now: datetime | None = None) -> int:
    """Overdue, still open detractor tasks: tell the CSM's leader (manager of their team, else every active
    CS leader) once per answer and leader. Returns how many overdue answers were found."""
    from portal.automation.services import notify
    from portal.automation.subjects import manager_of
    now = now or utcnow()
    rows = db.session.execute(select(NpsResponse, Task).join(Task, Task.id == NpsResponse.task_id)
                              .where(Task.done_at.is_(None), Task.due_at < now, NpsResponse.closed_at.is_(None))
                              ).all()
    count = 0
    for response, task in rows:
        leader = manager_of(task.assignee) if task.assignee is not None else None
        leaders = [leader.id] if leader is not None and leader.id != task.assignee_id else list(
            db.session.execute(select(User.id).where(User.role == "cs_leader", User.active.is_(True))).scalars())
        account = response.account
        for user_id in leaders:
            notify(user_id, f"Detrator sem resposta: {account.name}"[:200],
                   f"Nota {response.score}; a tarefa de {task.assignee.name if task.assignee else 'CSM'} "
                   f"venceu sem resposta ao cliente.", url=f"/sucesso/nps/respostas/{response.id}",
                   key=f"nps-escalation:{response.id}:{user_id}")
        count += 1 if leaders else 0
    return count


# ---- figures -----------------------------------------------------------------------------------

def compute_nps(scores) -> dict:
    scores = list(scores)
    total = len(scores)
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    passives = total - promoters - detractors
    nps = _round_half_away((promoters - detractors) * 100, total) if total else None
    return {"nps": nps, "total": total, "promoters": promoters, "passives": passives, "detractors": detractors}


def _round_half_away(numerator: int, denominator: int) -> int:
    """12,5 → 13 and −12,5 → −13 (Python's round() would give 12 here but 38 for 37,5)."""
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def report(user, start: datetime | None = None, end: datetime | None = None) -> dict:
    """NPS overall, per segment and per CSM for answers in [start, end), within the user's scope."""
    stmt = scoped(user, NpsResponse)
    if start is not None:
        stmt = stmt.where(NpsResponse.answered_at >= start)
    if end is not None:
        stmt = stmt.where(NpsResponse.answered_at < end)
    from sqlalchemy.orm import selectinload
    rows = db.session.execute(stmt.order_by(NpsResponse.answered_at.desc(), NpsResponse.id.desc()).options(
        selectinload(NpsResponse.products), selectinload(NpsResponse.topics), selectinload(NpsResponse.account),
        selectinload(NpsResponse.csm), selectinload(NpsResponse.task))).scalars().all()
    by_segment = {label: compute_nps(r.score for r in rows if r.segment == code) for code, label in SEGMENTS.items()}
    csm_names: dict = {}
    for r in rows:
        csm_names.setdefault(r.csm_id, r.csm.name if r.csm else "Sem CSM")
    by_csm = sorted(((name, compute_nps(r.score for r in rows if r.csm_id == cid)) for cid, name in csm_names.items()),
                    key=lambda item: item[0])
    open_detractors = [r for r in rows if r.is_detractor and r.closed_at is None]
    return {"overall": compute_nps(r.score for r in rows), "by_segment": by_segment, "by_csm": by_csm,
            "by_product": by_product(rows), "responses": rows, "open_detractors": open_detractors}


def by_product(rows) -> list[tuple[str, dict]]:
    """NPS per product: an answer counts for every product its account had when it was given."""
    names: dict = {}
    scores: dict = {}
    for r in rows:
        for product in r.products:
            names[product.id] = product.name
            scores.setdefault(product.id, []).append(r.score)
    return sorted(((names[pid], compute_nps(values)) for pid, values in scores.items()), key=lambda item: item[0])
