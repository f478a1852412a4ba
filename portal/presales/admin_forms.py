"""Forms of the pre-sales configuration screens. They only carry text: services/settings.py
validates, so every message is the one the service gives."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import ColorField
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from portal.presales.models import CUSTOM_FIELD_KINDS
from portal.presales.services.settings import QUEUE_KINDS, QUEUE_MODES


class Checkboxes(SelectMultipleField):
    """A list of checkboxes; choices are checked by the service, not here."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass


class Number(StringField):
    """A numeric input that keeps what was typed (the service says what is wrong with it)."""
    widget = NumberInput()


class ChannelForm(FlaskForm):
    name = StringField("Nome")
    slug = StringField("Código")
    sdr_first = BooleanField("SDR primeiro")
    active = BooleanField("Ativo", default=True)


class MediaForm(FlaskForm):
    name = StringField("Nome")
    slug = StringField("Código")
    active = BooleanField("Ativa", default=True)


class LossReasonForm(FlaskForm):
    name = StringField("Motivo")
    active = BooleanField("Ativo", default=True)


class CustomFieldForm(FlaskForm):
    label = StringField("Rótulo")
    key = StringField("Código")
    kind = SelectField("Tipo", choices=list(CUSTOM_FIELD_KINDS.items()), validate_choice=False)
    choices = TextAreaField("Opções (uma por linha)")


class PipelineForm(FlaskForm):
    name = StringField("Nome do funil")
    is_default = BooleanField("Funil padrão (recebe os novos leads)")


class StageForm(FlaskForm):
    name = StringField("Nome da etapa")
    color = ColorField("Cor", default="#64748b")
    sla_minutes = Number("SLA (minutos úteis)")
    contact_days = Number("Alerta de dias sem contato", default="7")
    is_sdr = BooleanField("Etapa de SDR")
    is_won = BooleanField("Etapa de ganho")
    is_lost = BooleanField("Etapa de perda")
    required_fields = Checkboxes("Campos obrigatórios para entrar na etapa", choices=[])


class QueueForm(FlaskForm):
    name = StringField("Nome da fila")
    kind = SelectField("Quem atende", choices=list(QUEUE_KINDS.items()), validate_choice=False)
    mode = SelectField("Modo", choices=list(QUEUE_MODES.items()), validate_choice=False)
    offer_minutes = Number("Minutos para aceitar a oferta", default="5")
    fallback_minutes = Number("Sem aceite em (minutos), roleta offline")
    active = BooleanField("Ativa", default=True)
    development_ids = Checkboxes("Empreendimentos", choices=[])
    channel_ids = Checkboxes("Canais", choices=[])


class MemberForm(FlaskForm):
    user_id = SelectField("Pessoa", choices=[], validate_choice=False)
    weight = Number("Peso", default="1")


class WeightForm(FlaskForm):
    weight = Number("Peso")


class SettingsForm(FlaskForm):
    dedup_same_development_only = RadioField("Bloquear duplicidade", validate_choice=False, choices=[
        ("0", "Em qualquer empreendimento"), ("1", "Só no mesmo empreendimento")])
    dedup_closed_days = Number("Leads ganhos ou perdidos continuam bloqueando por (dias)")

