"""A realistic quarter of pre-sales for the demo: a few hundred leads created over the last 90 days, across
the teams, brokers, channels and media, walked through the funnel (SDR qualification, service, visit,
proposal, won or lost with a reason and a note), with their contacts, schedules and first-response clocks.

The history is simulated in Python from a fixed seed and written in bulk: going through intake and the stage
services would publish an event per step (thousands of jobs and rule messages for the worker) and could not
date anything in the past. What those services guarantee is kept: numbers come from the lead counter, every
lead holds its duplicate keys, closed leads carry their reason and the SLA clocks that are already past due are
marked breached (the worker's sweep would otherwise alert on all of them at its first minute).
Idempotent: leads are matched by e-mail/phone key, so a second run adds nothing."""
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from portal import normalize
from portal.accounts import services as accounts
from portal.automation.calendar import get_calendar
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import (CONTACT_KINDS, Channel, Lead, LeadContactKey, LeadSurvey, LossReason, Media,
                                    Narrative, Queue, QueueMember, Schedule)
from portal.presales.services import dedup
from portal.presales.services.config import default_pipeline, get_settings
from portal.presales.services.leads import qualification_score
from portal.presales.services.schedules import SCHEDULE_KINDS
from portal.sequences import next_value
from portal.web.filters import datetime_br, local_tz

SEED, DAYS, LEADS = 16, 90, 340

# More of the sales force, so boards and rankings look like a company's (same password as the other demo users).
STAFF = [  # name, e-mail, role, like whom (team)
    ("Renato Lima", "renato.lima@demo.portal", "broker", "corretora@demo.portal", "+5511990000021"),
    ("Aline Castro", "aline.castro@demo.portal", "broker", "corretora@demo.portal", "+5511990000022"),
    ("Fábio Souza", "fabio.souza@demo.portal", "broker", "corretor@demo.portal", "+5511990000023"),
    ("Vanessa Melo", "vanessa.melo@demo.portal", "broker", "corretor@demo.portal", "+5511990000024"),
    ("Larissa Teixeira", "larissa.teixeira@demo.portal", "sdr", "sdr@demo.portal", "+5511990000025"),
]

FIRST = ["Ana", "Beatriz", "Bruno", "Carla", "Daniel", "Eduarda", "Eduardo", "Fabiana", "Gabriel", "Gustavo",
         "Helena", "Igor", "Isabela", "João Pedro", "Júlia", "Leonardo", "Letícia", "Lucas", "Luana", "Marcelo",
         "Mariana", "Matheus", "Natália", "Otávio", "Patrícia", "Paulo", "Rafael", "Raquel", "Rodrigo", "Sabrina",
         "Samuel", "Sofia", "Thaís", "Vinícius", "Vitória", "Wagner", "Yasmin", "Cláudia", "Márcio", "Simone",
         "Antônio", "Luíza", "Henrique", "Priscila", "Diego", "Renata", "Felipe", "Aline", "Caio", "Débora"]
LAST = ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida", "Nascimento", "Lima",
        "Araújo", "Fernandes", "Carvalho", "Gomes", "Martins", "Rocha", "Ribeiro", "Alves", "Monteiro", "Mendes",
        "Barros", "Freitas", "Barbosa", "Pinto", "Moura", "Cavalcanti", "Dias", "Castro", "Campos", "Cardoso",
        "Teixeira", "Vieira", "Correia", "Nogueira", "Azevedo", "Moreira", "Lopes", "Figueiredo", "Peixoto", "Sales"]
DOMAINS = ["exemplo.com.br", "example.com", "exemplo.net.br", "example.org"]
DDD = {"jardim-das-acacias": ["11", "11", "11", "13"], "mirante-do-parque": ["19", "19", "11"]}

# channel slug, weight, media slugs it brings
CHANNELS = [("site", 26, ["google", "google", "facebook", "instagram"]),
            ("rdstation", 22, ["instagram", "facebook", "google"]),
            ("whatsapp", 18, ["instagram", "indicacao", "outdoor"]),
            ("api", 14, ["portal-imobiliario"]),
            ("email", 6, ["outros", "indicacao"]),
            ("manual", 10, ["indicacao", "outdoor", "outros"]),
            ("portal", 4, ["indicacao"])]
