"""Topics of negative NPS comments: an editable list (seeded in Portuguese), the CSM's tags on detractor and
passive answers, and the "most negative topics" ranking with its drill-down, within the user's scope."""
from datetime import datetime

from sqlalchemy import case, func, select

from portal.accounts.audit import audit
from portal.accounts.scope import scoped
from portal.errors import ServiceError
from portal.cs.nps_models import NpsResponse, NpsTopic, nps_response_topics
from portal.extensions import db

DEFAULT_TOPICS = ("Suporte", "Preço", "Usabilidade", "Bugs", "Performance", "Treinamento", "Integrações",
                  "Atendimento comercial", "Onboarding", "Relatórios", "Aplicativo móvel", "Cobrança")


def ensure_default_topics() -> None:
    """The migration seeds the list; an emptied table (tests, fresh schema) gets it back."""
    if db.session.execute(select(NpsTopic.id).limit(1)).first() is None:
        db.session.add_all(NpsTopic(name=name, active=True) for name in DEFAULT_TOPICS)
        db.session.flush()


def active_topics() -> list[NpsTopic]:
    ensure_default_topics()
    return db.session.execute(select(NpsTopic).where(NpsTopic.active.is_(True)).order_by(NpsTopic.name)).scalars().all()


def all_topics() -> list[NpsTopic]:
    ensure_default_topics()
    return db.session.execute(select(NpsTopic).order_by(NpsTopic.active.desc(), NpsTopic.name)).scalars().all()


def save_topic(data: dict, topic: NpsTopic | None = None, user=None) -> NpsTopic:
    name = " ".join((data.get("name") or "").split())
    if not name:
        raise ServiceError({"name": "Informe o nome do tópico."})
    if len(name) > 80:
        raise ServiceError({"name": "Use até 80 caracteres."})
    clash = db.session.execute(select(NpsTopic.id).where(func.lower(NpsTopic.name) == name.lower())).scalar()
    if clash is not None and (topic is None or clash != topic.id):
        raise ServiceError({"name": "Já existe um tópico com esse nome."})
    created = topic is None
    if topic is None:
        topic = NpsTopic(name=name, active=True)
        db.session.add(topic)
    else:
        topic.name = name
        if "active" in data:
            values = data.getlist("active") if hasattr(data, "getlist") else [data.get("active")]
            topic.active = any(str(v).lower() in ("1", "true", "on", "sim") for v in values)
    db.session.flush()
    audit("cs.nps_topic_created" if created else "cs.nps_topic_updated", topic, user=user, name=name,
          active=topic.active)
    return topic


def set_topics(response: NpsResponse, topic_ids, user=None) -> NpsResponse:
    """Replace the answer's topics. Only detractors and passives are tagged; a retired topic already on the
    answer may stay, but only active topics can be added."""
    if not response.taggable:
        raise ServiceError({"topics": "Só respostas de detratores e neutros recebem tópicos."})
    try:
        wanted = {int(t) for t in topic_ids or [] if str(t).strip()}
    except ValueError:
        raise ServiceError({"topics": "Tópico inválido."}) from None
    current = {t.id for t in response.topics}
    topics = db.session.execute(select(NpsTopic).where(NpsTopic.id.in_(wanted))).scalars().all() if wanted else []
    if len(topics) != len(wanted) or any(not t.active and t.id not in current for t in topics):
        raise ServiceError({"topics": "Tópico inválido ou desativado."})
    response.topics = sorted(topics, key=lambda t: t.name)
    db.session.flush()
    audit("cs.nps_topics_tagged", response, user=user, topics=[t.name for t in response.topics])
    return response


def _negative(user, start: datetime | None, end: datetime | None):
    stmt = scoped(user, NpsResponse).where(NpsResponse.score <= 8)
    if start is not None:
        stmt = stmt.where(NpsResponse.answered_at >= start)
    if end is not None:
        stmt = stmt.where(NpsResponse.answered_at < end)
    return stmt


def most_negative(user, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """Per topic: how many tagged detractor + passive answers in [start, end) the user may see."""
    ids = _negative(user, start, end).with_only_columns(NpsResponse.id, NpsResponse.score).subquery()
    detractor = func.sum(case((ids.c.score <= 6, 1), else_=0))
    rows = db.session.execute(
        select(NpsTopic, func.count(ids.c.id), detractor)
        .join(nps_response_topics, nps_response_topics.c.topic_id == NpsTopic.id)
        .join(ids, ids.c.id == nps_response_topics.c.response_id)
        .group_by(NpsTopic.id, NpsTopic.name, NpsTopic.active)
        .order_by(func.count(ids.c.id).desc(), NpsTopic.name)).all()
    return [{"topic": topic, "total": total, "detractors": int(det or 0), "passives": total - int(det or 0)}
            for topic, total, det in rows]


def untagged_count(user, start: datetime | None = None, end: datetime | None = None) -> int:
    """Detractor and passive answers in the period that no CSM has tagged yet."""
    tagged = select(nps_response_topics.c.response_id)
    stmt = _negative(user, start, end).where(NpsResponse.id.not_in(tagged))
    return db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar()


def responses_for(user, topic: NpsTopic, start: datetime | None = None, end: datetime | None = None):
    """The drill-down: the tagged detractor and passive answers behind one topic's count."""
    from sqlalchemy.orm import selectinload
    tagged = select(nps_response_topics.c.response_id).where(nps_response_topics.c.topic_id == topic.id)
    stmt = (_negative(user, start, end).where(NpsResponse.id.in_(tagged))
            .options(selectinload(NpsResponse.account), selectinload(NpsResponse.topics))
            .order_by(NpsResponse.answered_at.desc(), NpsResponse.id.desc()))
    return db.session.execute(stmt).scalars().all()
