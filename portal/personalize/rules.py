"""Selections and windows as rule subjects, and the events personalization publishes.

To remind buyers before the deadline, an admin adds a time rule on "Personalização da unidade" with
the date "Prazo da janela", 3 days before, condition "Situação é diferente de submitted": every
selection follows the window that concerns its unit (see jobs.refresh_development).
"""
from portal.automation.subjects import Contact, SubjectType, register_event, register_subject
from portal.personalize import jobs  # noqa: F401 - registers the periodic window tick
from portal.personalize.esign.models import Envelope
from portal.personalize.models import PersonalizationWindow, Selection


def _buyer(selection):
    buyers = selection.unit.buyers if selection.unit else []
    b = buyers[0] if buyers else None
    return Contact(name=b.name, email=b.email, phone=b.phone, user_id=b.id) if b else Contact()


def _staff(development):
    staff = sorted(development.staff, key=lambda u: u.id) if development else []
    return staff[0] if staff else None


register_subject(SubjectType(
    kind="selection", model=Selection, label="Personalização da unidade",
    fields={"status": "Situação", "status_label": "Situação (nome)", "total_cents": "Total (centavos)",
            "total_label": "Total (R$)", "deadline_label": "Prazo da janela (dd/mm/aaaa hh:mm)",
            "unit.number": "Unidade", "unit.tower.name": "Torre", "unit.typology.name": "Tipologia",
            "unit.development.name": "Empreendimento", "unit.development.slug": "Empreendimento (código)",
            "window.name": "Janela", "window.opens_at": "Abertura da janela", "window.closes_at": "Prazo da janela",
            "submitted_at": "Enviada em", "reopened_at": "Reaberta em", "reopen_reason": "Motivo da reabertura",
            "last_activity_at": "Última atividade", "created_at": "Criada em"},
    date_fields={"window.opens_at": "Abertura da janela", "window.closes_at": "Prazo da janela",
                 "submitted_at": "Enviada em", "reopened_at": "Reaberta em", "last_activity_at": "Última atividade"},
    contact=_buyer,
    owner=lambda s: _staff(s.unit.development) if s.unit else None,
    url=lambda s: f"/personalizacao/unidades/{s.unit_id}",
    title=lambda s: f"{s.unit.development.name} — {s.unit.tower.name} {s.unit.number}" if s.unit else str(s.id),
))

register_subject(SubjectType(
    kind="window", model=PersonalizationWindow, label="Janela de personalização",
    fields={"name": "Nome", "opens_at": "Abertura", "closes_at": "Encerramento", "scope_label": "Unidades",
            "development.name": "Empreendimento", "development.slug": "Empreendimento (código)"},
    date_fields={"opens_at": "Abertura", "closes_at": "Encerramento"},
    owner=lambda w: _staff(w.development),
    url=lambda w: f"/personalizacao/empreendimentos/{w.development_id}/janelas",
    title=lambda w: f"{w.development.name} — {w.name}",
))


def _next_signer_contact(envelope):
    """Reminders go to whoever must sign next (buyers first, staff last); once nobody is pending, the first
    buyer (the satisfaction survey after "contract.signed" goes to them)."""
    signer = envelope.next_signer() or next((s for s in envelope.signers if s.role == "buyer"), None)
    return Contact(name=signer.name, email=signer.email, phone=signer.phone, user_id=signer.user_id) if signer \
        else Contact()


register_subject(SubjectType(
    kind="envelope", model=Envelope, label="Contrato em assinatura",
    fields={"status": "Situação", "status_label": "Situação (nome)", "provider": "Provedor",
            "contract.total_cents": "Total (centavos)", "selection.unit.number": "Unidade",
            "selection.unit.tower.name": "Torre", "selection.unit.development.name": "Empreendimento",
            "sent_at": "Enviado em", "expires_at": "Prazo para assinar", "completed_at": "Concluído em",
            "status_reason": "Motivo"},
    date_fields={"sent_at": "Enviado em", "expires_at": "Prazo para assinar", "completed_at": "Concluído em"},
    contact=_next_signer_contact,
    owner=lambda e: _staff(e.selection.unit.development) if e.selection and e.selection.unit else None,
    url=lambda e: f"/personalizacao/unidades/{e.selection.unit_id}/contrato" if e.selection else None,
    title=lambda e: f"Contrato — {e.selection.unit.development.name} {e.selection.unit.tower.name} "
                    f"{e.selection.unit.number}" if e.selection and e.selection.unit else f"Contrato {e.id}",
))

for event_type, kind, label in [
    ("contract.sent", "envelope", "Contrato enviado para assinatura"),
    ("contract.partially_signed", "envelope", "Contrato parcialmente assinado"),
    ("contract.signed", "envelope", "Contrato assinado"),
    ("contract.refused", "envelope", "Contrato recusado"),
    ("contract.expired", "envelope", "Assinatura expirada"),
    ("contract.cancelled", "envelope", "Assinatura cancelada"),
]:
    register_event(event_type, kind, label)