MESSAGES = ["Gostaria de saber o valor do {typ} e as condições de pagamento.",
            "Vi o anúncio e quero agendar uma visita ao decorado.",
            "Tem unidade {typ} com vaga coberta? Qual a previsão de entrega?",
            "Quero entender a tabela e se aceitam FGTS na entrada.",
            "Busco um {typ} para morar com a família. Podem me ligar à tarde?",
            "Sou investidor, tenho interesse em duas unidades {typ}.",
            "", ""]
CONTACTS = {
    "call": ["Liguei e apresentei o empreendimento; pediu a tabela de preços.",
             "Ligação: cliente quer visitar o decorado no fim de semana.",
             "Não atendeu na primeira tentativa; retornou à tarde e conversamos.",
             "Conversamos sobre financiamento e uso do FGTS."],
    "whatsapp": ["Enviei plantas e tabela pelo WhatsApp.", "Cliente respondeu no WhatsApp pedindo fotos da vista.",
                 "Mandei o vídeo do decorado e a simulação de parcelas."],
    "email": ["E-mail com o book do empreendimento e a tabela atualizada.",
              "Enviei a simulação de financiamento por e-mail."],
    "visit": ["Visita ao decorado com o casal; gostaram da planta de canto.",
              "Visita ao stand: comparou com um concorrente da região."],
    "meeting": ["Reunião para apresentar a proposta e o fluxo de pagamento."],
    "note": ["Cliente prefere contato depois das 18h.", "Aguardando resposta do banco sobre a carta de crédito."],
}
LOSS_NOTES = {"Sem interesse": "Disse que só estava pesquisando preços.",
              "Comprou com concorrente": "Fechou em um lançamento do bairro vizinho.",
              "Fora do orçamento": "A parcela da entrada ficou acima do que consegue pagar.",
              "Sem contato após tentativas": "Cinco tentativas por telefone e WhatsApp sem resposta.",
              "Localização não atende": "Precisa ficar perto da escola dos filhos.",
              "Dados inválidos": "Telefone e e-mail não existem."}
LOSS_WEIGHTS = {"Sem interesse": 26, "Comprou com concorrente": 14, "Fora do orçamento": 24,
                "Sem contato após tentativas": 22, "Localização não atende": 9, "Dados inválidos": 5}
SALES_STATUSES = ["Proposta enviada", "Em análise de crédito", "Contraproposta do cliente", "Aguardando documentos"]
PRICES = {"jardim-das-acacias": (52_000_000, 89_000_000), "mirante-do-parque": (31_000_000, 69_000_000)}
# stage name → (days the step takes: low, high; chance to go on, chance to be lost)
FLOW = {"Novo (SDR)": ((0, 1), .85, .10), "Em qualificação (SDR)": ((1, 4), .70, .20),
        "Atendimento": ((1, 8), .62, .26), "Visita agendada": ((3, 12), .66, .22), "Proposta": ((5, 20), .42, .38)}


@dataclass
class Plan:
    """One lead's simulated history: the row, then narratives and schedules to write once it has an id."""
    row: dict
    keys: list
    price: int = 0  # the unit they end up discussing (centavos)
    narratives: list = field(default_factory=list)
    schedules: list = field(default_factory=list)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _staff(users: dict) -> dict:
    """The demo's sales force by role (the base demo's people plus STAFF), created once."""
    for name, email, role, like, phone in STAFF:
        if accounts.find_user_by_email(email) is None:
            user = accounts.create_user({"name": name, "email": email, "role": role, "phone": phone,
                                         "team_id": users[like].team_id})
            user.password_hash = users[like].password_hash  # the demo's one password, without hashing it again
    people = [users[e] for e in ("corretora@demo.portal", "corretor@demo.portal", "sdr@demo.portal")]
    people += [accounts.find_user_by_email(email) for _, email, *_ in STAFF]
    return {"broker": [u for u in people if u.role == "broker"], "sdr": [u for u in people if u.role == "sdr"]}


