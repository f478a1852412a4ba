"""Active-offer campaigns and the sales-CRM handoff."""
import hashlib
import hmac
import json
import time

from sqlalchemy import func, select

from portal.extensions import db
from portal.presales.models import CampaignLead, Lead, LossReason, Narrative
from portal.presales.services import campaigns
from portal.presales.services.handoff import sign
from portal.presales.services.intake import intake
from portal.presales.services.leads import log_contact, mark_lost, mark_won, move_to_stage
from tests.factories import make_user


def lost_leads(sales, n):
    reason = db.session.execute(select(LossReason).where(LossReason.name == "Sem interesse")).scalar_one()
    out = []
    for i in range(n):
        lead = intake({"name": f"Antigo {i}", "email": f"antigo{i}@exemplo.com.br", "phone": f"+55119{i:08d}",
                       "channel": "site", "development": "jardim-europa"}).lead
        mark_lost(lead, sales["admin"], reason.id)
        out.append(lead)
    db.session.commit()
    return out, reason


def test_campaign_preview_counts_and_launch_distributes_fairly_without_stealing(sales):
    extra = [make_user("broker", team=sales["south"]) for _ in range(2)]
    from portal.presales.models import QueueMember
    for i, u in enumerate(extra):
        db.session.add(QueueMember(queue_id=sales["queue"].id, user_id=u.id, position=5 + i))
    db.session.commit()
    leads, reason = lost_leads(sales, 1000)
    # one lead is open again with its rep: the campaign must not take it
    kept = intake({"name": "Aberto", "email": "aberto@exemplo.com.br", "channel": "site",
                   "development": "jardim-europa"}).lead
    db.session.commit()
    filters = {"status": "any", "development_id": sales["dev"].id}
    head = sales["head"]
    assert campaigns.preview(head, filters) == {"total": 1001, "open_with_rep": 1, "available": 1000}
    assert campaigns.preview(head, {"status": "lost", "loss_reason_id": reason.id})["total"] == 1000
    members = {m.user_id: m.assigned_count for m in sales["queue"].members}
    campaign = campaigns.launch(head, "Retomada de perdidos", filters, sales["queue"].id, "Olá! Temos novidades.")
    db.session.commit()
    links = db.session.execute(select(CampaignLead).where(CampaignLead.campaign_id == campaign.id)).scalars().all()
    assigned = [link for link in links if link.outcome == "assigned"]
    skipped = [link for link in links if link.outcome == "skipped"]
    assert len(assigned) == 1000 and [s.lead_id for s in skipped] == [kept.id]
    db.session.refresh(kept)
    assert kept.owner_id == kept.owner_id and kept.campaign_id is None
    per_rep = {}
    for link in assigned:
        per_rep[link.user_id] = per_rep.get(link.user_id, 0) + 1
    assert len(per_rep) == 4 and max(per_rep.values()) - min(per_rep.values()) <= 1
    reopened = db.session.scalar(select(func.count(Lead.id)).where(Lead.campaign_id == campaign.id,
                                                                   Lead.status == "open"))
    assert reopened == 1000 and members  # every taken lead is open again with its new rep


def test_campaign_progress_counts_contacts_reengagement_and_wins(sales):
    leads, reason = lost_leads(sales, 4)
    campaign = campaigns.launch(sales["head"], "Teste", {"status": "lost"}, sales["queue"].id)
    db.session.commit()
    a, b, c, _ = [db.session.get(Lead, lead.id) for lead in leads]
    log_contact(a, "call", "liguei", a.owner)
    log_contact(b, "call", "liguei", b.owner)
    b.budget_range, b.timeframe = "300_600", "3m"
    move_to_stage(b, next(s for s in b.pipeline.stages if s.name == "Proposta"), b.owner)
    mark_won(c, c.owner)
    db.session.commit()
    result = campaigns.progress(campaign)
    assert result["total"] == {"assigned": 4, "contacted": 2, "reengaged": 2, "converted": 1}


def test_campaign_bad_input_writes_nothing(sales):
    from portal.errors import ServiceError
    import pytest
    with pytest.raises(ServiceError) as err:
        campaigns.launch(sales["head"], "", {"status": "lost"}, None)
    assert {"name", "queue_id"} <= set(err.value.errors)
    with pytest.raises(ServiceError):
        campaigns.launch(sales["head"], "Vazia", {"status": "lost"}, sales["queue"].id)


def handoff_stage(sales):
    stage = next(s for s in sales["pipeline"].stages if s.name == "Proposta")
    stage.handoff = True
    db.session.commit()
    return stage


