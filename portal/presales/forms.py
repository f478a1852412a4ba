"""Pre-sales forms. They only carry text: the services validate and answer field → message."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from portal.presales.models import CONTACT_KINDS, NARRATIVE_KINDS

NARRATIVE_CHOICES = [(k, NARRATIVE_KINDS[k]) for k in ("note",) + CONTACT_KINDS]


def _select(label):
    return SelectField(label, choices=[], validate_choice=False)


class LeadForm(FlaskForm):
    name = StringField("Nome")
    email = StringField("E-mail")
    phone = StringField("Telefone")
    development = _select("Empreendimento")
    media = _select("Mídia")
    message = TextAreaField("Mensagem")
    force = BooleanField("Forçar novo lead mesmo se o contato já existir")
    force_reason = StringField("Motivo para forçar")


class NarrativeForm(FlaskForm):
    kind = SelectField("Tipo", choices=NARRATIVE_CHOICES, validate_choice=False)
    body = TextAreaField("O que aconteceu")


class LostForm(FlaskForm):
    loss_reason_id = _select("Motivo da perda")
    note = StringField("Observação")


class TransferForm(FlaskForm):
    owner_id = _select("Novo responsável")
    reason = StringField("Motivo")
