"""The built-in signature provider (the default; needs no account).

Each signer, logged into the portal, reviews the PDF, receives a 6-digit one-time code by e-mail or SMS
(through the messaging channels), ticks the acceptance box and enters the code: buyers in any order, staff
last. The code is stored only as an HMAC (keyed with SECRET_KEY and the signer), lives 10 minutes, and
5 wrong tries lock the signer until staff unlock them. When the last signer signs, a worker job appends
an evidence page to the contract (who, CPF, when in UTC and São Paulo, IP, browser, code channel, the
original's SHA-256), seals the whole file as PAdES with the company certificate and stores it once.
"""
import hashlib
import hmac
import io
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from portal import jobs
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.deliveries import queue_delivery
from portal.automation.events import publish
from portal.automation.subjects import register_event
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.esign import services
from portal.personalize.esign.base import SignatureProvider, register_provider
from portal.personalize import default_rules
from portal.personalize.esign.models import Envelope, Signer

OTP_MINUTES = 10
MAX_ATTEMPTS = 5
RESEND_SECONDS = 60
CHANNELS = {"email": "E-mail", "sms": "SMS"}
ROLES = {"buyer": "Comprador(a)", "staff": "Empresa"}
LOCKED_MESSAGE = ("Sua assinatura foi bloqueada depois de 5 códigos incorretos. Entre em contato com a equipe "
                  "de personalização da empresa para desbloquear.")

register_event("contract.signer_locked", "envelope", "Signatário bloqueado (códigos incorretos)")
register_event("contract.signer_unlocked", "envelope", "Signatário desbloqueado")


class AttemptFailed(ServiceError):
    """A wrong code: the failed attempt (and a lock) must be committed, unlike other ServiceErrors."""


# ---- the provider -----------------------------------------------------------------------------------

class BuiltinProvider(SignatureProvider):
    name = "builtin"
    label = "Assinatura do portal"

    def create_envelope(self, envelope, pdf):
        ensure_default_rules()
        for signer in envelope.signers:
            signer.sign_url = sign_url(envelope)
        notify(envelope, [s for s in envelope.signers if s.role == "buyer"], "invite")

    def signer_status(self, envelope):
        return {s.id: s.status for s in envelope.signers}

    def download_signed(self, envelope):
        path = services.signed_file(envelope)
        if path is None:
            raise LookupError("signed file not stored yet")
        with open(path, "rb") as fh:
            return fh.read()

    def cancel(self, envelope, reason):
        """Nothing remote to stop: the local state is all there is."""


register_provider(BuiltinProvider())


# ---- notifications ----------------------------------------------------------------------------------

def sign_url(envelope: Envelope) -> str:
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    return f"{base}/personalizacao/unidades/{envelope.selection.unit_id}/assinar"


def _where(envelope: Envelope) -> str:
    unit = envelope.selection.unit
    return f"unidade {unit.label} — {unit.development.name}"


def notify(envelope: Envelope, signers: list[Signer], tag: str) -> int:
    """Tell each signer the contract awaits them, with the link (e-mail, else SMS). `tag` makes the message
    unique (a repeated call with the same tag sends nothing twice)."""
    sent = 0
    for signer in signers:
        channel, to = ("email", signer.email) if signer.email else ("sms", signer.phone) if signer.phone \
            else (None, None)
        if channel is None:
            continue
        text = (f"Olá, {signer.name.split()[0]}! O contrato de personalização da {_where(envelope)} está pronto "
                f"para a sua assinatura. Revise e assine pelo portal: {sign_url(envelope)}")
        queue_delivery(channel=channel, recipient=to, recipient_name=signer.name, body=text,
                       subject="Contrato de personalização para assinar" if channel == "email" else None,
                       key=f"esign:{envelope.id}:{tag}:{signer.id}", subject_type="envelope", subject_id=envelope.id)
        sent += 1
    return sent


def resend_invitation(envelope: Envelope, actor) -> int:
    """Staff: remind whoever must sign now (the buyers still pending, else staff); once a minute at most."""
    if not envelope.is_open:
        raise ServiceError({"contract": f"Este contrato está {envelope.status_label.lower()}."})
    pending = [s for s in envelope.signers if s.status == "pending"]
    due = [s for s in pending if s.role == "buyer"] or pending
    count = notify(envelope, due, "resend-" + utcnow().strftime("%Y%m%d%H%M"))
    audit("contract.invitation_resent", envelope, signers=[s.name for s in due])
    return count


# ---- one-time codes ---------------------------------------------------------------------------------

def _digest(signer: Signer, code: str) -> str:
    key = (current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, f"esign-otp:{signer.id}:{code}".encode(), hashlib.sha256).hexdigest()


def _mask_email(value: str) -> str:
    name, _, domain = value.partition("@")
    return f"{name[:2]}{'•' * max(len(name) - 2, 1)}@{domain}"