for event_type, kind, label in [
    ("selection.submitted", "selection", "Personalização enviada"),
    ("selection.reopened", "selection", "Personalização reaberta"),
    ("window.opened", "window", "Janela de personalização aberta"),
    ("window.closed", "window", "Janela de personalização encerrada"),
    ("buyer.invited", "user", "Comprador convidado"),
]:
    register_event(event_type, kind, label)

# ---- appointments (atendimento agendado): default rules in services/appointment_messages.py -------------
from portal.personalize.appointments import Appointment  # noqa: E402
from portal.personalize.services.appointment_messages import ics_attachments  # noqa: E402


def _appointment_contact(appointment):
    person = appointment.booked_by if appointment.booked_by and appointment.booked_by.role == "customer" else None
    person = person or (appointment.unit.buyers[0] if appointment.unit and appointment.unit.buyers else None)
    return Contact(name=person.name, email=person.email, phone=person.phone, user_id=person.id) if person \
        else Contact()


register_subject(SubjectType(
    kind="appointment", model=Appointment, label="Atendimento agendado",
    fields={"status": "Situação", "status_label": "Situação (nome)", "when_label": "Data e horário",
            "where_label": "Local ou vídeo", "starts_at": "Início do atendimento", "slot.place": "Local",
            "slot.video_url": "Link de vídeo", "cancel_reason": "Motivo do cancelamento", "notes": "Observações",
            "unit.number": "Unidade", "unit.tower.name": "Torre", "unit.development.name": "Empreendimento",
            "unit.development.slug": "Empreendimento (código)", "created_at": "Agendado em"},
    date_fields={"starts_at": "Início do atendimento"},
    contact=_appointment_contact,
    owner=lambda a: _staff(a.unit.development) if a.unit else None,
    url=lambda a: f"/personalizacao/unidades/{a.unit_id}/atendimento",
    title=lambda a: f"Atendimento {a.unit.development.name} — {a.unit.tower.name} {a.unit.number}" if a.unit
    else f"Atendimento {a.id}",
    attachments=ics_attachments,
))

for event_type, label in [("appointment.booked", "Atendimento agendado"),
                          ("appointment.rescheduled", "Atendimento remarcado"),
                          ("appointment.cancelled", "Atendimento cancelado"),
                          ("appointment.attended", "Comprador compareceu ao atendimento"),
                          ("appointment.no_show", "Comprador não compareceu ao atendimento")]:
    register_event(event_type, "appointment", label)


# ---- buyer questions and the satisfaction survey after signature (questions.py, surveys.py) ------------
from portal.automation.subjects import SUBJECTS  # noqa: E402
from portal.personalize.questions import BuyerQuestion  # noqa: E402
from portal.personalize.services import questions as _questions  # noqa: E402,F401 - hourly default-rule seed


def _question_contact(question):
    """The buyer who asked (or the unit's first buyer): staff answers are e-mailed to them."""
    person = question.opened_by if question.opened_by and question.opened_by.role == "customer" else None
    person = person or (question.unit.buyers[0] if question.unit and question.unit.buyers else None)
    return Contact(name=person.name, email=person.email, phone=person.phone, user_id=person.id) if person \
        else Contact()


register_subject(SubjectType(
    kind="question", model=BuyerQuestion, label="Dúvida do comprador",
    fields={"subject": "Assunto", "status": "Situação", "status_label": "Situação (nome)",
            "last_excerpt": "Última mensagem (trecho)", "messages_count": "Mensagens",
            "unit.number": "Unidade", "unit.tower.name": "Torre", "unit.development.name": "Empreendimento",
            "unit.development.slug": "Empreendimento (código)", "created_at": "Aberta em",
            "last_message_at": "Última mensagem em"},
    date_fields={"created_at": "Aberta em", "last_message_at": "Última mensagem em"},
    contact=_question_contact,
    owner=lambda q: _staff(q.unit.development) if q.unit else None,
    url=lambda q: f"/personalizacao/duvidas/{q.id}",
    title=lambda q: f"Dúvida: {q.subject}",
))
for event_type, label in [("question.opened", "Dúvida aberta pelo comprador"),
                          ("question.buyer_replied", "Comprador escreveu na dúvida"),
                          ("question.answered", "Equipe respondeu a dúvida"),
                          ("question.closed", "Dúvida encerrada"), ("question.reopened", "Dúvida reaberta")]:
    register_event(event_type, "question", label)

# The satisfaction survey link is one more field of the envelope (personal: never sent to webhooks).
SUBJECTS["envelope"].fields["survey_link"] = "Link da pesquisa de satisfação (único por comprador)"
SUBJECTS["envelope"].link_fields = ("survey_link",)
register_event("contract.survey_answered", "envelope", "Pesquisa de satisfação respondida")
from portal.personalize import audit_labels  # noqa: E402,F401  (pt-BR names of its audit actions)
