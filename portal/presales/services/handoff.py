"""Handoff to the sales CRM (VIMOB or any): signed outbound POST with retries, signed inbound status.

Signature, both ways: `X-Portal-Timestamp: <unix seconds>` and
`X-Portal-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with SALES_CRM_SECRET>`.
"""
import hashlib
import hmac
import json
import time

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from portal import jobs
from portal.automation.channels import ChannelError, post_json
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import InboundEvent, Lead
from portal.presales.services.leads import add_narrative


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def payload(lead: Lead) -> dict:
    return {"number": lead.number, "name": lead.name, "email": lead.email, "phone": lead.phone,
            "development": getattr(lead.development, "slug", None), "channel": getattr(lead.channel, "slug", None),
            "media": getattr(lead.media, "slug", None), "stage": lead.stage.name,
            "owner": {"name": lead.owner.name, "email": lead.owner.email} if lead.owner else None,
            "sdr": {"name": lead.sdr.name, "email": lead.sdr.email} if lead.sdr else None,
            "qualification": {"interest_level": lead.interest_level, "budget_range": lead.budget_range,
                              "fit": lead.fit, "timeframe": lead.timeframe, "score": lead.qualification_score},
            "custom": lead.custom or {}, "created_at": lead.created_at.isoformat()}


def request_handoff(lead: Lead) -> None:
    if lead.handoff_status == "sent":
        return
    lead.handoff_status, lead.handoff_error = "pending", None
    lead_id = lead.id
    jobs.after_commit(db.session, lambda: jobs.enqueue(send_handoff, lead_id, queue_name="high"))


def send_handoff(lead_id: int) -> str:
    """Job: claim (pending/failed → sending), POST, store the external id; failures retry, then show."""
    claimed = db.session.execute(update(Lead).where(Lead.id == lead_id, or_(Lead.handoff_status == "pending",
                                                                            Lead.handoff_status == "failed"))
                                 .values(handoff_status="sending", handoff_attempts=Lead.handoff_attempts + 1)
                                 ).rowcount
    db.session.commit()
    if not claimed:
        return "not-claimed"
    lead = db.session.get(Lead, lead_id)
    cfg = current_app.config
    try:
        if not cfg["SALES_CRM_URL"]:
            raise ChannelError("Integração com o CRM de vendas não configurada (SALES_CRM_URL).")
        body = json.dumps(payload(lead), ensure_ascii=False).encode()
        ts = str(int(time.time()))
        answer = post_json(cfg["SALES_CRM_URL"], {}, {"X-Portal-Timestamp": ts,
                                                      "X-Portal-Signature": sign(cfg["SALES_CRM_SECRET"], ts, body),
                                                      "Idempotency-Key": f"lead-{lead.number}"}, raw_body=body)
    except Exception as exc:
        db.session.rollback()
        lead = db.session.get(Lead, lead_id)
        lead.handoff_status, lead.handoff_error = "failed", str(exc)[:1000]
        db.session.commit()
        raise
    lead.handoff_status, lead.handoff_error = "sent", None
    lead.external_id = str(answer.get("id") or answer.get("external_id") or "") or None
    add_narrative(lead, "system", "Enviado ao CRM de vendas" + (f" (id {lead.external_id})" if lead.external_id else ""))
    db.session.flush()
    publish("lead.handed_off", lead, external_id=lead.external_id)
    db.session.commit()
    return "sent"


def retry_handoff(lead: Lead) -> None:
    if lead.handoff_status != "failed":
        raise ValueError("Só envios com falha podem ser repetidos.")
    lead.handoff_status = "pending"
    lead_id = lead.id
    jobs.after_commit(db.session, lambda: jobs.enqueue(send_handoff, lead_id, queue_name="high"))


class InboundRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def apply_sales_status(headers, raw: bytes) -> dict:
    """Inbound webhook from the sales CRM: verify signature and freshness, accept each event id once."""
    cfg = current_app.config
    ts = headers.get("X-Portal-Timestamp", "")
    given = headers.get("X-Portal-Signature", "")
    if not cfg["SALES_CRM_SECRET"] or not ts.isdigit():
        raise InboundRejected(401, "Assinatura ausente ou inválida.")
    if not hmac.compare_digest(sign(cfg["SALES_CRM_SECRET"], ts, raw), given):
        raise InboundRejected(401, "Assinatura inválida.")
    if abs(time.time() - int(ts)) > cfg["SALES_CRM_TOLERANCE_SECONDS"]:
        raise InboundRejected(401, "Requisição antiga demais (timestamp fora da tolerância).")
    try:
        data = json.loads(raw)
    except ValueError:
        raise InboundRejected(400, "JSON malformado.") from None
    if not isinstance(data, dict) or not data.get("id") or not (data.get("external_id") or data.get("number")):
        raise InboundRejected(422, "Informe id do evento e external_id ou number do lead.")
    lead = db.session.execute(select(Lead).where(
        (Lead.external_id == str(data.get("external_id") or "")) | (Lead.number == str(data.get("number") or ""))
    )).scalar()
    if lead is None:
        raise InboundRejected(404, "Lead não encontrado.")
    value = data.get("value_cents")
    if value is not None and (not isinstance(value, int) or value < 0):
        raise InboundRejected(422, "value_cents deve ser um inteiro em centavos.")
    try:
        with db.session.begin_nested():
            db.session.add(InboundEvent(source="sales-crm", event_id=str(data["id"])))
    except IntegrityError:
        return {"status": "duplicate", "number": lead.number}
    lead.sales_status = str(data.get("status") or "")[:60] or lead.sales_status
    if value is not None:
        lead.negotiated_value_cents = value
    from portal.web.filters import brl
    add_narrative(lead, "system", f"CRM de vendas: {lead.sales_status}"
                  + (f" · valor negociado {brl(value)}" if value is not None else ""), event_id=str(data["id"]))
    db.session.flush()
    publish("lead.sales_status_changed", lead, status=lead.sales_status, value_cents=value, at=utcnow())
    return {"status": "updated", "number": lead.number}