def _join_queues(staff: dict) -> None:
    for queue_name, role in (("Roleta corretores", "broker"), ("SDR", "sdr")):
        queue = db.session.execute(select(Queue).where(Queue.name == queue_name)).scalar_one_or_none()
        if queue is None:
            continue
        have = {m.user_id for m in queue.members}
        for user in staff[role]:
            if user.id not in have:
                queue.members.append(QueueMember(user_id=user.id, position=len(queue.members)))


def _created_at(rng: random.Random, now: datetime) -> datetime:
    """A creation time within DAYS, busier lately (half uniform, half ramping up to today), in business-ish local
    hours and thinner on Sundays. Always the same number of draws, so what follows in the lead's stream of
    random numbers does not depend on the clock."""
    tz = local_tz()
    r, ramp, sunday = rng.random(), rng.random(), rng.random()
    hour = rng.choice([8, 9, 10, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21])
    minute, back = rng.randint(0, 59), rng.randint(20, 400)
    days_ago = min(DAYS - 1, int(DAYS * (r if ramp < .5 else 1 - r ** .5)))
    day = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    if day.weekday() == 6 and sunday < .6:
        day -= timedelta(days=1)
    at = (day + timedelta(hours=hour, minutes=minute)).astimezone(now.tzinfo)
    return at if at < now - timedelta(minutes=20) else now - timedelta(minutes=back)


