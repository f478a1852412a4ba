"""The envelope state machine shared by every provider:

    draft → sent → partial → signed          (all signers signed; the final PDF stored once)
                 ↘ refused / expired / cancelled

Each transition is a timeline event ("contract.*" on the "envelope" subject) so rules can remind unsigned
signers and thank the buyer. A change to the selection after sending cancels the open envelope (the
contract is superseded); a signed contract cannot be superseded: never two valid contracts for a unit.
"""
import hashlib
import os
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.jobs import periodic
from portal.personalize.contracts import Contract
from portal.personalize.esign.base import get_provider
from portal.personalize.esign.models import OPEN_STATUSES, VALID_STATUSES, Envelope, Signer

DEFAULT_EXPIRY_DAYS = 30


def current_envelope(selection_id: int) -> Envelope | None:
    """The selection's valid (open or signed) envelope, if any."""
    return db.session.execute(select(Envelope).where(Envelope.selection_id == selection_id,
                                                     Envelope.status.in_(VALID_STATUSES))
                              .order_by(Envelope.id.desc()).limit(1)).scalar_one_or_none()


def latest_envelope(selection_id: int) -> Envelope | None:
    return db.session.execute(select(Envelope).where(Envelope.selection_id == selection_id)
                              .order_by(Envelope.id.desc()).limit(1)).scalar_one_or_none()


def _signers(selection, staff) -> list[Signer]:
    buyers = list(selection.unit.buyers) if selection.unit else []
    if not buyers:
        raise ServiceError({"contract": "A unidade não tem comprador cadastrado para assinar."})
    people = [("buyer", b) for b in buyers] + [("staff", staff)]
    return [Signer(position=i, role=role, user_id=u.id, name=u.name, email=u.email, phone=u.phone, cpf=u.cpf)
            for i, (role, u) in enumerate(people)]


def _staff_signer(selection, actor):
    if actor is not None and getattr(actor, "role", None) in ("admin", "personalization"):
        return actor
    staff = sorted(selection.unit.development.staff, key=lambda u: u.id) if selection.unit else []
    if not staff:
        raise ServiceError({"contract": "O empreendimento não tem responsável da personalização para assinar."})
    return staff[0]


def _pdf_of(contract: Contract) -> bytes:
    from portal.personalize.services.contracts import contract_file
    path = contract_file(contract)
    if path is None:
        raise ServiceError({"contract": "O PDF do contrato não está disponível; gere o contrato novamente."})
    with open(path, "rb") as fh:
        return fh.read()


def send_contract(contract: Contract, actor=None, provider: str | None = None,
                  now: datetime | None = None) -> Envelope:
    """Send the current, rendered contract of a submitted selection for signature."""
    now = now or utcnow()
    selection = contract.selection
    if contract.status != "rendered":
        raise ServiceError({"contract": "O contrato ainda não foi gerado (ou está substituído)."})
    if selection.status != "submitted" or contract.selection_revision != selection.revision:
        raise ServiceError({"contract": "A personalização mudou depois deste contrato; gere um novo contrato."})
    if not contract.payment_method:
        raise ServiceError({"payment": "O comprador precisa escolher a forma de pagamento antes da assinatura."})
    if current_envelope(selection.id) is not None:
        raise ServiceError({"contract": "Este contrato já está em assinatura."})
    backend = get_provider(provider)
    envelope = Envelope(contract_id=contract.id, selection_id=selection.id, development_id=contract.development_id,
                        provider=backend.name, status="draft", created_by_id=getattr(actor, "id", None))
    envelope.signers = _signers(selection, _staff_signer(selection, actor))
    pdf = _pdf_of(contract)
    try:
        # the provider call sits inside the savepoint: when it refuses, the draft is rolled back with it
        # (on SQLite an outermost savepoint's release commits, so a later rollback would not undo it)
        with db.session.begin_nested():
            db.session.add(envelope)
            db.session.flush()
            backend.create_envelope(envelope, pdf)
    except IntegrityError:  # another request sent it at the same moment
        raise ServiceError({"contract": "Este contrato já está em assinatura."}) from None
    days = int(current_app.config.get("ESIGN_EXPIRY_DAYS") or DEFAULT_EXPIRY_DAYS)
    envelope.status, envelope.sent_at, envelope.expires_at = "sent", now, now + timedelta(days=days)
    from portal.automation.engine import schedule
    schedule(envelope)  # time rules on the envelope (reminders to whoever must sign next)
    audit("contract.sent", envelope, contract_id=contract.id, provider=backend.name)
    publish("contract.sent", envelope, actor=actor, provedor=backend.label,
            signatarios=", ".join(s.name for s in envelope.signers))
    return envelope


