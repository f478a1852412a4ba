"""Pre-sales: configuration (pipelines, stages, channels, media, loss reasons, custom fields, queues)
and the lead with its narratives, offers and duplicate keys."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import JSONType, TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

CUSTOM_FIELD_KINDS = {"text": "Texto", "number": "Número", "date": "Data", "choice": "Lista de opções"}
INTEREST_LEVELS = {"": "—", "low": "Baixo", "medium": "Médio", "high": "Alto"}
BUDGET_RANGES = {"": "—", "lt300": "Até R$ 300 mil", "300_600": "R$ 300 a 600 mil", "600_1m": "R$ 600 mil a 1 mi",
                 "gt1m": "Acima de R$ 1 mi"}
FIT_LEVELS = {"": "—", "no": "Não combina", "partial": "Combina em parte", "yes": "Combina"}
TIMEFRAMES = {"": "—", "now": "Imediato", "3m": "Até 3 meses", "6m": "Até 6 meses", "later": "Mais de 6 meses"}
LEAD_STATUSES = {"open": "Em aberto", "won": "Ganho", "lost": "Perdido"}
NARRATIVE_KINDS = {"note": "Anotação", "call": "Ligação", "email": "E-mail", "whatsapp": "WhatsApp", "visit": "Visita",
                   "meeting": "Reunião", "system": "Sistema", "reentry": "Reentrada", "stage": "Mudança de etapa",
                   "assignment": "Distribuição", "offer": "Oferta", "qualification": "Qualificação"}
CONTACT_KINDS = ("call", "email", "whatsapp", "visit", "meeting")
SLA_OPEN = "status = 'open' AND first_response_at IS NULL AND sla_breached_at IS NULL"
STAGE_OPEN = "status = 'open' AND stage_breached_at IS NULL"


class Channel(db.Model):
    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    sdr_first: Mapped[bool] = mapped_column(default=False)  # leads from here go to the SDR queue first
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self):
        return self.name


class Media(db.Model):
    __tablename__ = "media"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self):
        return self.name


class LossReason(db.Model):
    __tablename__ = "loss_reasons"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self):
        return self.name


class Pipeline(db.Model):
    __tablename__ = "pipelines"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    stages: Mapped[list["Stage"]] = relationship(back_populates="pipeline", order_by="Stage.position",
                                                 cascade="all, delete-orphan")

    def __str__(self):
        return self.name


class Stage(db.Model):
    __tablename__ = "stages"
    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    color: Mapped[str] = mapped_column(String(7), default="#64748b")
    is_sdr: Mapped[bool] = mapped_column(default=False)
    is_won: Mapped[bool] = mapped_column(default=False)
    is_lost: Mapped[bool] = mapped_column(default=False)
    sla_minutes: Mapped[int | None] = mapped_column(Integer)  # first response, after assignment
    max_minutes: Mapped[int | None] = mapped_column(Integer)  # longest a lead may stay in this stage
    # Days an open lead may go without contact here before its card turns red (a CRM's "rotting" limit);
    # None: never. New stages start at a week, the limit brokers expect.
    contact_days: Mapped[int | None] = mapped_column(Integer, default=7)
    requires_schedule: Mapped[bool] = mapped_column(default=False)  # entering asks for a date/time (agendamento)
    handoff: Mapped[bool] = mapped_column(default=False)  # entering sends the lead to the sales CRM
    required_fields: Mapped[list] = mapped_column(JSONType, default=list)  # lead attribute or "custom:<key>"

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    def __str__(self):
        return self.name


class CustomField(db.Model):
    __tablename__ = "lead_custom_fields"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10), default="text")
    choices: Mapped[list] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(default=0)


class PresalesSettings(db.Model):
    """Duplicate-blocking rules (regras de bloqueio) — one row."""
    __tablename__ = "presales_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_same_development_only: Mapped[bool] = mapped_column(default=False)
    dedup_closed_days: Mapped[int] = mapped_column(default=30)  # lost/won within N days still block


class Queue(TimestampMixin, db.Model):
    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="broker")  # broker | sdr
    mode: Mapped[str] = mapped_column(String(10), default="offline")  # offline | online
    active: Mapped[bool] = mapped_column(default=True)
    offer_minutes: Mapped[int] = mapped_column(default=5)
    fallback_minutes: Mapped[int | None] = mapped_column(Integer)  # waiting this long → offline rotation
    development_ids: Mapped[list] = mapped_column(JSONType, default=list)  # empty: any development
    channel_ids: Mapped[list] = mapped_column(JSONType, default=list)  # empty: any channel
    position: Mapped[int] = mapped_column(default=0)

    members: Mapped[list["QueueMember"]] = relationship(back_populates="queue", order_by="QueueMember.position",
                                                        cascade="all, delete-orphan")

    def __str__(self):
        return self.name


class QueueMember(db.Model):
    __tablename__ = "queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    weight: Mapped[int] = mapped_column(default=1)
    paused: Mapped[bool] = mapped_column(default=False)
    assigned_count: Mapped[int] = mapped_column(default=0)  # assignments through this queue (fairness)
    checked_in: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    queue: Mapped[Queue] = relationship(back_populates="members")
    user = relationship("User")


class Lead(TimestampMixin, db.Model):
    __tablename__ = "leads"
    __scope__ = ("owner", "owner_id", "sdr_id")
    __table_args__ = (Index("ix_leads_stage_status", "stage_id", "status"),
                      # Partial indexes: the SLA sweep reads only open clocks that have not breached yet.
                      Index("ix_leads_sla_due", "first_response_due", sqlite_where=text(SLA_OPEN),
                            postgresql_where=text(SLA_OPEN)),
                      Index("ix_leads_stage_due", "stage_due_at", sqlite_where=text(STAGE_OPEN),
                            postgresql_where=text(STAGE_OPEN)),
                      # dashboard period, board columns and counts (bench/presales_pages.py)
                      Index("ix_leads_created_at", "created_at"),
                      Index("ix_leads_stage_entered", "stage_id", "stage_entered_at"),
                      Index("ix_leads_board", "pipeline_id", "stage_id", "owner_id", "sdr_id"),
                      Index("ix_leads_negotiating", "negotiated_value_cents",
                            sqlite_where=text("negotiated_value_cents IS NOT NULL"),
                            postgresql_where=text("negotiated_value_cents IS NOT NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    development_id: Mapped[int | None] = mapped_column(ForeignKey("developments.id"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"), index=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sdr_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)  # waiting/offered in
    message: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)
    custom: Mapped[dict] = mapped_column(JSONType, default=dict)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # LGPD consent on public forms
    interest_level: Mapped[str] = mapped_column(String(10), default="")
    budget_range: Mapped[str] = mapped_column(String(10), default="")
    fit: Mapped[str] = mapped_column(String(10), default="")
    timeframe: Mapped[str] = mapped_column(String(10), default="")
    qualification_score: Mapped[int] = mapped_column(default=0)
    loss_reason_id: Mapped[int | None] = mapped_column(ForeignKey("loss_reasons.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    working_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # "atender pendentes" lease
    working_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    handoff_status: Mapped[str | None] = mapped_column(String(10))  # pending | sent | failed
    handoff_error: Mapped[str | None] = mapped_column(Text)
    handoff_attempts: Mapped[int] = mapped_column(default=0)
    external_id: Mapped[str | None] = mapped_column(String(80), index=True)
    sales_status: Mapped[str | None] = mapped_column(String(60))
    negotiated_value_cents: Mapped[int | None] = mapped_column(Integer)

    development = relationship("Development")
    channel: Mapped[Channel | None] = relationship()
    media: Mapped[Media | None] = relationship()
    pipeline: Mapped[Pipeline] = relationship()
    stage: Mapped[Stage] = relationship()
    owner = relationship("User", foreign_keys=[owner_id])
    sdr = relationship("User", foreign_keys=[sdr_id])
    queue: Mapped[Queue | None] = relationship()
    loss_reason: Mapped[LossReason | None] = relationship()
    narratives: Mapped[list["Narrative"]] = relationship(back_populates="lead", order_by="Narrative.id.desc()",
                                                         cascade="all, delete-orphan")

    @property
    def status_label(self):
        return LEAD_STATUSES.get(self.status, self.status)

    @property
    def days_without_contact(self) -> int:
        """Whole days since the last contact; never contacted: since it was assigned (or created)."""
        since = self.last_contact_at or self.assigned_at or self.created_at or utcnow()
        return max(0, (utcnow() - since).days)

    @property
    def survey_link(self) -> str:
        """Rule field: the satisfaction-survey link, issued only when a message prints it (services.surveys)."""
        from portal.presales.services.surveys import link_for_lead
        from portal.surveys import LazyLink
        return LazyLink(lambda: link_for_lead(self))

    @property
    def schedule_late(self) -> bool:
        return self.next_scheduled_at is not None and self.next_scheduled_at < utcnow()

    @property
    def contact_overdue(self) -> bool:
        """An open lead without contact for longer than its stage allows (the board card turns red)."""
        limit = self.stage.contact_days if self.stage is not None else None
        return self.status == "open" and bool(limit) and self.days_without_contact > limit

    def __str__(self):
        return f"{self.number} — {self.name}"


class Narrative(db.Model):
    """Append-only history of a lead (narrativa / movimentação)."""
    __tablename__ = "narratives"
    __table_args__ = (Index("ix_narratives_lead", "lead_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="note")
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="narratives")
    author = relationship("User")
    channel: Mapped[Channel | None] = relationship()
    media: Mapped[Media | None] = relationship()

    @property
    def kind_label(self):
        return NARRATIVE_KINDS.get(self.kind, self.kind)


class LeadContactKey(db.Model):
    """Database guarantee for duplicate blocking: one row per normalized e-mail/phone (and development
    when blocking is per development); the unique index makes concurrent intakes collide, not duplicate."""
    __tablename__ = "lead_contact_keys"
    __table_args__ = (UniqueConstraint("key", "scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(280))
    scope: Mapped[int] = mapped_column(default=0)  # development id, or 0 for "any development"
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)


class Offer(db.Model):
    """Online roleta: a lead offered to one member for a few minutes."""
    __tablename__ = "lead_offers"
    __table_args__ = (Index("ix_lead_offers_pending", "status", "expires_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending accepted declined expired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lead: Mapped[Lead] = relationship()
    user = relationship("User")


class Schedule(TimestampMixin, db.Model):
    """An agreed date/time on a lead (agendamento: visit, call back)."""
    __tablename__ = "lead_schedules"
    __scope__ = ("owner", "owner_id")
    __table_args__ = (Index("ix_lead_schedules_pending", "owner_id", "done_at", "scheduled_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20), default="call")  # call | visit | meeting
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lead: Mapped[Lead] = relationship()
    owner = relationship("User")


class Campaign(TimestampMixin, db.Model):
    """Oferta ativa: a segment of existing leads worked again through a queue with a script."""
    __tablename__ = "campaigns"
    __scope__ = ("owner", "created_by_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    filters: Mapped[dict] = mapped_column(JSONType, default=dict)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    script: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | running | done
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    queue: Mapped[Queue] = relationship()
    created_by = relationship("User")


class CampaignLead(db.Model):
    __tablename__ = "campaign_leads"
    __table_args__ = (UniqueConstraint("campaign_id", "lead_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(12), default="assigned")  # assigned | skipped
    skip_reason: Mapped[str | None] = mapped_column(String(120))
    stage_position: Mapped[int] = mapped_column(default=0)  # where the lead was when the campaign took it

    lead: Mapped[Lead] = relationship()
    user = relationship("User")


class InboundEvent(db.Model):
    """Replay protection for signed inbound webhooks: each event id is accepted once."""
    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("source", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LeadSurvey(db.Model):
    """Satisfaction with the pre-sales service, asked once per lead after the hand-off to sales (seeded rule on
    "lead.handed_off" renders `lead.survey_link`); answered through a signed link (portal.surveys)."""
    __tablename__ = "lead_surveys"
    __scope__ = ("owner", "owner_id")
    __table_args__ = (CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_lead_survey_score"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    lead: Mapped[Lead] = relationship()
    owner = relationship("User")

    @property
    def score_label(self) -> str:
        from portal.surveys import SCORES
        return SCORES.get(self.score, "")
