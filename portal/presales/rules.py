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
            "stage_entered_at": "Entrou na etapa em"},
    date_fields={"created_at": "Criado em", "assigned_at": "Atribuído em",
                 "first_response_due": "Prazo da 1ª resposta", "last_contact_at": "Último contato",
                 "stage_entered_at": "Entrou na etapa em"},
    settable={"interest_level": "Interesse"},
    contact=lambda lead: Contact(name=lead.name, email=lead.email, phone=lead.phone),
    owner=lambda lead: lead.owner,
    url=lambda lead: f"/pre-vendas/leads/{lead.id}",
    title=lambda lead: f"{lead.number} — {lead.name}",
))

for event_type, label in [
    ("lead.created", "Lead criado"), ("lead.reentry", "Lead reentrou (duplicado)"),
    ("lead.assigned", "Lead atribuído"), ("lead.stage_changed", "Lead mudou de etapa"),
    ("lead.contacted", "Contato registrado"), ("lead.noted", "Anotação registrada"),
    ("lead.qualified", "Lead qualificado"), ("lead.handed_over", "SDR enviou aos corretores"),
    ("lead.lost", "Lead perdido"), ("lead.won", "Lead ganho"), ("lead.sla_breached", "SLA estourado"),
]:
    register_event(event_type, "lead", label)