def record_signature(signer: Signer, *, ip: str | None = None, user_agent: str | None = None,
                     channel: str | None = None, at: datetime | None = None, in_order: bool = True) -> Envelope:
    """One signer signed. Staff sign last when `in_order` (the built-in flow); a remote service reports
    signatures in its own order. Returns the envelope; when every signer has signed, the caller stores the
    final PDF with finish()."""
    envelope = signer.envelope
    if not envelope.is_open:
        raise ServiceError({"signature": f"Este contrato está {envelope.status_label.lower()}."})
    if signer.status == "signed":
        return envelope
    if signer.status != "pending":
        raise ServiceError({"signature": "Este signatário já recusou o contrato."})
    if in_order and signer.role == "staff" and any(s.status != "signed" for s in envelope.signers if s.role == "buyer"):
        raise ServiceError({"signature": "A empresa assina depois de todos os compradores."})
    signer.status, signer.signed_at = "signed", at or utcnow()
    signer.ip, signer.user_agent, signer.otp_channel = ip, (user_agent or "")[:255] or None, channel or signer.otp_channel
    audit("contract.signer_signed", envelope, signer=signer.name, role=signer.role)
    if any(s.status != "signed" for s in envelope.signers):
        envelope.status = "partial"
        publish("contract.partially_signed", envelope, signatario=signer.name)
    db.session.flush()
    return envelope


def all_signed(envelope: Envelope) -> bool:
    return bool(envelope.signers) and all(s.status == "signed" for s in envelope.signers)


def signed_file(envelope: Envelope) -> str | None:
    from portal.personalize.services.contracts import contracts_dir
    if not envelope.signed_file_path:
        return None
    root = os.path.realpath(contracts_dir())
    path = os.path.realpath(os.path.join(root, envelope.signed_file_path))
    return path if path.startswith(root + os.sep) and os.path.isfile(path) else None


def finish(envelope: Envelope, pdf: bytes, at: datetime | None = None) -> bool:
    """Store the final signed PDF and mark the envelope signed — once: a repeated callback changes nothing.
    Returns whether this call completed it."""
    from portal.personalize.services.contracts import contracts_dir
    if envelope.status == "signed" and envelope.signed_sha256:
        return False
    if not envelope.is_open:
        raise ServiceError({"signature": f"Este contrato está {envelope.status_label.lower()}."})
    folder = os.path.join(contracts_dir(), str(envelope.development_id))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"assinado-{envelope.id}-{uuid.uuid4().hex[:12]}.pdf")
    with open(path, "wb") as fh:
        fh.write(pdf)
    done = db.session.execute(update(Envelope).where(Envelope.id == envelope.id,
                                                     Envelope.status.in_(OPEN_STATUSES)).values(
        status="signed", completed_at=at or utcnow(), signed_file_path=os.path.relpath(path, contracts_dir()),
        signed_sha256=hashlib.sha256(pdf).hexdigest()).execution_options(synchronize_session=False)).rowcount
    if not done:  # completed by a concurrent callback
        os.remove(path)
        db.session.refresh(envelope)
        return False
    db.session.refresh(envelope)
    audit("contract.signed", envelope, sha256=envelope.signed_sha256)
    publish("contract.signed", envelope)
    return True