def channels_of(signer: Signer) -> dict[str, str]:
    """channel → where the code goes (masked), only the channels the signer has."""
    found = {}
    if signer.email:
        found["email"] = _mask_email(signer.email)
    if signer.phone:
        found["sms"] = f"celular terminado em {signer.phone[-4:]}"
    return found


def signer_for(envelope: Envelope | None, user) -> Signer | None:
    """The signer a logged-in person acts as: a buyer their own row; staff the company's row."""
    if envelope is None or user is None:
        return None
    if user.role == "customer":
        return next((s for s in envelope.signers if s.role == "buyer" and s.user_id == user.id), None)
    return next((s for s in envelope.signers if s.role == "staff"), None)


def _check_turn(signer: Signer) -> None:
    envelope = signer.envelope
    if envelope.provider != BuiltinProvider.name:
        raise ServiceError({"signature": "Este contrato é assinado pelo provedor externo, no link enviado."})
    if not envelope.is_open:
        raise ServiceError({"signature": f"Este contrato está {envelope.status_label.lower()}."})
    if signer.status != "pending":
        raise ServiceError({"signature": "Você já assinou este contrato." if signer.status == "signed"
                            else "Este signatário recusou o contrato."})
    if signer.locked_at is not None:
        raise ServiceError({"code": LOCKED_MESSAGE})
    if signer.role == "staff" and any(s.status != "signed" for s in envelope.signers if s.role == "buyer"):
        raise ServiceError({"signature": "A empresa assina depois de todos os compradores."})


def send_code(signer: Signer, channel: str, actor, now: datetime | None = None) -> None:
    """A new 6-digit code to the chosen channel (the previous one stops working)."""
    now = now or utcnow()
    _check_turn(signer)
    if signer.role == "staff" and actor is not None and signer.user_id != actor.id:
        # another staff member of the development countersigns: the evidence must name who did
        audit("contract.staff_signer_changed", signer.envelope, previous=signer.name, current=actor.name)
        signer.user_id, signer.name, signer.email = actor.id, actor.name, actor.email
        signer.phone, signer.cpf, signer.otp_hash = actor.phone, actor.cpf, None
    available = channels_of(signer)
    if channel not in available:
        raise ServiceError({"channel": "Escolha como receber o código."})
    if signer.otp_sent_at and now - signer.otp_sent_at < timedelta(seconds=RESEND_SECONDS):
        raise ServiceError({"channel": "Aguarde um minuto para pedir um novo código."})
    code = f"{secrets.randbelow(10 ** 6):06d}"
    signer.otp_hash, signer.otp_channel = _digest(signer, code), channel
    signer.otp_sent_at, signer.otp_expires_at = now, now + timedelta(minutes=OTP_MINUTES)
    text = (f"Seu código para assinar o contrato de personalização: {code}. Vale por {OTP_MINUTES} minutos. "
            "Não compartilhe este código com ninguém.")
    # no subject link: the message (with its code) stays off the unit's timeline
    queue_delivery(channel=channel, recipient=signer.email if channel == "email" else signer.phone,
                   recipient_name=signer.name, body=text,
                   subject=f"Código de assinatura: {code}" if channel == "email" else None,
                   key=f"esign:otp:{signer.id}:{secrets.token_hex(8)}")
    audit("contract.otp_sent", signer.envelope, signer=signer.name, channel=channel)


def confirm(signer: Signer, code, accepted: bool, actor, *, ip: str | None = None, user_agent: str | None = None,
            now: datetime | None = None) -> Envelope:
    """Sign with the code. A wrong code counts (AttemptFailed: commit it); the 5th locks the signer."""
    now = now or utcnow()
    _check_turn(signer)
    if actor is not None and signer.user_id != actor.id:
        raise ServiceError({"code": "Peça um novo código: ele é enviado para quem vai assinar."})
    if not accepted:
        raise ServiceError({"accept": "Marque que leu e concorda com o contrato para assinar."})
    code = "".join(ch for ch in str(code or "") if ch.isdigit())
    if not signer.otp_hash:
        raise ServiceError({"code": "Peça o código de confirmação primeiro."})
    if signer.otp_expires_at is None or now > signer.otp_expires_at:
        raise ServiceError({"code": "O código expirou. Peça um novo código."})
    if len(code) != 6 or not hmac.compare_digest(_digest(signer, code), signer.otp_hash):
        signer.failed_attempts = (signer.failed_attempts or 0) + 1
        audit("contract.otp_failed", signer.envelope, signer=signer.name, attempts=signer.failed_attempts)
        if signer.failed_attempts >= MAX_ATTEMPTS:
            signer.locked_at, signer.otp_hash = now, None
            audit("contract.signer_locked", signer.envelope, signer=signer.name, attempts=signer.failed_attempts)
            publish("contract.signer_locked", signer.envelope, signatario=signer.name)
            raise AttemptFailed({"code": LOCKED_MESSAGE})
        left = MAX_ATTEMPTS - signer.failed_attempts
        raise AttemptFailed({"code": f"Código incorreto. Você tem mais {left} tentativa{'s' if left > 1 else ''}."})
    signer.otp_hash = None
    envelope = services.record_signature(signer, ip=ip, user_agent=user_agent, channel=signer.otp_channel, at=now)
    if services.all_signed(envelope):
        jobs.enqueue_after_commit(db.session, finalize, envelope.id, job_id=f"esign-finalize-{envelope.id}")
    elif all(s.status == "signed" for s in envelope.signers if s.role == "buyer"):
        notify(envelope, [s for s in envelope.signers if s.role == "staff" and s.status == "pending"], "staff")
    return envelope


