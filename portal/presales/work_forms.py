"""Forms of a rep's day (agendamento, "atender pendentes") and the manager's campaigns.

They only carry text: dates typed in São Paulo time become aware UTC here, numbers are checked before the
services see them, and the services answer field → message for everything else.
"""
from datetime import date, datetime, timezone

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField

from portal import normalize
from portal.accounts.scope import scoped
from portal.extensions import db
from portal.presales.models import CONTACT_KINDS, NARRATIVE_KINDS, Channel, LossReason, Media, Queue
from portal.presales.services.campaigns import STATUS_FILTERS
from portal.presales.services.schedules import SCHEDULE_KINDS
from portal.realestate.models import Development
from portal.web.filters import local_tz

# The contact kinds a rep logs from the work card, most used first.
CONTACT_CHOICES = [(k, NARRATIVE_KINDS[k]) for k in sorted(CONTACT_KINDS, key=("call", "whatsapp", "email", "visit", "meeting").index)]

FILTER_KEYS = ("status", "loss_reason_id", "no_contact_days", "development_id", "channel_id", "media_id",
               "created_from", "created_to")
ID_FILTERS = ("loss_reason_id", "development_id", "channel_id", "media_id")


def _select(label, choices=()):
    return SelectField(label, choices=list(choices), validate_choice=False)


def parse_local(value: str | None) -> datetime | None:
    """A datetime-local input (São Paulo wall time) → aware UTC; None when empty or malformed."""
    text = (value or "").strip()
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=local_tz()).astimezone(timezone.utc)
    return None


def local_input(value: datetime | None) -> str:
    """Aware UTC → the value of a datetime-local input in São Paulo time."""
    return value.astimezone(local_tz()).strftime("%Y-%m-%dT%H:%M") if value else ""


class ScheduleForm(FlaskForm):
    schedule_kind = _select("Tipo", SCHEDULE_KINDS.items())
    scheduled_at = StringField("Data e hora")
    note = TextAreaField("Observação")


class ContactForm(FlaskForm):
    kind = _select("Como foi o contato", CONTACT_CHOICES)
    body = TextAreaField("O que aconteceu")


class CampaignForm(FlaskForm):
    status = _select("Situação dos leads", STATUS_FILTERS.items())
    loss_reason_id = _select("Motivo da perda")
    no_contact_days = StringField("Sem contato há (dias)")
    development_id = _select("Empreendimento")
    channel_id = _select("Canal")
    media_id = _select("Mídia")
    created_from = StringField("Criados de")
    created_to = StringField("Criados até")
    name = StringField("Nome da campanha")
    queue_id = _select("Fila de corretores")
    script = TextAreaField("Roteiro / mensagem")

    def fill_choices(self, user) -> "CampaignForm":
        any_ = [("", "Todos")]
        reasons = db.session.execute(select(LossReason).where(LossReason.active.is_(True))
                                     .order_by(LossReason.name)).scalars()
        self.loss_reason_id.choices = any_ + [(str(r.id), r.name) for r in reasons]
        devs = db.session.execute(scoped(user, Development).order_by(Development.name)).scalars()
        self.development_id.choices = any_ + [(str(d.id), d.name) for d in devs]
        channels = db.session.execute(select(Channel).order_by(Channel.name)).scalars()
        self.channel_id.choices = any_ + [(str(c.id), c.name) for c in channels]
        media = db.session.execute(select(Media).order_by(Media.name)).scalars()
        self.media_id.choices = any_ + [(str(m.id), m.name) for m in media]
        queues = db.session.execute(select(Queue).where(Queue.active.is_(True), Queue.kind == "broker")
                                    .order_by(Queue.position, Queue.name)).scalars()
        self.queue_id.choices = [("", "— escolha —")] + [(str(q.id), q.name) for q in queues]
        return self

    def segment(self) -> tuple[dict, dict]:
        """The posted filters as the campaign services take them, and field → message for bad ones."""
        filters, errors = {}, {}
        status = (self.status.data or "lost").strip()
        if status not in STATUS_FILTERS:
            errors["status"] = "Situação inválida."
        filters["status"] = status
        for key in ID_FILTERS:
            raw = (getattr(self, key).data or "").strip()
            if raw and normalize.row_id(raw) is None:
                errors[key] = "Opção inválida."
            elif raw:
                filters[key] = normalize.row_id(raw)
        raw = (self.no_contact_days.data or "").strip()
        if raw:
            if normalize.row_id(raw) is None or normalize.row_id(raw) > 3650:
                errors["no_contact_days"] = "Informe um número de dias (0 a 3650)."
            else:
                filters["no_contact_days"] = normalize.row_id(raw)
        days = {}
        for key in ("created_from", "created_to"):
            raw = (getattr(self, key).data or "").strip()
            if not raw:
                continue
            try:
                days[key] = date.fromisoformat(raw)
            except ValueError:
                errors[key] = "Data inválida."
            else:
                filters[key] = raw
        if len(days) == 2 and days["created_from"] > days["created_to"]:
            errors["created_to"] = "A data final é anterior à inicial."
        return filters, errors

    def queue(self) -> int | None:
        raw = (self.queue_id.data or "").strip()
        return int(raw) if raw.isdigit() else None