def test_handoff_posts_a_signed_payload_and_retries_once_after_500(app, sales, http_server, run_jobs):
    app.config.update(SALES_CRM_URL=http_server.url + "/vimob/leads", SALES_CRM_SECRET="segredo-crm")
    http_server.statuses = [500]
    http_server.reply = {"id": "VIMOB-991"}
    try:
        stage = handoff_stage(sales)
        lead = intake({"name": "Fernanda", "email": "f@exemplo.com.br", "channel": "site",
                       "development": "jardim-europa"}).lead
        lead.budget_range, lead.timeframe = "300_600", "3m"
        move_to_stage(lead, stage, lead.owner)
        db.session.commit()
        run_jobs()
        run_jobs()
    finally:
        app.config.update(SALES_CRM_URL="", SALES_CRM_SECRET="")
    assert len(http_server.requests) == 2
    req = http_server.requests[-1]
    ts = req["headers"]["X-Portal-Timestamp"]
    expected = "sha256=" + hmac.new(b"segredo-crm", ts.encode() + b"." + req["body"], hashlib.sha256).hexdigest()
    assert req["headers"]["X-Portal-Signature"] == expected
    assert req["json"]["number"] == lead.number and req["json"]["qualification"]["budget_range"] == "300_600"
    db.session.refresh(lead)
    assert (lead.handoff_status, lead.external_id, lead.handoff_attempts) == ("sent", "VIMOB-991", 2)


def post_status(client, body: dict, secret="segredo-crm", ts=None):
    raw = json.dumps(body).encode()
    ts = str(ts or int(time.time()))
    return client.post("/api/v1/webhooks/sales-status", data=raw, content_type="application/json",
                       headers={"X-Portal-Timestamp": ts, "X-Portal-Signature": sign(secret, ts, raw)})


def test_inbound_sales_status_is_verified_fresh_and_applied_once(app, client, sales):
    app.config.update(SALES_CRM_SECRET="segredo-crm")
    try:
        lead = intake({"name": "Fernanda", "email": "f@exemplo.com.br", "channel": "site",
                       "development": "jardim-europa"}).lead
        lead.external_id = "VIMOB-7"
        db.session.commit()
        body = {"id": "evt-1", "external_id": "VIMOB-7", "status": "Proposta aceita", "value_cents": 45000000}
        assert post_status(client, body, secret="errado").status_code == 401
        assert post_status(client, body, ts=int(time.time()) - 3600).status_code == 401
        db.session.refresh(lead)
        assert lead.sales_status is None
        r = post_status(client, body)
        assert r.status_code == 200 and r.json["status"] == "updated"
        assert post_status(client, body).json["status"] == "duplicate"
        assert post_status(client, {"id": "evt-2", "external_id": "X"}).status_code == 404
        assert post_status(client, {"id": "evt-3", "number": lead.number, "value_cents": "muito"}).status_code == 422
    finally:
        app.config.update(SALES_CRM_SECRET="")
    db.session.refresh(lead)
    assert (lead.sales_status, lead.negotiated_value_cents) == ("Proposta aceita", 45000000)
    texts = [n.body for n in db.session.execute(select(Narrative).where(Narrative.lead_id == lead.id)).scalars()]
    assert sum("R$ 450.000,00" in t for t in texts) == 1


def test_failed_handoff_is_visible_on_the_lead_page_with_a_retry(app, client, login_as, sales, http_server, run_jobs):
    app.config.update(SALES_CRM_URL=http_server.url, SALES_CRM_SECRET="s")
    http_server.status = 503
    try:
        stage = handoff_stage(sales)
        lead = intake({"name": "Fernanda", "email": "f@exemplo.com.br", "channel": "site",
                       "development": "jardim-europa"}).lead
        lead.budget_range, lead.timeframe = "300_600", "3m"
        move_to_stage(lead, stage, lead.owner)
        db.session.commit()
        run_jobs()
        login_as(lead.owner)
        page = client.get(f"/pre-vendas/leads/{lead.id}").get_data(as_text=True)
        assert "Falhou" in page and "HTTP 503" in page and "Repetir envio" in page
        http_server.status = 200
        assert client.post(f"/pre-vendas/leads/{lead.id}/crm/repetir").status_code == 302
        run_jobs()
    finally:
        app.config.update(SALES_CRM_URL="", SALES_CRM_SECRET="")
    db.session.refresh(lead)
    assert lead.handoff_status == "sent"
