from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, IntegerField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from portal.automation import subjects
from portal.automation.engine import OPERATORS
from portal.automation.rules import ACTION_TYPES, CHANNELS, TARGETS, TRIGGERS

BLANK = [("", "—")]


class ConditionForm(Form):
    field = SelectField("Campo", choices=[], validate_choice=False)
    op = SelectField("Comparação", choices=BLANK + list(OPERATORS.items()), validate_choice=False)
    value = StringField("Valor")


class ActionForm(Form):
    type = SelectField("Ação", choices=BLANK + list(ACTION_TYPES.items()), validate_choice=False)
    channel = SelectField("Canal", choices=BLANK + list(CHANNELS.items()), validate_choice=False)
    to = SelectField("Para", choices=BLANK + list(TARGETS.items()), validate_choice=False)
    address = StringField("Endereço fixo (e-mails ou telefones, separados por vírgula)")
    subject = StringField("Assunto / título")
    body = TextAreaField("Mensagem")
    url = StringField("URL do webhook")
    field = SelectField("Campo a alterar", choices=[], validate_choice=False)
    value = StringField("Novo valor")
    due_days = IntegerField("Prazo da tarefa (dias)", validators=[Optional()])
    report = SelectField("Relatório", choices=[], validate_choice=False)
    format = SelectField("Formato", choices=[("pdf", "PDF"), ("csv", "CSV")], validate_choice=False)


class RuleForm(FlaskForm):
    name = StringField("Nome da régua")
    active = BooleanField("Ativa", default=True)
    subject_type = SelectField("Registro", choices=[], validate_choice=False)
    trigger = SelectField("Gatilho", choices=list(TRIGGERS.items()), validate_choice=False)
    event_type = SelectField("Evento", choices=[], validate_choice=False)
    date_field = SelectField("Data de referência", choices=[], validate_choice=False)
    offset_amount = IntegerField("Quanto", default=0, validators=[Optional()])
    offset_unit = SelectField("Unidade", choices=[("minutes", "minutos"), ("hours", "horas"), ("days", "dias")], validate_choice=False)
    direction = SelectField("Antes ou depois", choices=[("after", "depois da data"), ("before", "antes da data")],
                            validate_choice=False)
    repeat_every_days = IntegerField("Repetir a cada N dias (opcional)", validators=[Optional()])
    business_hours = BooleanField("Contar só horário comercial (dias úteis, sem feriados)")
    quiet_hours = BooleanField("Respeitar horário de silêncio em SMS/WhatsApp", default=True)
    cron = StringField("Agenda (cron, horário de Brasília)", default="0 8 * * 1")
    conditions = FieldList(FormField(ConditionForm), min_entries=3, max_entries=10)
    actions = FieldList(FormField(ActionForm), min_entries=2, max_entries=10)
    preview_record = SelectField("Registro para pré-visualizar", choices=[], validate_choice=False)

    def set_choices(self, kind: str | None, records: list[tuple[str, str]]):
        from portal.automation.rules import available_reports
        self.subject_type.choices = BLANK + [(k, s.label) for k, s in subjects.SUBJECTS.items()]
        subject = subjects.SUBJECTS.get(kind or "")
        self.event_type.choices = BLANK + [(e, label) for e, (k, label) in subjects.EVENT_TYPES.items()
                                           if subject is None or k == kind]
        self.date_field.choices = BLANK + list(subject.date_fields.items() if subject else [])
        fields = BLANK + list(subject.fields.items() if subject else []) + list(
            subjects.event_fields(kind).items() if subject else [])
        settable = BLANK + list(subject.settable.items() if subject else [])
        reports = BLANK + [(key, r.title) for key, r in available_reports().items()]
        for entry in self.conditions:
            entry.form.field.choices = fields
        for entry in self.actions:
            entry.form.field.choices = settable
            entry.form.report.choices = reports
        self.preview_record.choices = BLANK + records

    def rule_data(self) -> dict:
        return {**{k: v for k, v in self.data.items() if k not in ("conditions", "actions", "csrf_token")},
                "conditions": [c for c in self.data["conditions"]],
                "actions": [a for a in self.data["actions"]]}

    def load_rule(self, rule):
        from portal.automation.rules import UNITS
        self.name.data, self.active.data = rule.name, rule.active
        self.subject_type.data, self.trigger.data = rule.subject_type, rule.trigger
        self.event_type.data, self.date_field.data = rule.event_type, rule.date_field
        minutes = abs(rule.offset_minutes or 0)
        unit = next((u for u in ("days", "hours") if minutes and minutes % UNITS[u] == 0), "minutes")
        self.offset_amount.data, self.offset_unit.data = minutes // UNITS[unit], unit
        self.direction.data = "before" if (rule.offset_minutes or 0) < 0 else "after"
        self.repeat_every_days.data = rule.repeat_every_days
        self.business_hours.data, self.quiet_hours.data, self.cron.data = rule.business_hours, rule.quiet_hours, rule.cron
        while len(self.conditions) < len(rule.conditions or []):
            self.conditions.append_entry()
        for entry, cond in zip(self.conditions, rule.conditions or []):
            entry.form.process(data=cond)
        while len(self.actions) < len(rule.actions or []):
            self.actions.append_entry()
        for entry, act in zip(self.actions, rule.actions or []):
            entry.form.process(data=act)

    def apply_errors(self, errors: dict):
        for key, message in errors.items():
            parts = key.split("-")
            if len(parts) == 3:
                target = getattr(getattr(self, parts[0])[int(parts[1])].form, parts[2])
            else:
                target = getattr(self, key)
            target.errors = list(target.errors) + [message]


HM = r"^([01]\d|2[0-3]):[0-5]\d$"
WEEKDAYS = [("0", "Segunda"), ("1", "Terça"), ("2", "Quarta"), ("3", "Quinta"), ("4", "Sexta"), ("5", "Sábado"),
            ("6", "Domingo")]


class CalendarForm(FlaskForm):
    workdays = SelectMultipleField("Dias úteis", choices=WEEKDAYS, widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())
    day_start = StringField("Início do expediente", validators=[Regexp(HM, message="Use HH:MM.")])
    day_end = StringField("Fim do expediente", validators=[Regexp(HM, message="Use HH:MM.")])
    quiet_start = StringField("Silêncio a partir de", validators=[Regexp(HM, message="Use HH:MM.")])
    quiet_end = StringField("Silêncio até", validators=[Regexp(HM, message="Use HH:MM.")])
    national_holidays = BooleanField("Considerar feriados nacionais")
    state = StringField("UF para feriados estaduais (opcional)")


class HolidayForm(FlaskForm):
    day = DateField("Data", validators=[DataRequired("Informe a data.")])
    name = StringField("Nome", validators=[DataRequired("Informe o nome do feriado.")])


class OptOutForm(FlaskForm):
    channel = SelectField("Canal", choices=[("email", "E-mail"), ("sms", "SMS"), ("whatsapp", "WhatsApp")])
    contact = StringField("E-mail ou telefone")
    reason = StringField("Motivo (opcional)")
