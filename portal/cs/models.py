"""Customer success tables: accounts (B2B clients) with contacts and products, the journey (phase history,
onboarding checklist, touchpoints), usage metrics, daily health scores and the module's settings."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import JSONType, TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

PHASES = {"onboarding": "Onboarding", "adoption": "Adoção", "ongoing": "Ongoing", "renewal": "Renovação"}
PHASE_COLORS = {"onboarding": "#0ea5e9", "adoption": "#8b5cf6", "ongoing": "#16a34a", "renewal": "#f59e0b"}
SEGMENTS = {"enterprise": "Enterprise", "smb": "ME/PME"}
TOUCH_MODELS = {"high": "High touch", "mid": "Mid touch", "tech": "Tech touch"}
DEFAULT_TOUCH = {"enterprise": "high", "smb": "mid"}
TOUCHPOINT_KINDS = {"meeting": "Reunião", "call": "Ligação", "email": "E-mail", "visit": "Visita",
                    "ebr": "EBR/RTS", "training": "Treinamento"}
ONBOARDING_STEPS = {"kickoff": "Kickoff", "discovery": "Levantamento", "setup": "Configuração",
                    "acceptance": "Homologação", "training": "Treinamento", "go_live": "Go-live"}
CONTACT_ROLES = {"sponsor": "Patrocinador executivo", "decision": "Decisor", "key_user": "Usuário-chave",
                 "finance": "Financeiro", "technical": "Técnico", "other": "Outro"}
GRADES = {"green": "Verde", "yellow": "Amarelo", "red": "Vermelho"}
TIMEZONE = "America/Sao_Paulo"
WEEK_EPOCH = datetime(2024, 1, 1, tzinfo=ZoneInfo(TIMEZONE))  # a Monday


def local_tz() -> ZoneInfo:
    from flask import current_app, has_app_context
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"] if has_app_context() else TIMEZONE)


def local_today() -> date:
    return utcnow().astimezone(local_tz()).date()


def morning_of(day: date | None, hour: int = 9) -> datetime | None:
    """A calendar day as an instant rules can wait for: 09:00 in São Paulo, in UTC."""
    if day is None:
        return None
    return datetime.combine(day, time(hour), tzinfo=local_tz()).astimezone(timezone.utc)


def midnight_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_tz()).astimezone(timezone.utc)


def _date_text(value: datetime | None) -> str:
    return value.astimezone(local_tz()).strftime("%d/%m/%Y") if value else "—"


account_products = Table(
    "cs_account_products", db.metadata,
    Column("account_id", ForeignKey("cs_accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("cs_products.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Product(db.Model):
    """A product clients contract; its key features (at most 5) measure engagement."""
    __tablename__ = "cs_products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Migration playbooks: a legacy product (no evolution) is replaced by its successor (portal/cs/playbook_models.py).
    legacy: Mapped[bool] = mapped_column(default=False)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("cs_products.id", ondelete="SET NULL"))
    successor = relationship("Product", remote_side="Product.id", foreign_keys=[successor_id])
    features: Mapped[list["KeyFeature"]] = relationship(back_populates="product", order_by="KeyFeature.id",
                                                        cascade="all, delete-orphan")

    def __str__(self):
        return self.name


class KeyFeature(db.Model):
    """A feature that tells whether a client really uses a product; usage rows name it by `code`."""
    __tablename__ = "cs_key_features"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("cs_products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    product: Mapped[Product] = relationship(back_populates="features")


class Account(TimestampMixin, db.Model):
    """A client company followed by customer success (conta)."""
    __tablename__ = "cs_accounts"
    __scope__ = ("owner", "csm_id")
    __table_args__ = (Index("ix_cs_accounts_csm_follow_up", "csm_id", "next_follow_up_at"),
                      Index("ix_cs_accounts_phase", "phase", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    cnpj: Mapped[str] = mapped_column(String(14), unique=True)
    employees: Mapped[int] = mapped_column(default=0)
    mrr_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    contract_start: Mapped[date | None] = mapped_column(Date)
    renewal_date: Mapped[date | None] = mapped_column(Date, index=True)
    from_competitor: Mapped[bool] = mapped_column(default=False)
    competitor: Mapped[str | None] = mapped_column(String(80))
    contact_points: Mapped[int] = mapped_column(default=0)
    csm_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # indexed with next_follow_up_at
    segment: Mapped[str] = mapped_column(String(20), default="smb", index=True)
    touch_model: Mapped[str] = mapped_column(String(10), default="mid")
    notes: Mapped[str] = mapped_column(Text, default="")

    # Journey: the current phase and the cadence dates derived from the touchpoints (services keep them).
    phase: Mapped[str] = mapped_column(String(20), default="onboarding")
    phase_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    phase_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_touchpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_rts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_rts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sponsor_met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Inputs of the health score that other systems own (support desk, billing, NPS survey).
    open_tickets: Mapped[int] = mapped_column(default=0)
    sla_breaches: Mapped[int] = mapped_column(default=0)
    last_nps: Mapped[int | None] = mapped_column(Integer)
    last_nps_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    days_overdue: Mapped[int] = mapped_column(default=0)
    potential_cents: Mapped[int | None] = mapped_column(BigInteger)
    potential_updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_usage_on: Mapped[date | None] = mapped_column(Date)

    # The CSM's manual churn-risk flag caps the score.
    risk_flag: Mapped[bool] = mapped_column(default=False)
    risk_reason: Mapped[str] = mapped_column(Text, default="")
    risk_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Latest health (copied from today's HealthScore row for lists, boards and rule conditions).
    health_score: Mapped[int | None] = mapped_column(Integer)
    health_grade: Mapped[str | None] = mapped_column(String(10), index=True)
    health_on: Mapped[date | None] = mapped_column(Date)
    health_change_7d: Mapped[int | None] = mapped_column(Integer)
    engagement_score: Mapped[int | None] = mapped_column(Integer)
    usage_wow_pct: Mapped[int | None] = mapped_column(Integer)
    # Anchor of the "risk episode" alert rules: set when the account turns red or is flagged, cleared when
    # it recovers, so a rule waiting on it fires once per episode (then repeats on its own rhythm).
    churn_risk_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    csm = relationship("User", foreign_keys=[csm_id])
    products: Mapped[list[Product]] = relationship(secondary=account_products, order_by=Product.name)
    contacts: Mapped[list["Contact"]] = relationship(back_populates="account", order_by="Contact.name",
                                                     cascade="all, delete-orphan")

    def __str__(self):
        return self.name

    @property
    def segment_label(self):
        return SEGMENTS.get(self.segment, self.segment)

    @property
    def phase_label(self):
        return PHASES.get(self.phase, self.phase)

    @property
    def touch_model_label(self):
        return TOUCH_MODELS.get(self.touch_model, self.touch_model)

    @property
    def grade_label(self):
        return GRADES.get(self.health_grade or "", "Sem nota")

    @property
    def products_count(self) -> int:
        return len(self.products)

    @property
    def renewal_at(self) -> datetime | None:
        """The renewal date as an instant (09:00 local), so rules can count days before it."""
        return morning_of(self.renewal_date)

    @property
    def weekly_at(self) -> datetime:
        """A fixed Monday 00:00 (local) every account shares: periodic rules anchored here repeat on their own
        (repeat_every_days) and never need re-arming, however many accounts there are."""
        return WEEK_EPOCH.astimezone(timezone.utc)

    @property
    def at_risk(self) -> bool:
        return self.churn_risk_since is not None

    # Ready-made text for message templates (rule templates never see the ORM object).
    @property
    def mrr_br(self) -> str:
        from portal.web.filters import brl
        return brl(self.mrr_cents)

    @property
    def nps_link(self):
        """The signed single-use NPS survey link; the pending survey is issued only when a template prints it."""
        from portal.cs.services.nps_survey import LazySurveyLink
        return LazySurveyLink(self)

    @property
    def nps_days_since_survey(self) -> int:
        from portal.cs.services.nps_survey import days_since_survey
        return days_since_survey(self)

    @property
    def parallel_end_at(self) -> datetime | None:
        """Migration playbooks: the earliest agreed end of a parallel period whose legacy still runs (09:00)."""
        from portal.cs.services.playbooks import parallel_end_on
        return morning_of(parallel_end_on(self)) if self.id is not None else None

    @property
    def parallel_end_br(self) -> str:
        return _date_text(self.parallel_end_at)

    @property
    def potential_br(self) -> str:
        from portal.web.filters import brl
        return brl(self.potential_cents)

    @property
    def renewal_br(self) -> str:
        return self.renewal_date.strftime("%d/%m/%Y") if self.renewal_date else "—"

    @property
    def next_follow_up_br(self) -> str:
        return _date_text(self.next_follow_up_at)

    @property
    def next_rts_br(self) -> str:
        return _date_text(self.next_rts_at)

    @property
    def phase_due_br(self) -> str:
        return _date_text(self.phase_due_at)

    @property
    def decision_makers(self):
        return [c for c in self.contacts if c.decision_maker]

    @property
    def main_contact(self):
        people = sorted(self.contacts, key=lambda c: (not c.decision_maker, c.email is None, c.id or 0))
        return people[0] if people else None


class Contact(TimestampMixin, db.Model):
    """A person at the client (contato), with a role; decision makers matter for the relationship score."""
    __tablename__ = "cs_contacts"
    __table_args__ = (UniqueConstraint("account_id", "email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default="other")
    decision_maker: Mapped[bool] = mapped_column(default=False)
    account: Mapped[Account] = relationship(back_populates="contacts")

    @property
    def role_label(self):
        return CONTACT_ROLES.get(self.role, self.role)


class PhaseChange(db.Model):
    """One move of the journey; consecutive rows give the time spent in each phase."""
    __tablename__ = "cs_phase_changes"
    __table_args__ = (Index("ix_cs_phase_changes_account", "account_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"))
    from_phase: Mapped[str | None] = mapped_column(String(20))
    to_phase: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    user = relationship("User")


class OnboardingStep(db.Model):
    """A checked item of the onboarding checklist (kickoff … go-live)."""
    __tablename__ = "cs_onboarding_steps"
    __table_args__ = (UniqueConstraint("account_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(20))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_by = relationship("User")


class Touchpoint(db.Model):
    """A logged contact with the client (meeting, call, e-mail, visit, EBR/RTS, training)."""
    __tablename__ = "cs_touchpoints"
    __table_args__ = (Index("ix_cs_touchpoints_account", "account_id", "occurred_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("cs_contacts.id", ondelete="SET NULL"))
    decision_maker: Mapped[bool] = mapped_column(default=False)  # a decision maker / sponsor took part
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user = relationship("User")
    contact = relationship(Contact)

    @property
    def kind_label(self):
        return TOUCHPOINT_KINDS.get(self.kind, self.kind)


class UsageMetric(db.Model):
    """How much an account used one feature on one day; re-sending the same key replaces the count."""
    __tablename__ = "cs_usage"
    __table_args__ = (UniqueConstraint("account_id", "day", "feature"),
                      Index("ix_cs_usage_day", "day", "account_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    feature: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HealthScore(db.Model):
    """The account's health on one day (recomputing a day replaces it), with each measure's part."""
    __tablename__ = "cs_health_scores"
    __table_args__ = (UniqueConstraint("account_id", "day"), Index("ix_cs_health_scores_day", "day", "score"))
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cs_accounts.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(10))
    flagged: Mapped[bool] = mapped_column(default=False)
    measures: Mapped[dict] = mapped_column(JSONType, default=dict)  # name → {"score", "weight", "points"}
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CsSettings(db.Model):
    """The CS leader's knobs (one row): segmentation, phase durations, cadences, health weights."""
    __tablename__ = "cs_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    segmentation: Mapped[dict] = mapped_column(JSONType, default=dict)
    journey: Mapped[dict] = mapped_column(JSONType, default=dict)
    health: Mapped[dict] = mapped_column(JSONType, default=dict)
    capacity: Mapped[dict] = mapped_column(JSONType, default=dict, server_default="{}")  # CSM capacity
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AlertRule(db.Model):
    """Which automation rule implements each default CS alert (so tuning finds it after renames)."""
    __tablename__ = "cs_alert_rules"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"), unique=True)
    rule = relationship("Rule")
