"""Appointment messages: the calendar file (.ics, RFC 5545) and the default rules that send them.

Messages go through rules like every other module's: the confirmation, reschedule and cancel e-mails
are event rules, the reminder is a time rule "1 dia antes" on the appointment's start. The .ics rides on
those e-mails through the subject's `attachments` hook (see rules.py); it is written by hand because
the format is small and no iCalendar library is a dependency.
"""
import os
from datetime import datetime, timezone

from flask import current_app

from portal.personalize import default_rules
from portal.personalize.appointments import Appointment

ICS_MIMETYPE = "text/calendar"


def _escape(value: str) -> str:
    """TEXT values (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (str(value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF + one space (§3.1), never
    splitting a UTF-8 character."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current)
            current = b""
        current += encoded
    out.append(current)
    return "\r\n ".join(part.decode() for part in out)


def _stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def ics_text(appointment: Appointment, cancelled: bool | None = None) -> str:
    """A one-event calendar for the appointment; a cancelled one says so (METHOD:CANCEL, same UID)."""
    cancelled = appointment.status == "cancelled" if cancelled is None else cancelled
    slot, unit = appointment.slot, appointment.unit
    company = current_app.config["COMPANY_NAME"]
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    url = f"{base}/personalizacao/unidades/{unit.id}/atendimento"
    description = [f"Atendimento de personalização da unidade {unit.label} — {unit.development.name}."]
    if slot.place:
        description.append(f"Local: {slot.place}")
    if slot.video_url:
        description.append(f"Vídeo: {slot.video_url}")
    description.append(f"Remarcar ou cancelar: {url}")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//{_escape(company)}//Portal//PT-BR", "CALSCALE:GREGORIAN",
             f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}", "BEGIN:VEVENT",
             f"UID:appointment-{appointment.id}@{_escape(base.split('://')[-1].split('/')[0] or 'portal')}",
             f"SEQUENCE:{appointment.sequence}", f"DTSTAMP:{_stamp(appointment.updated_at or slot.starts_at)}",
             f"DTSTART:{_stamp(slot.starts_at)}", f"DTEND:{_stamp(slot.ends_at)}",
             f"SUMMARY:{_escape(f'Atendimento {company} — {unit.development.name}, unidade {unit.label}')}",
             f"LOCATION:{_escape(slot.place or slot.video_url or 'A confirmar')}",
             f"DESCRIPTION:{_escape(chr(10).join(description))}", f"URL:{url}",
             f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}", "END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines)


def ics_path(appointment: Appointment, cancelled: bool) -> str:
    folder = os.path.join(current_app.config["INSTANCE_DIR"], "appointments")
    os.makedirs(folder, exist_ok=True)
    suffix = "cancel" if cancelled else "s" + str(appointment.sequence)
    return os.path.join(folder, f"appointment-{appointment.id}-{suffix}.ics")


def ics_attachments(appointment: Appointment, event=None) -> list[dict]:
    """For the rules' e-mails: the calendar file of the appointment as it is now (written once per version)."""
    if appointment.status not in ("booked", "cancelled"):
        return []
    cancelled = appointment.status == "cancelled"
    path = ics_path(appointment, cancelled)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(ics_text(appointment, cancelled))
    return [{"path": path, "filename": "cancelamento.ics" if cancelled else "atendimento.ics",
             "mimetype": ICS_MIMETYPE}]


# ---- default rules ------------------------------------------------------------------------------------

FOOTER = "\n\nVer, remarcar ou cancelar: {{ link }}"
WHERE = "\nLocal: {{ appointment.where_label }}"


def _email(subject: str, body: str) -> dict:
    return {"type": "message", "channel": "email", "to": "contact", "subject": subject, "body": body + FOOTER}


DEFAULT_RULES = {
    "booked": {
        "name": "Atendimento: confirmação do agendamento", "trigger": "event", "event_type": "appointment.booked",
        "actions": [_email("Atendimento agendado para {{ appointment.when_label }}",
                           "Olá, {{ contato.nome }}! Seu atendimento de personalização da unidade "
                           "{{ appointment.unit.number }} ({{ appointment.unit.development.name }}) está agendado para "
                           "{{ appointment.when_label }}." + WHERE + "\nO convite para a sua agenda segue anexo."),
                    {"type": "notify", "to": "owner", "subject": "Novo atendimento: {{ appointment.when_label }}",
                     "body": "Unidade {{ appointment.unit.tower.name }} {{ appointment.unit.number }} agendou."}]},
    "rescheduled": {
        "name": "Atendimento: remarcação", "trigger": "event", "event_type": "appointment.rescheduled",
        "actions": [_email("Atendimento remarcado para {{ appointment.when_label }}",
                           "Olá, {{ contato.nome }}! Seu atendimento da unidade {{ appointment.unit.number }} foi "
                           "remarcado para {{ appointment.when_label }}." + WHERE +
                           "\nO convite anexo atualiza a sua agenda.")]},
    "cancelled": {
        "name": "Atendimento: cancelamento", "trigger": "event", "event_type": "appointment.cancelled",
        "actions": [_email("Atendimento cancelado",
                           "Olá, {{ contato.nome }}. O atendimento da unidade {{ appointment.unit.number }} em "
                           "{{ appointment.when_label }} foi cancelado ({{ appointment.cancel_reason }}). "
                           "Você pode agendar outro horário pelo portal.")]},
    "reminder": {
        "name": "Atendimento: lembrete 1 dia antes", "trigger": "time", "date_field": "starts_at",
        "offset_amount": 1, "offset_unit": "days", "direction": "before",
        "conditions": [{"field": "status", "op": "eq", "value": "booked"}],
        "actions": [_email("Lembrete: atendimento amanhã, {{ appointment.when_label }}",
                           "Olá, {{ contato.nome }}! Lembrete do seu atendimento de personalização da unidade "
                           "{{ appointment.unit.number }} amanhã, {{ appointment.when_label }}." + WHERE)]},
}


def ensure_default_rules() -> list[str]:
    """Seed the appointment rules not seeded yet (idempotent; an admin's edit or delete sticks)."""
    return default_rules.seed({f"appointment.{key}": {"active": True, "subject_type": "appointment",
                                                     "quiet_hours": True, **spec}
                               for key, spec in DEFAULT_RULES.items()})
