"""Pre-sales defaults and demo data: a funnel, channels, media, loss reasons, queues and some leads."""
from sqlalchemy import select

from portal.automation.models import Rule
from portal.extensions import db
from portal.presales.models import Channel, Lead, LossReason, Media, Pipeline, Queue, QueueMember, Stage

CHANNELS = [("Site", "site", False), ("API", "api", False), ("Portal do cliente", "portal", False),
            ("E-mail", "email", True), ("RD Station", "rdstation", True), ("Manual", "manual", False),
            ("WhatsApp", "whatsapp", True)]
MEDIA = [("Google", "google"), ("Instagram", "instagram"), ("Facebook", "facebook"), ("Outdoor", "outdoor"),
         ("Indicação", "indicacao"), ("Portal imobiliário", "portal-imobiliario"), ("Outros", "outros")]
LOSS_REASONS = ["Sem interesse", "Comprou com concorrente", "Fora do orçamento", "Sem contato após tentativas",
                "Localização não atende", "Dados inválidos"]
STAGES = [  # name, color, sdr, won, lost, sla minutes, required fields
    ("Novo (SDR)", "#0ea5e9", True, False, False, 30, []),
    ("Em qualificação (SDR)", "#6366f1", True, False, False, None, []),
    ("Atendimento", "#f59e0b", False, False, False, 60, []),
    ("Visita agendada", "#8b5cf6", False, False, False, None, ["phone", "interest_level"]),
    ("Proposta", "#14b8a6", False, False, False, None, ["budget_range", "timeframe"]),
    ("Ganho", "#16a34a", False, True, False, None, []),
    ("Perdido", "#dc2626", False, False, True, None, []),
]


def _get(model, **lookup):
    return db.session.execute(select(model).filter_by(**lookup)).scalar_one_or_none()


def ensure_defaults() -> Pipeline:
    """Idempotent: the standard funnel, channels, media and loss reasons."""
    for name, slug, sdr in CHANNELS:
        if _get(Channel, slug=slug) is None:
            db.session.add(Channel(name=name, slug=slug, sdr_first=sdr))
    for name, slug in MEDIA:
        if _get(Media, slug=slug) is None:
            db.session.add(Media(name=name, slug=slug))
    for name in LOSS_REASONS:
        if _get(LossReason, name=name) is None:
            db.session.add(LossReason(name=name))
    pipeline = _get(Pipeline, name="Funil de pré-vendas")
    if pipeline is None:
        pipeline = Pipeline(name="Funil de pré-vendas", is_default=True)
        for pos, (name, color, sdr, won, lost, sla, req) in enumerate(STAGES):
            pipeline.stages.append(Stage(name=name, color=color, is_sdr=sdr, is_won=won, is_lost=lost,
                                         sla_minutes=sla, required_fields=req, position=pos))
        db.session.add(pipeline)
    if _get(Rule, name="SLA estourado: avisar responsável e gestor") is None:
        db.session.add(Rule(name="SLA estourado: avisar responsável e gestor", active=True, subject_type="lead",
                            trigger="event", event_type="lead.sla_breached", conditions=[], actions=SLA_ACTIONS))
    db.session.flush()
    return pipeline


SLA_ACTIONS = [
    {"type": "notify", "to": "owner", "subject": "SLA estourado: {{ lead.number }}",
     "body": "{{ lead.name }} está sem resposta desde {{ lead.first_response_due|data_hora }}."},
    {"type": "notify", "to": "manager", "subject": "SLA estourado na equipe: {{ lead.number }}",
     "body": "Responsável: {{ lead.owner.name }}"},
    {"type": "message", "channel": "email", "to": "owner", "subject": "SLA estourado: {{ lead.number }} — {{ lead.name }}",
     "body": "Olá {{ responsavel.nome }},\n\no lead {{ lead.number }} ({{ lead.name }}) passou do prazo de "
             "primeira resposta. Abra: {{ link }}"},
    {"type": "message", "channel": "email", "to": "manager", "subject": "SLA estourado na equipe: {{ lead.number }}",
     "body": "O lead {{ lead.number }} de {{ responsavel.nome }} passou do prazo de primeira resposta. {{ link }}"},
]


def load_demo(users: dict) -> None:
    from portal.presales.services.intake import intake
    from portal.realestate.models import Development
    ensure_defaults()
    devs = db.session.execute(select(Development).order_by(Development.id)).scalars().all()
    brokers = [users["corretora@demo.portal"], users["corretor@demo.portal"]]
    if _get(Queue, name="Roleta corretores") is None:
        q = Queue(name="Roleta corretores", kind="broker", mode="offline", development_ids=[])
        q.members = [QueueMember(user_id=u.id, position=i) for i, u in enumerate(brokers)]
        db.session.add(q)
    if _get(Queue, name="SDR") is None:
        q = Queue(name="SDR", kind="sdr", mode="offline")
        q.members = [QueueMember(user_id=users["sdr@demo.portal"].id)]
        db.session.add(q)
    db.session.flush()
    from portal.presales.demo_volume import load_volume
    from portal.presales.services.surveys import ensure_default_rules
    ensure_default_rules()  # the satisfaction survey rule, as the hourly job would seed it
    load_volume(users)  # the quarter behind; the samples below are today's, through intake and the roulette
    samples = [("Fernanda Rocha", "fernanda.rocha@exemplo.com.br", "11987650001", "site", "google"),
               ("Ricardo Nunes", "ricardo.nunes@exemplo.com.br", "11987650002", "rdstation", "instagram"),
               ("Juliana Prado", "juliana.prado@exemplo.com.br", "11987650003", "whatsapp", "indicacao"),
               ("Tiago Moreira", "tiago.moreira@exemplo.com.br", "11987650004", "site", "facebook"),
               ("Camila Duarte", "camila.duarte@exemplo.com.br", "11987650005", "manual", "outdoor"),
               ("André Batista", "andre.batista@exemplo.com.br", "11987650006", "api", "portal-imobiliario")]
    for i, (name, email, phone, channel, media) in enumerate(samples):
        if _get(Lead, email=email) is not None:
            continue  # a second run would record a re-entry on it
        intake({"name": name, "email": email, "phone": phone, "development": devs[i % len(devs)].slug,
                "channel": channel, "media": media, "message": "Gostaria de mais informações."})
