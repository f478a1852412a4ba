"""Forms of the CS screens. Validation of meaning (CNPJ, money, dates, limits) lives in the services; forms
only carry the fields, so the API, imports and screens answer the same messages."""
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.cs.models import CONTACT_ROLES, PHASES, TOUCH_MODELS, TOUCHPOINT_KINDS


class AccountForm(FlaskForm):
    name = StringField("Nome da empresa")
    cnpj = StringField("CNPJ")
    employees = StringField("Colaboradores prestando contas", default="0")
    mrr = StringField("MRR (R$)", default="0,00")
    product_ids = SelectMultipleField("Produtos contratados", choices=[], validate_choice=False,
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    contract_start = DateField("Início do contrato", validators=[Optional()])
    renewal_date = DateField("Data de renovação", validators=[Optional()])
    from_competitor = BooleanField("Veio de um concorrente")
    competitor = StringField("Qual concorrente")
    contact_points = StringField("Pontos de contato", default="0")
    csm_id = SelectField("CSM responsável", choices=[], validate_choice=False)
    touch_model = SelectField("Modelo de atendimento", choices=[("", "Pelo segmento")] + list(TOUCH_MODELS.items()),
                              validate_choice=False)
    open_tickets = StringField("Chamados abertos", default="0")
    sla_breaches = StringField("SLAs estourados (30 dias)", default="0")
    last_nps = StringField("Último NPS (0–10)")
    days_overdue = StringField("Dias em atraso (financeiro)", default="0")
    potential = StringField("Potencial de expansão (R$)")
    notes = TextAreaField("Observações")

    def service_data(self) -> dict:
        data = {k: v for k, v in self.data.items() if k != "csrf_token"}
        for key in ("contract_start", "renewal_date"):
            data[key] = data[key] or None
        return data


class ContactForm(FlaskForm):
    name = StringField("Nome")
    email = StringField("E-mail")
    phone = StringField("Telefone")
    job_title = StringField("Cargo")
    role = SelectField("Papel", choices=list(CONTACT_ROLES.items()), default="other", validate_choice=False)
    decision_maker = BooleanField("É decisor")


class TouchpointForm(FlaskForm):
    kind = SelectField("Tipo", choices=[("", "—")] + list(TOUCHPOINT_KINDS.items()), validate_choice=False)
    occurred_at = DateTimeLocalField("Quando", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    summary = TextAreaField("O que aconteceu")
    contact_id = SelectField("Com quem", choices=[], validate_choice=False)
    decision_maker = BooleanField("Um decisor participou")


class PhaseForm(FlaskForm):
    phase = SelectField("Fase", choices=list(PHASES.items()), validate_choice=False)
    note = StringField("Observação (opcional)")
    next = HiddenField()


class RiskForm(FlaskForm):
    flag = HiddenField()
    reason = TextAreaField("Por que a conta está em risco?")