def unlock(signer: Signer, actor) -> None:
    if signer.locked_at is None:
        raise ServiceError({"signature": "Este signatário não está bloqueado."})
    signer.locked_at, signer.failed_attempts, signer.otp_hash = None, 0, None
    audit("contract.signer_unlocked", signer.envelope, signer=signer.name)
    publish("contract.signer_unlocked", signer.envelope, actor=actor, signatario=signer.name)


# ---- the final document -----------------------------------------------------------------------------

def _when(value: datetime) -> tuple[str, str]:
    zone = current_app.config.get("PORTAL_TIMEZONE") or "America/Sao_Paulo"
    return (value.astimezone(ZoneInfo("UTC")).strftime("%d/%m/%Y %H:%M:%S UTC"),
            value.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M:%S") + f" ({zone})")


def evidence_html(envelope: Envelope, original: bytes) -> str:
    rows = []
    for s in envelope.signers:
        utc, local = _when(s.signed_at) if s.signed_at else ("—", "—")
        rows.append({"name": s.name, "cpf": s.cpf, "role": ROLES.get(s.role, s.role), "utc": utc, "local": local,
                     "ip": s.ip or "—", "user_agent": s.user_agent or "—",
                     "channel": CHANNELS.get(s.otp_channel or "", s.otp_channel or "—")})
    unit = envelope.selection.unit
    return render_template("personalize/signing/evidence.html", envelope=envelope, signers=rows, unit=unit,
                           sha256=hashlib.sha256(original).hexdigest(), generated=_when(utcnow()))


def final_pdf(envelope: Envelope, original: bytes) -> bytes:
    """The contract + the evidence page, sealed (PAdES) with the company certificate."""
    from pypdf import PdfReader, PdfWriter

    from portal.personalize import signing
    from portal.reports.pdf import render_pdf
    evidence = render_pdf(evidence_html(envelope, original), document=f"evidence page of envelope {envelope.id}")
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(original)))
    writer.append(PdfReader(io.BytesIO(evidence)))
    writer.add_metadata({"/Title": f"Contrato assinado — envelope {envelope.id}"})
    merged = io.BytesIO()
    writer.write(merged)
    return signing.sign_pdf(merged.getvalue())


def finalize(envelope_id: int) -> str:
    """Job: every signer signed → build, seal and store the final PDF (once)."""
    envelope = db.session.get(Envelope, envelope_id)
    if envelope is None or envelope.status == "signed" or not envelope.is_open:
        return "skipped"
    if not services.all_signed(envelope):
        return "not-complete"
    pdf = final_pdf(envelope, services._pdf_of(envelope.contract))
    done = services.finish(envelope, pdf)
    db.session.commit()
    return "signed" if done else "already-signed"


# ---- default rules ----------------------------------------------------------------------------------

DEFAULT_RULES = {
    "reminder": {
        "name": "Assinatura: lembrete a quem falta assinar (a cada 2 dias)", "active": True, "trigger": "time",
        "subject_type": "envelope", "date_field": "sent_at", "offset_amount": 2, "offset_unit": "days",
        "direction": "after", "repeat_every_days": 2, "quiet_hours": True,
        "conditions": [{"field": "status", "op": "in", "value": "sent,partial"}],
        "actions": [{"type": "message", "channel": "email", "to": "contact",
                     "subject": "Lembrete: contrato aguardando a sua assinatura",
                     "body": "Olá, {{ contato.nome }}! O contrato de personalização da unidade "
                             "{{ envelope.selection.unit.number }} ({{ envelope.selection.unit.development.name }}) "
                             "ainda aguarda a sua assinatura. Revise e assine pelo portal: {{ link }}"}]},
}


def ensure_default_rules() -> list[str]:
    """Seed the signature rules not seeded yet (idempotent; an admin's edit or delete sticks)."""
    return default_rules.seed({f"signature.{key}": spec for key, spec in DEFAULT_RULES.items()})