class Simulation:
    def __init__(self, users: dict, now: datetime, pipeline):
        self.rng, self.now = random.Random(SEED), now
        self.pipeline = pipeline
        self.stages = {s.name: s for s in self.pipeline.stages}
        self.stages_by_id = {s.id: s for s in self.pipeline.stages}
        self.won = next(s for s in self.pipeline.stages if s.is_won)
        self.lost = next(s for s in self.pipeline.stages if s.is_lost)
        self.channels = {c.slug: c for c in db.session.execute(select(Channel)).scalars()}
        self.media = {m.slug: m for m in db.session.execute(select(Media)).scalars()}
        self.reasons = {r.name: r for r in db.session.execute(select(LossReason)).scalars()}
        from portal.realestate.models import Development
        self.developments = db.session.execute(select(Development).order_by(Development.id)).scalars().all()
        self.staff = _staff(users)
        self.settings = get_settings()
        self.calendar = get_calendar()
        # Zona Sul sells the São Paulo development, Zona Norte the Campinas one (most of the time)
        south = users["corretora@demo.portal"].team_id
        self.home = {d.id: [u for u in self.staff["broker"] if (u.team_id == south) == (i == 0)]
                     for i, d in enumerate(self.developments)}

    def pick(self, weighted):
        return self.rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]

    def person(self, index: int, development) -> dict:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if rng.random() < .35:
            last = f"{rng.choice(LAST)} {last}"
        name = f"{first} {last}"
        local = f"{_ascii(first)}.{_ascii(last.split()[-1])}{index}"
        phone = f"+55{rng.choice(DDD.get(development.slug, ['11']))}9{rng.randint(6000, 8699)}{index:04d}"
        return {"name": name, "email": f"{local}@{rng.choice(DOMAINS)}", "phone": normalize.phone(phone)}

    def narrative(self, plan: Plan, kind: str, at: datetime, body: str, author=None, **data) -> None:
        plan.narratives.append({"kind": kind, "body": body, "author_id": getattr(author, "id", None),
                                "created_at": at, "data": data})

    def office(self, at: datetime) -> datetime:
        """Work happens between 8h and 21h local: a time outside moves to the next morning (if that is past)."""
        local = at.astimezone(local_tz())
        if 8 <= local.hour < 21:
            return at
        morning = local.replace(hour=8, minute=self.rng.randint(0, 59)) + timedelta(days=local.hour >= 21)
        return morning.astimezone(at.tzinfo) if morning < self.now else at

    def contact(self, plan: Plan, at: datetime, author, kinds=("call", "whatsapp", "call", "email")) -> datetime:
        at = self.office(at)
        kind = self.rng.choice(kinds)
        self.narrative(plan, kind, at, self.rng.choice(CONTACTS[kind]), author)
        if kind not in CONTACT_KINDS:
            return at
        plan.row["last_contact_at"] = at
        if plan.row["first_response_at"] is None and author.id == plan.row["owner_id"]:
            plan.row["first_response_at"] = at
        return at

    def assign(self, plan: Plan, user, at: datetime, stage, how: str) -> None:
        row = plan.row
        row.update(owner_id=user.id, assigned_at=at, first_response_at=None, first_response_due=None)
        if stage.sla_minutes:
            row["first_response_due"] = self.calendar.add_business_minutes(at, stage.sla_minutes)
        self.narrative(plan, "assignment", at, f"Atribuído a {user.name} ({how})", user_id=user.id)

    def response_delay(self) -> timedelta:
        """Minutes until the owner's first contact: mostly minutes, sometimes hours (late)."""
        return timedelta(minutes=self.rng.choice([2, 4, 6, 9, 12, 15, 20, 25, 35, 50, 80, 140, 260, 600]))

    def move(self, plan: Plan, stage, at: datetime, author) -> None:
        previous = self.stages_by_id[plan.row["stage_id"]]
        self.narrative(plan, "stage", at, f"{previous.name} → {stage.name}", author,
                       from_stage=previous.id, to_stage=stage.id)
        plan.row.update(stage_id=stage.id, stage_entered_at=at)

    def lead(self, index: int) -> Plan:
        # Each lead draws from its own seeded stream, identity first: its e-mail and phone (its duplicate keys)
        # are the same on every run, whatever the clock does to the rest of its story.
        rng = self.rng = random.Random(f"{SEED}-{index}")
        development = self.developments[0 if rng.random() < .58 else -1] if self.developments else None
        channel_slug = self.pick([(slug, w) for slug, w, _ in CHANNELS])
        channel = self.channels[channel_slug]
        media = self.media.get(rng.choice(next(m for s, _, m in CHANNELS if s == channel_slug)))
        who = self.person(index, development)
        if channel_slug == "whatsapp" and rng.random() < .6:
            who["email"] = None
        elif channel_slug == "email" and rng.random() < .4:
            who["phone"] = None
        typologies = development.typologies if development else []
        typ = rng.choice(typologies).name.lower() if typologies else "apartamento"
        message = rng.choice(MESSAGES).format(typ=typ)
        created = _created_at(rng, self.now)
        sdr_first = channel.sdr_first
        stage = self.stages["Novo (SDR)" if sdr_first else "Atendimento"]
        row = {"name": who["name"], "email": who["email"], "phone": who["phone"],
               "development_id": getattr(development, "id", None), "channel_id": channel.id,
               "media_id": getattr(media, "id", None), "pipeline_id": self.pipeline.id, "stage_id": stage.id,
               "status": "open", "message": message, "extra": {}, "custom": {}, "created_at": created,
               "stage_entered_at": created, "first_response_at": None, "last_contact_at": None,
               "consent_at": created if channel_slug in ("site", "rdstation") else None}
        plan = Plan(row, dedup.contact_keys(who["email"], who["phone"], row["development_id"], self.settings),
                    price=self.price(development))
        self.narrative(plan, "system", created, f"Lead criado pelo canal {channel.name}"
                       + (f" · mídia {media.name}" if media else "") + (f"\n{message}" if message else ""))
        at = created + timedelta(seconds=rng.randint(5, 90))
        if sdr_first:
            sdr = rng.choice(self.staff["sdr"])
            self.assign(plan, sdr, at, stage, "roleta SDR")
            row["sdr_id"] = sdr.id
            actor = sdr
        else:
            broker = self.broker(development)
            self.assign(plan, broker, at, stage, "roleta de corretores")
            actor = broker
        self.walk(plan, stage, at, actor, development)
        return plan

    def broker(self, development):
        pool = self.home.get(getattr(development, "id", None)) or self.staff["broker"]
        return self.rng.choice(pool if self.rng.random() < .8 else self.staff["broker"])

    def walk(self, plan: Plan, stage, at: datetime, actor, development) -> None:
        rng, row, now = self.rng, plan.row, self.now
        answer = at + self.response_delay()
        # the odd recent lead nobody called back: its SLA shows as missed
        forgotten = rng.random() < .12 and now - at < timedelta(days=14)
        if answer >= now or forgotten or (now - at < timedelta(hours=6) and rng.random() < .45):
            self.unanswered(plan)
            return
        at = self.contact(plan, answer, actor)
        while True:
            (low, high), go_on, lose = FLOW[stage.name]
            step = self.office(at + timedelta(days=rng.uniform(low, high), hours=rng.randint(1, 6)))
            roll = rng.random()
            if step >= now or roll >= go_on + lose:  # still here: a follow-up or two, then maybe silence
                last = self.follow_ups(plan, at, min(step, now, at + timedelta(days=rng.uniform(1, 25))), actor, stage)
                if now - last > timedelta(days=21) and rng.random() < .75:  # gone quiet: the broker gives up
                    self.close_lost(plan, self.office(last + timedelta(days=rng.uniform(7, 20))), actor,
                                    "Sem contato após tentativas")
                elif stage.name == "Proposta":
                    row.update(negotiated_value_cents=plan.price, sales_status=rng.choice(SALES_STATUSES))
                return
            at = self.follow_ups(plan, at, step, actor, stage)
            if roll >= go_on:
                self.close_lost(plan, step, actor)
                return
            if stage.name == "Proposta":
                self.close_won(plan, step, actor)
                return
            nxt = self.next_stage(stage)
            if stage.is_sdr and not nxt.is_sdr:  # handover: qualified, then the brokers' roulette
                actor, step = self.handover(plan, step, actor, nxt, development)
                if step is None:  # handed over but not answered yet
                    return
            else:
                self.move(plan, nxt, step, actor)
                if nxt.name == "Visita agendada":
                    self.visit(plan, step, actor)
            stage, at = nxt, step

    def next_stage(self, stage):
        ordered = [s for s in self.pipeline.stages if not s.is_won and not s.is_lost]
        return ordered[ordered.index(stage) + 1]

    def follow_ups(self, plan: Plan, start: datetime, end: datetime, actor, stage) -> datetime:
        at = start
        for _ in range(self.rng.choice([0, 1, 1, 2])):
            nxt = at + (end - at) * self.rng.uniform(.2, .8)
            if nxt <= at or nxt >= self.now:
                break
            kinds = ("call", "whatsapp", "note") if stage.is_sdr else ("call", "whatsapp", "email", "note")
            at = self.contact(plan, nxt, actor, kinds)
        return at

    def qualify(self, plan: Plan) -> None:
        rng, row = self.rng, plan.row
        budget = plan.price * rng.uniform(.85, 1.2) / 100  # what they said they could pay, in reais
        row.update(interest_level=rng.choice(["medium", "high", "high"]),
                   budget_range="lt300" if budget < 300_000 else "300_600" if budget < 600_000 else
                   "600_1m" if budget < 1_000_000 else "gt1m",
                   fit=rng.choice(["partial", "yes", "yes"]), timeframe=rng.choice(["now", "3m", "3m", "6m"]))
        row["qualification_score"] = qualification_score(SimpleNamespace(**row))

    def handover(self, plan: Plan, at: datetime, sdr, stage, development):
        self.qualify(plan)
        self.move(plan, stage, at, sdr)
        score = plan.row["qualification_score"]
        self.narrative(plan, "qualification", at, f"Qualificado por {sdr.name} (nota {score}) e enviado aos corretores",
                       sdr, score=score)
        broker = self.broker(development)
        at = at + timedelta(minutes=self.rng.randint(1, 5))
        self.assign(plan, broker, at, stage, "roleta de corretores")
        answer = at + self.response_delay()
        if answer >= self.now:
            self.unanswered(plan)
            return broker, None
        return broker, self.contact(plan, answer, broker)

    def visit(self, plan: Plan, booked: datetime, actor) -> None:
        if not plan.row.get("interest_level"):
            self.qualify(plan)
        tz = local_tz()
        day = (booked + timedelta(days=self.rng.randint(2, 9))).astimezone(tz)
        when = day.replace(hour=self.rng.choice([10, 11, 14, 15, 16]), minute=0, second=0,
                           microsecond=0).astimezone(self.now.tzinfo)
        plan.schedules.append({"owner_id": plan.row["owner_id"], "kind": "visit", "scheduled_at": when,
                               "note": "Visita ao decorado", "created_at": booked, "booked": booked})
        self.narrative(plan, "system", booked, f"Agendado: {SCHEDULE_KINDS['visit']} em {datetime_br(when)}", actor)

    def price(self, development) -> int:
        low, high = PRICES.get(getattr(development, "slug", ""), (40_000_000, 80_000_000))
        return self.rng.randrange(low, high, 500_000)

    def close_lost(self, plan: Plan, at: datetime, actor, reason: str | None = None) -> None:
        reason = self.reasons[reason or self.pick(list(LOSS_WEIGHTS.items()))]
        self.move(plan, self.lost, at, actor)
        note = LOSS_NOTES[reason.name] if self.rng.random() < .7 else ""
        self.narrative(plan, "system", at, f"Perdido: {reason.name}" + (f" — {note}" if note else ""), actor)
        plan.row.update(status="lost", closed_at=at, loss_reason_id=reason.id)

    def close_won(self, plan: Plan, at: datetime, actor) -> None:
        self.move(plan, self.won, at, actor)
        self.narrative(plan, "system", at, "Ganho — contrato de compra e venda assinado", actor)
        plan.row.update(status="won", closed_at=at, negotiated_value_cents=plan.price,
                        sales_status="Venda concluída")

    def unanswered(self, plan: Plan) -> None:
        """No contact yet: a clock already past due was marked breached (as the sweep does, with its note)."""
        due = plan.row.get("first_response_due")
        if due is not None and due <= self.now:
            plan.row["sla_breached_at"] = due + timedelta(minutes=1)
            self.narrative(plan, "system", due + timedelta(minutes=1), "SLA de primeira resposta estourado")

    def finish(self, plan: Plan) -> None:
        """Schedules: past visits done (or overdue when the lead stalled), next ones still ahead."""
        row = plan.row
        for item in plan.schedules:
            booked = item.pop("booked")
            if item["scheduled_at"] < self.now and (row["status"] != "open" or row["stage_id"] != self.stages[
                    "Visita agendada"].id or self.rng.random() < .6):
                item["done_at"] = item["scheduled_at"] + timedelta(hours=1)
                self.narrative(plan, "visit", item["done_at"], self.rng.choice(CONTACTS["visit"]),
                               SimpleNamespace(id=item["owner_id"]))
                row["last_contact_at"] = max(row["last_contact_at"] or booked, item["done_at"])
        if row["status"] == "open" and row["stage_id"] == self.stages["Atendimento"].id and self.rng.random() < .35:
            day = (self.now + timedelta(days=self.rng.randint(1, 6))).astimezone(local_tz())
            when = day.replace(hour=self.rng.choice([9, 10, 11, 14, 15, 16, 17]), minute=self.rng.choice([0, 30]),
                               second=0, microsecond=0).astimezone(self.now.tzinfo)
            plan.schedules.append({"owner_id": row["owner_id"], "kind": "call", "scheduled_at": when,
                                   "note": "Retornar com a simulação", "created_at": row["last_contact_at"] or
                                   row["created_at"]})
        upcoming = [s["scheduled_at"] for s in plan.schedules if not s.get("done_at")]
        row["next_scheduled_at"] = min(upcoming) if upcoming else None
        last = max([n["created_at"] for n in plan.narratives])
        row["updated_at"] = last


