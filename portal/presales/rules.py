"""Leads as rule subjects, and the events pre-sales publishes."""
from portal.automation.subjects import Contact, SubjectType, register_event, register_subject
from portal.presales.models import Lead

register_subject(SubjectType(
    kind="lead", model=Lead, label="Lead",
    fields={"number": "Número", "name": "Nome", "email": "E-mail", "phone": "Telefone", "status": "Situação",
            "status_label": "Situação (nome)", "stage.name": "Etapa", "development.name": "Empreendimento",
            "development.slug": "Empreendimento (código)", "channel.name": "Canal", "channel.slug": "Canal (código)",
            "media.name": "Mídia", "owner.name": "Responsável", "sdr.name": "SDR", "interest_level": "Interesse",
            "qualification_score": "Nota de qualificação", "loss_reason.name": "Motivo de perda",
            "created_at": "Criado em", "assigned_at": "Atribuído em", "first_response_due": "Prazo da 1ª resposta",
            "first_response_at": "1ª resposta em", "last_contact_at": "Último contato",
            "stage_entered_at": "Entrou na etapa em",
            "survey_link": "Link da pesquisa de satisfação (um por lead, responde sem login)"},
    # Printing the survey link issues the lead's survey: never for webhooks (services/surveys.py).
    link_fields=("survey_link",),
    date_fields={"created_at": "Criado em", "assigned_at": "Atribuído em",
                 "first_response_due": "Prazo da 1ª resposta", "last_contact_at": "Último contato",
                 "stage_entered_at": "Entrou na etapa em"},
    settable={"interest_level": "Interesse"},
    contact=lambda lead: Contact(name=lead.name, email=lead.email, phone=lead.phone),
    owner=lambda lead: lead.owner,
    url=lambda lead: f"/pre-vendas/leads/{lead.id}",
    title=lambda lead: f"{lead.number} — {lead.name}",
))

# (type, label, payload keys the publisher sends → label); every type a service publishes is here, or rules
# on it could not be saved (tests/runtime/test_rules_event_state.py checks the publishers against this list).
EVENTS = [
    ("lead.created", "Lead criado", {"channel": "Canal (código)"}),
    ("lead.reentry", "Lead reentrou (duplicado)", {"channel": "Canal (código)", "media": "Mídia (código)"}),
    ("lead.assigned", "Lead atribuído", {"owner": "Atribuído a", "how": "Forma de atribuição (código)"}),
    ("lead.stage_changed", "Lead mudou de etapa", {"from_stage": "Etapa anterior", "to_stage": "Etapa nova"}),
    ("lead.contacted", "Contato registrado", {"kind": "Tipo do contato (código)"}),
    ("lead.noted", "Anotação registrada", {"kind": "Tipo da anotação (código)"}),
    ("lead.qualified", "Lead qualificado", {"score": "Nota de qualificação"}),
    ("lead.handed_over", "SDR enviou aos corretores", {"score": "Nota de qualificação"}),
    ("lead.scheduled", "Agendamento registrado (retorno, visita ou reunião)",
     {"kind": "Tipo do agendamento (código: call, visit, meeting)", "at": "Data agendada"}),
    ("lead.handed_off", "Lead enviado ao CRM de vendas", {"external_id": "Id no CRM de vendas"}),
    ("lead.sales_status_changed", "CRM de vendas atualizou a situação",
     {"status": "Situação no CRM de vendas", "value_cents": "Valor negociado (centavos)", "at": "Atualizado em"}),
    ("lead.lost", "Lead perdido", {"reason": "Motivo da perda"}),
    ("lead.won", "Lead ganho", {}),
    ("lead.sla_breached", "SLA estourado",
     {"kind": "Prazo estourado (código: first_response, stage)", "due": "Prazo", "stage": "Etapa"}),
    ("lead.survey_answered", "Pesquisa de satisfação respondida", {"score": "Nota (1 a 5)"}),
]
for event_type, label, payload in EVENTS:
    register_event(event_type, "lead", label, payload)

from portal.presales import openapi  # noqa: E402,F401  (the pre-sales endpoints in the app's OpenAPI document)
from portal.presales import audit_labels  # noqa: E402,F401  (pt-BR names of its audit actions)