def _close(envelope: Envelope, status: str, reason: str, actor=None, event: str | None = None) -> None:
    envelope.status, envelope.status_reason = status, (reason or "")[:255] or None
    envelope.completed_at = utcnow()
    audit(f"contract.{status}", envelope, reason=reason)
    publish(event or f"contract.{status}", envelope, actor=actor, motivo=reason)


def refuse(signer: Signer, reason: str) -> Envelope:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ServiceError({"reason": "Informe o motivo da recusa."})
    envelope = signer.envelope
    if not envelope.is_open or signer.status != "pending":
        raise ServiceError({"signature": "Este contrato não aguarda a sua assinatura."})
    signer.status, signer.refusal_reason = "refused", reason[:255]
    _close(envelope, "refused", f"{signer.name}: {reason}")
    return envelope


def cancel(envelope: Envelope, reason: str, actor=None) -> Envelope:
    if not envelope.is_open:
        raise ServiceError({"contract": f"Este contrato está {envelope.status_label.lower()}."})
    try:
        get_provider(envelope.provider).cancel(envelope, reason)
    except Exception:  # the remote side may be down; locally the envelope is void either way
        current_app.logger.warning("provider cancel failed for envelope %s", envelope.id, exc_info=True)
    _close(envelope, "cancelled", reason, actor)
    return envelope


def void_for_selection(selection, reason: str, actor=None) -> None:
    """Before a selection changes (reopen, new contract): a signed contract blocks it; an open envelope is
    cancelled."""
    envelope = current_envelope(selection.id)
    if envelope is None:
        return
    if envelope.status == "signed":
        raise ServiceError({"contract": "O contrato desta unidade já foi assinado; não é possível alterá-lo."})
    cancel(envelope, reason, actor)


@periodic(every=timedelta(hours=1))
def expire_due(now: datetime | None = None) -> int:
    now = now or utcnow()
    due = db.session.execute(select(Envelope).where(Envelope.status.in_(OPEN_STATUSES),
                                                    Envelope.expires_at <= now)).scalars().all()
    for envelope in due:
        _close(envelope, "expired", "Prazo de assinatura encerrado.")
    db.session.commit()
    return len(due)


def unit_timeline(selection_id: int) -> list:
    """The envelopes' events, signatures and messages of a selection, newest first, for the unit's history.
    Each signature comes from its signer row: the company signs last, when no "partially signed" event is
    published, so events alone would leave its signature out."""
    from portal.automation.models import Delivery, Event
    from portal.automation.subjects import EVENT_TYPES
    from portal.automation.timeline import Entry
    ids = db.session.execute(select(Envelope.id).where(Envelope.selection_id == selection_id)).scalars().all()
    if not ids:
        return []
    events = db.session.execute(select(Event).where(Event.subject_type == "envelope", Event.subject_id.in_(ids),
                                                    Event.type != "contract.partially_signed")
                                .order_by(Event.created_at.desc()).limit(200)).scalars()
    deliveries = db.session.execute(select(Delivery).where(Delivery.subject_type == "envelope",
                                                           Delivery.subject_id.in_(ids))
                                    .order_by(Delivery.created_at.desc()).limit(200)).scalars()
    signed = db.session.execute(select(Signer).where(Signer.envelope_id.in_(ids), Signer.signed_at.is_not(None))
                                ).scalars()
    entries = [Entry(e.created_at, "event", EVENT_TYPES.get(e.type, (None, e.type))[1],
                   body=" · ".join(str(v) for k, v in (e.payload or {}).items() if k in ("signatario", "motivo") and v),
                   actor=e.actor.name if e.actor else None) for e in events]
    entries += [Entry(s.signed_at, "event", f"Assinado por {s.name}", body=builtin.ROLES.get(s.role, s.role))
                for s in signed]
    entries += [Entry(d.created_at, "message", f"{d.channel_label} para {d.recipient_name or d.recipient}",
                      body=d.subject or d.body[:200], status=d.status_label) for d in deliveries]
    return sorted(entries, key=lambda e: e.at, reverse=True)


from portal.personalize.esign import builtin  # noqa: E402,F401  (the default provider is always registered)