def load_volume(users: dict) -> int:
    """Add the quarter's leads that are not there yet; returns how many were added."""
    pipeline = default_pipeline()
    names = {s.name for s in pipeline.stages} if pipeline else set()
    if not set(FLOW) <= names or not any(s.is_won for s in pipeline.stages) or not any(
            s.is_lost for s in pipeline.stages):
        return 0  # the quarter walks the standard funnel; a funnel an admin has reshaped is left alone
    sim = Simulation(users, utcnow(), pipeline)
    _join_queues(sim.staff)
    if not sim.developments:
        return 0
    plans = [sim.lead(i + 1) for i in range(LEADS)]
    for plan in plans:
        sim.finish(plan)
    taken = set(db.session.execute(select(LeadContactKey.key)).scalars())
    plans = sorted((p for p in plans if not any(key in taken for key, _ in p.keys)),
                   key=lambda p: p.row["created_at"])  # numbers follow the order leads came in
    if not plans:
        return 0
    leads = []
    for plan in plans:
        lead = Lead(number=f"L-{next_value('lead'):06d}", **plan.row)
        leads.append(lead)
    db.session.add_all(leads)
    db.session.flush()
    children = []
    for plan, lead in zip(plans, leads):
        children += [LeadContactKey(key=key, scope=scope, lead_id=lead.id) for key, scope in plan.keys]
        children += [Narrative(lead_id=lead.id, **n) for n in sorted(plan.narratives, key=lambda n: n["created_at"])]
        children += [Schedule(lead_id=lead.id, updated_at=s["created_at"], **s) for s in plan.schedules]
    children += _surveys(sim, leads)
    db.session.add_all(children)
    _count_assignments(leads)
    db.session.flush()
    return len(leads)


