"""Outbox events, rules (réguas), due items, deliveries, opt-outs, notifications, tasks, calendar."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.automation.subjects import RecordType, register_audit_actions
from portal.dbtypes import JSONType, TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

TRIGGERS = {"event": "Quando um evento acontece", "time": "Em relação a uma data do registro",
            "schedule": "Em horários fixos (agenda)"}


class Event(db.Model):
    """A domain event, written in the same transaction as the change (outbox)."""
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id"),
                      Index("ix_events_pending", "processed_at", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    actor = relationship("User")


class Rule(TimestampMixin, db.Model):
    """A régua: trigger (event, time offset from a date field, or schedule) → conditions → actions."""
    __tablename__ = "rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    active: Mapped[bool] = mapped_column(default=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(20))  # event | time | schedule
    event_type: Mapped[str | None] = mapped_column(String(60), index=True)
    date_field: Mapped[str | None] = mapped_column(String(60))
    offset_minutes: Mapped[int] = mapped_column(default=0)  # negative: before the date
    repeat_every_days: Mapped[int | None] = mapped_column(Integer)
    business_hours: Mapped[bool] = mapped_column(default=False)  # offsets count business minutes
    quiet_hours: Mapped[bool] = mapped_column(default=True)  # SMS/WhatsApp wait for the morning
    cron: Mapped[str | None] = mapped_column(String(60))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    conditions: Mapped[list] = mapped_column(JSONType, default=list)
    actions: Mapped[list] = mapped_column(JSONType, default=list)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)  # why the last run failed, shown in the rule list


class DueItem(db.Model):
    """When a time rule fires for one record; the sweep reads only rows already due."""
    __tablename__ = "due_items"
    __table_args__ = (UniqueConstraint("rule_id", "subject_type", "subject_id"),
                      Index("ix_due_items_pending", "done_at", "due_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    anchor_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired: Mapped[int] = mapped_column(default=0)

    rule = relationship(Rule)


# retrying: an attempt failed and RQ will try again at retry_at; failed: no automatic attempt is left;
# uncertain: the worker died mid-send on a channel where a resend could duplicate the message.
DELIVERY_STATUSES = {"queued": "Na fila", "sending": "Enviando", "retrying": "Nova tentativa agendada",
                     "sent": "Enviada", "failed": "Falhou", "skipped": "Ignorada", "uncertain": "Estado incerto"}
CHANNELS = {"email": "E-mail", "sms": "SMS", "whatsapp": "WhatsApp", "webhook": "Webhook"}


class Delivery(db.Model):
    """One message to one recipient on one channel; the idempotency key makes retries safe."""
    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_subject", "subject_type", "subject_id"),
                      Index("ix_deliveries_status", "status", "created_at"),
                      Index("ix_deliveries_channel_sent", "channel", "sent_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(500))
    recipient_name: Mapped[str | None] = mapped_column(String(160))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSONType, default=list)  # [{"path", "filename", "mimetype"}]
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # start of the last attempt: the lease
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when RQ tries again (status retrying)
    extra_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one retry after the channel healed

    rule = relationship(Rule)

    @property
    def status_label(self):
        if self.status == "retrying" and self.retry_at is not None:
            from portal.web.filters import to_local
            return f"Nova tentativa às {to_local(self.retry_at):%H:%M}"
        return DELIVERY_STATUSES.get(self.status, self.status)

    @property
    def channel_label(self):
        return CHANNELS.get(self.channel, self.channel)


class OptOut(db.Model):
    """LGPD: a contact who asked not to receive messages on a channel."""
    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("channel", "contact"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    contact: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unread", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Task(TimestampMixin, db.Model):
    """A to-do for a user, created by a rule or by hand, tied to a record."""
    __tablename__ = "tasks"
    __scope__ = ("owner", "assignee_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    assignee = relationship("User")


class Holiday(db.Model):
    """A company holiday on top of Brazil's national ones."""
    __tablename__ = "holidays"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class CalendarSettings(db.Model):
    """Business hours and quiet hours (one row; local times in PORTAL_TIMEZONE)."""
    __tablename__ = "calendar_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    workdays: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4")  # Monday=0
    day_start: Mapped[str] = mapped_column(String(5), default="08:00")
    day_end: Mapped[str] = mapped_column(String(5), default="18:00")
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    national_holidays: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str | None] = mapped_column(String(2))  # adds that UF's holidays when set


register_audit_actions(
    {"rule.created": "Régua criada", "rule.updated": "Régua alterada", "rule.activated": "Régua ativada",
     "rule.deactivated": "Régua desativada", "calendar.updated": "Calendário de atendimento alterado",
     "holiday.created": "Feriado incluído", "holiday.deleted": "Feriado removido",
     "optout.created": "Descadastro registrado"},
    records={"Rule": RecordType("Régua", url=lambda r: f"/automacao/regras/{r.id}"),
             "Holiday": RecordType("Feriado", url=lambda h: "/automacao/calendario"),
             "CalendarSettings": RecordType("Calendário de atendimento", title=lambda c: "",
                                            url=lambda c: "/automacao/calendario"),
             "OptOut": RecordType("Descadastro", title=lambda o: o.contact, url=lambda o: "/automacao/descadastros"),
             "Task": RecordType("Tarefa", title=lambda t: t.title),
             "Delivery": RecordType("Mensagem", title=lambda d: d.subject or d.recipient,
                                    url=lambda d: f"/automacao/mensagens/{d.id}")},
    formats={"rule.created": {"trigger": TRIGGERS}, "rule.updated": {"trigger": TRIGGERS},
             "optout.created": {"channel": CHANNELS}},
)