SURVEY_COMMENTS = {
    5: ["Atendimento rápido e muito atencioso.", "A corretora explicou tudo sobre o financiamento, adorei.", ""],
    4: ["Bom atendimento, só demoraram um pouco para retornar.", "Gostei da visita ao decorado.", ""],
    3: ["Precisei ligar duas vezes para conseguir a tabela.", ""],
    2: ["Demoraram para me responder no WhatsApp."],
    1: ["Ninguém me retornou depois da visita."],
}


def _surveys(sim: "Simulation", leads: list[Lead]) -> list[LeadSurvey]:
    """The satisfaction survey the seeded rule sends after the hand-off to sales: about half answered, mostly
    4s and 5s, a few unhappy ones, so the dashboard card and the Feedback report have figures."""
    rng, out = random.Random(f"{SEED}-surveys"), []
    for lead in leads:
        if sim.stages_by_id[lead.stage_id].is_sdr or not lead.email:
            continue
        sent = min(lead.created_at + timedelta(days=1, hours=rng.randint(0, 20)), sim.now - timedelta(hours=1))
        survey = LeadSurvey(lead_id=lead.id, owner_id=lead.owner_id, email=lead.email.lower(),
                            nonce=f"demo-{SEED}-{lead.id}-{rng.randrange(10**9)}", sent_at=sent)
        if rng.random() < .5:
            survey.score = rng.choices([5, 4, 3, 2, 1], weights=[40, 33, 15, 7, 5])[0]
            survey.comment = rng.choice(SURVEY_COMMENTS[survey.score])
            survey.answered_at = min(sent + timedelta(hours=rng.randint(1, 48)), sim.now)
        out.append(survey)
    return out


def _count_assignments(leads: list[Lead]) -> None:
    """The roulettes' fairness counters include the quarter's assignments, so the next live lead goes to the
    broker with fewer, as it would have."""
    counts: dict[int, int] = {}
    for lead in leads:
        if lead.owner_id:
            counts[lead.owner_id] = counts.get(lead.owner_id, 0) + 1
    for member in db.session.execute(select(QueueMember)).scalars():
        member.assigned_count += counts.get(member.user_id, 0)
