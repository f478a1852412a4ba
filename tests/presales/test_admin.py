"""Pre-sales configuration: the settings services (each bad input, nothing written) and the screens
(roles, htmx partials, plain posts), plus how queue changes steer the next distribution."""
import re

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.errors import ServiceError
from portal.extensions import db
from portal.presales.models import (Channel, CustomField, Lead, LeadContactKey, LossReason, Media, Pipeline, Queue,
                                    QueueMember, Stage)
from portal.presales.services import pipelines, queues, settings as svc
from portal.presales.services.config import get_settings
from portal.presales.services.intake import intake
from portal.presales.services.leads import mark_lost
from tests.factories import make_development, make_user

HX = {"HX-Request": "true"}


def entry(n=1, **over):
    return {"name": f"Cliente {n}", "email": f"cliente{n}@exemplo.com.br", "phone": f"1198765{n:04d}",
            "development": "jardim-europa", "channel": "site", "media": "google", **over}


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(ServiceError) as exc:
        call(*args, **kwargs)
    db.session.rollback()
    return exc.value.errors


def stage(pipeline, name):
    return next(s for s in pipeline.stages if s.name == name)


def edit(pipeline, s, **over):
    """Save stage `s` with its current values changed by `over`."""
    data = {"name": s.name, "color": s.color, "sla_minutes": s.sla_minutes or "", "is_sdr": s.is_sdr,
            "is_won": s.is_won, "is_lost": s.is_lost, "required_fields": list(s.required_fields), **over}
    return pipelines.save_stage(pipeline, data, s)


# Channels, media, loss reasons
def test_channel_names_and_codes_are_unique_and_bad_input_writes_nothing(funnel):
    before = count(Channel)
    assert "name" in refused(svc.save_channel, {"name": "   "})
    assert refused(svc.save_channel, {"name": "síte"})["name"] == "Já existe um canal com este nome."
    assert "slug" in refused(svc.save_channel, {"name": "Site novo", "slug": "site"})
    assert "slug" in refused(svc.save_channel, {"name": "Canal", "slug": "!!!"})
    assert count(Channel) == before
    tiktok = svc.save_channel({"name": "TikTok Ads", "sdr_first": True})
    db.session.commit()
    assert (tiktok.slug, tiktok.sdr_first, tiktok.active) == ("tiktok-ads", True, True)
    svc.save_channel({"name": "TikTok", "slug": "", "sdr_first": False}, tiktok)  # an edit keeps the code
    assert tiktok.slug == "tiktok-ads" and not tiktok.sdr_first
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_type == "Channel")
                             .order_by(AuditLog.id.desc())) == "channel.updated"


def test_used_channel_media_and_reason_are_deactivated_unused_ones_deleted(sales):
    lead = intake(entry()).lead
    reason = db.session.execute(select(LossReason).order_by(LossReason.id)).scalars().first()
    mark_lost(lead, sales["admin"], reason.id)
    db.session.commit()
    site, google = lead.channel, lead.media
    assert svc.delete_channel(site) == "deactivated" and not site.active
    assert svc.delete_media(google) == "deactivated" and not google.active
    assert svc.delete_loss_reason(reason) == "deactivated" and not reason.active
    unused = svc.save_media({"name": "Rádio"})
    assert svc.delete_media(unused) == "deleted"
    scoped_channel = svc.save_channel({"name": "Feirão"})
    queues.save_queue({"name": "Feirão", "channel_ids": [scoped_channel.id]})
    assert svc.delete_channel(scoped_channel) == "deactivated"  # a queue scope still names it
    db.session.commit()
    assert count(Media, Media.name == "Rádio") == 0


def test_loss_reason_and_media_bad_input(funnel):
    assert "name" in refused(svc.save_loss_reason, {"name": ""})
    assert "name" in refused(svc.save_loss_reason, {"name": "sem INTERESSE"})
    assert "name" in refused(svc.save_media, {"name": "x" * 81})
    assert "name" in refused(svc.save_media, {"name": "INSTAGRAM"})


# Pipelines and stages
def test_a_stage_requiring_an_unknown_field_is_refused(funnel):
    visit = stage(funnel, "Visita agendada")
    errors = refused(edit, funnel, visit, required_fields=["phone", "shoe_size"])
    assert errors == {"required_fields": "Campo desconhecido: shoe_size."}
    assert "required_fields" in refused(edit, funnel, visit, required_fields=["custom:renda"])
    assert stage(funnel, "Visita agendada").required_fields == ["phone", "interest_level"]
    svc.save_custom_field({"label": "Renda familiar", "key": "renda", "kind": "number"})
    edit(funnel, visit, required_fields=["phone", "custom:renda", "phone"])
    db.session.commit()
    assert visit.required_fields == ["phone", "custom:renda"]


def test_pipeline_invariants_one_won_at_most_one_lost_and_a_broker_stage(funnel):
    won, lost = stage(funnel, "Ganho"), stage(funnel, "Perdido")
    proposal = stage(funnel, "Proposta")
    assert refused(pipelines.save_stage, funnel, {"name": "Contrato", "is_won": True})["is_won"] == \
        "O funil já tem a etapa de ganho “Ganho”."
    assert "is_lost" in refused(pipelines.save_stage, funnel, {"name": "Desistiu", "is_lost": True})
    assert "is_won" in refused(edit, funnel, won, is_won=False)
    assert "is_sdr" in refused(edit, funnel, proposal, is_won=True, is_sdr=True)
    assert "sla_minutes" in refused(edit, funnel, won, sla_minutes="30")
    assert "sla_minutes" in refused(edit, funnel, proposal, sla_minutes="0")
    assert "sla_minutes" in refused(edit, funnel, proposal, sla_minutes="uma hora")
    assert "color" in refused(edit, funnel, proposal, color="red")
    assert "name" in refused(edit, funnel, proposal, name="ganho")
    assert "stage" in refused(pipelines.delete_stage, stage(funnel, "Ganho"))
    for name in ("Atendimento", "Visita agendada"):
        pipelines.delete_stage(stage(funnel, name))
    db.session.commit()
    # Proposta is now the only broker stage: it may not become SDR nor go away
    assert "is_sdr" in refused(edit, funnel, stage(funnel, "Proposta"), is_sdr=True)
    assert "stage" in refused(pipelines.delete_stage, stage(funnel, "Proposta"))
    pipelines.delete_stage(stage(funnel, "Perdido"))  # no lost stage is allowed
    db.session.commit()
    assert [s.name for s in funnel.stages] == ["Novo (SDR)", "Em qualificação (SDR)", "Proposta", "Ganho"]
    assert [s.position for s in funnel.stages] == [0, 1, 2, 3]
    assert lost.id not in [s.id for s in funnel.stages]


def test_a_stage_with_leads_keeps_its_kind_and_cannot_be_deleted(sales):
    lead = intake(entry()).lead
    db.session.commit()
    current = lead.stage
    assert "is_sdr" in refused(edit, sales["pipeline"], current, is_sdr=True)
    assert "stage" in refused(pipelines.delete_stage, current)
    edit(sales["pipeline"], current, name="Primeiro atendimento", sla_minutes="45")
    db.session.commit()
    assert (current.name, current.sla_minutes) == ("Primeiro atendimento", 45)


def test_new_stage_goes_before_won_and_lost_and_can_move(funnel):
    pipelines.save_stage(funnel, {"name": "Contrato", "color": "#112233", "sla_minutes": "120"})
    db.session.commit()
    names = [s.name for s in funnel.stages]
    assert names[-3:] == ["Contrato", "Ganho", "Perdido"]
    contract = stage(funnel, "Contrato")
    assert pipelines.move_stage(contract, -1) and [s.name for s in funnel.stages][-4:-2] == ["Contrato", "Proposta"]
    assert not pipelines.move_stage(stage(funnel, "Novo (SDR)"), -1)  # already first
    ids = [s.id for s in funnel.stages]
    assert "stages" in refused(pipelines.reorder_stages, funnel, ids[:-1])
    pipelines.reorder_stages(funnel, list(reversed(ids)))
    db.session.commit()
    assert [s.id for s in funnel.stages] == list(reversed(ids))


def test_pipelines_start_with_starter_stages_and_one_default(funnel):
    assert "name" in refused(pipelines.save_pipeline, {"name": "funil de PRÉ-VENDAS"})
    assert "is_default" in refused(pipelines.save_pipeline, {"name": funnel.name, "is_default": False}, funnel)
    assert "pipeline" in refused(pipelines.delete_pipeline, funnel)
    launch = pipelines.save_pipeline({"name": "Lançamentos", "is_default": True})
    db.session.commit()
    assert [(s.name, s.is_won, s.is_lost) for s in launch.stages] == [
        ("Atendimento", False, False), ("Ganho", True, False), ("Perdido", False, True)]
    assert launch.is_default and not db.session.get(Pipeline, funnel.id).is_default
    pipelines.save_pipeline({"name": funnel.name, "is_default": True}, funnel)
    pipelines.delete_pipeline(launch)
    db.session.commit()
    assert count(Pipeline) == 1 and count(Stage, Stage.pipeline_id == launch.id) == 0


# Custom fields
def test_custom_field_rules(funnel):
    assert "label" in refused(svc.save_custom_field, {"label": "", "kind": "text"})
    assert "key" in refused(svc.save_custom_field, {"label": "Renda", "key": "Renda Familiar!"})
    assert "kind" in refused(svc.save_custom_field, {"label": "Renda", "kind": "money"})
    assert "choices" in refused(svc.save_custom_field, {"label": "Estado civil", "kind": "choice", "choices": "Casado"})
    civil = svc.save_custom_field({"label": "Estado civil", "kind": "choice",
                                   "choices": "Solteiro\n Casado \n\nCasado"})
    db.session.commit()
    assert (civil.key, civil.choices) == ("estado_civil", ["Solteiro", "Casado"])
    assert "key" in refused(svc.save_custom_field, {"label": "Outro", "key": "estado_civil"})
    assert "key" in refused(svc.save_custom_field, {"label": "Estado civil", "key": "civil", "kind": "text"}, civil)
    svc.save_custom_field({"label": "Estado civil (atual)", "key": "estado_civil", "kind": "text",
                           "choices": "ignored"}, civil)
    assert civil.choices == [] and civil.label == "Estado civil (atual)"
    edit(funnel, stage(funnel, "Proposta"), required_fields=["custom:estado_civil"])
    db.session.commit()
    assert "field" in refused(svc.delete_custom_field, civil)
    years = svc.save_custom_field({"label": "2 anos de FGTS", "kind": "text"})
    assert years.key == "campo_2_anos_de_fgts" and years.position > civil.position
    assert svc.move_custom_field(years, -1) and years.position < db.session.get(CustomField, civil.id).position


# Queues
def test_queue_bad_input_is_refused_field_by_field(sales):
    before = count(Queue)
    errors = refused(queues.save_queue, {"name": "Roleta", "kind": "csm", "mode": "roleta", "offer_minutes": "0",
                                      "fallback_minutes": "2000", "development_ids": ["999"],
                                      "channel_ids": ["abc"]})
    assert set(errors) == {"name", "kind", "mode", "offer_minutes", "fallback_minutes", "development_ids",
                           "channel_ids"}
    assert "offer_minutes" in refused(queues.save_queue, {"name": "Nova", "offer_minutes": "61"})
    assert "offer_minutes" in refused(queues.save_queue, {"name": "Nova", "offer_minutes": ""})
    assert count(Queue) == before
    queue = sales["queue"]
    errors = refused(queues.save_queue, {"name": "Roleta", "kind": "sdr"}, queue)
    assert "Bruna Corretora" in errors["kind"]
    site = db.session.execute(select(Channel).where(Channel.slug == "site")).scalar_one()
    online = queues.save_queue({"name": "Plantão online", "mode": "online", "offer_minutes": "3",
                             "fallback_minutes": "15", "development_ids": [str(sales["dev"].id)],
                             "channel_ids": [site.id]})
    db.session.commit()
    assert (online.offer_minutes, online.fallback_minutes, online.development_ids, online.channel_ids) == (
        3, 15, [sales["dev"].id], [site.id])
    assert online.position > queue.position


def test_a_queue_with_waiting_leads_cannot_be_deactivated_and_offline_switch_hands_them_out(sales):
    queue = sales["queue"]
    queues.save_queue({"name": "Roleta", "mode": "online", "offer_minutes": 5}, queue)
    db.session.commit()
    lead = intake(entry()).lead  # nobody online: it waits in the queue
    db.session.commit()
    assert lead.owner_id is None and lead.queue_id == queue.id
    assert "active" in refused(queues.save_queue, {"name": "Roleta", "mode": "online", "offer_minutes": 5,
                                                "active": False}, queue)
    assert "queue" in refused(queues.delete_queue, queue)
    queues.save_queue({"name": "Roleta", "mode": "offline", "offer_minutes": 5}, queue)
    db.session.commit()
    assert lead.owner_id == sales["south_broker"].id and lead.queue_id is None


def test_queue_with_history_is_deactivated_empty_one_deleted(sales):
    intake(entry())
    db.session.commit()
    assert queues.delete_queue(sales["queue"]) == "deactivated" and not sales["queue"].active
    spare = queues.save_queue({"name": "Reserva"})
    assert queues.delete_queue(spare) == "deleted"


# Queue members
def test_member_rules(sales):
    queue, sdr_queue = sales["queue"], sales["sdr_queue"]
    broker = make_user("broker", team=sales["south"], name="Nova Corretora")
    errors = refused(queues.add_member, queue, sales["sdr"].id)
    assert errors == {"user_id": "Escolha um corretor ativo."}
    assert refused(queues.add_member, sdr_queue, broker.id) == {"user_id": "Escolha um SDR ativo."}
    assert "user_id" in refused(queues.add_member, queue, "abc")
    assert "já está" in refused(queues.add_member, queue, sales["south_broker"].id)["user_id"]
    assert "weight" in refused(queues.add_member, queue, broker.id, weight="11")
    inactive = make_user("broker", team=sales["south"])
    inactive.active = False
    db.session.commit()
    assert "user_id" in refused(queues.add_member, queue, inactive.id)
    member = queue.members[0]
    assert "weight" in refused(queues.set_weight, member, "0")
    assert "weight" in refused(queues.set_weight, member, "dez")
    assert count(QueueMember, QueueMember.queue_id == queue.id) == 2 and member.weight == 1


def test_a_manager_cannot_add_or_touch_people_outside_their_team(sales):
    queue, manager = sales["queue"], sales["south_mgr"]  # Zona Sul only
    outsider = make_user("broker", team=sales["north"], name="Otávio Norte")
    errors = refused(queues.add_member, queue, outsider.id, manager)
    assert errors == {"user_id": "Você só pode incluir pessoas da sua equipe."}
    north_member = next(m for m in queue.members if m.user_id == sales["north_broker"].id)
    assert "user_id" in refused(queues.set_paused, north_member, True, manager)
    assert "user_id" in refused(queues.set_weight, north_member, 3, manager)
    assert "user_id" in refused(queues.remove_member, north_member, manager)
    assert count(QueueMember, QueueMember.user_id == outsider.id) == 0
    assert not db.session.get(QueueMember, north_member.id).paused
    insider = make_user("broker", team=sales["south"], name="Sara Sul")
    queues.add_member(queue, insider.id, manager, weight=2)
    db.session.commit()
    assert [m.user_id for m in queue.members][-1] == insider.id


def test_pause_and_weight_steer_the_next_distribution(sales):
    south, north = sales["south_broker"], sales["north_broker"]
    queue = sales["queue"]
    member = {m.user_id: m for m in queue.members}
    owners = [intake(entry(n)).lead.owner_id for n in (1, 2)]
    db.session.commit()
    assert owners == [south.id, north.id]
    queues.set_paused(member[south.id], True)  # next would be Bruna's turn
    db.session.commit()
    assert [intake(entry(n)).lead.owner_id for n in (3, 4)] == [north.id, north.id]
    queues.set_paused(member[south.id], False)  # back at the level of the least-served: no burst
    db.session.commit()
    assert member[south.id].assigned_count == 3
    owners = [intake(entry(n)).lead.owner_id for n in (5, 6)]
    db.session.commit()
    assert sorted(owners) == sorted([south.id, north.id])
    # both at 4: weight 3 for Carlos gives him the next three of four
    queues.set_weight(member[north.id], 3)
    db.session.commit()
    owners = [intake(entry(n)).lead.owner_id for n in range(7, 11)]
    db.session.commit()
    assert owners.count(north.id) == 3 and owners.count(south.id) == 1


def test_a_newcomer_starts_at_the_current_level_and_takes_waiting_leads(sales):
    queue = sales["queue"]
    for n in range(1, 5):
        intake(entry(n))
    db.session.commit()
    newcomer = make_user("broker", team=sales["south"], name="Nina Nova")
    member = queues.add_member(queue, newcomer.id)
    db.session.commit()
    assert member.assigned_count == 2  # the others have 2 each
    owners = [intake(entry(n)).lead.owner_id for n in range(5, 8)]
    assert owners.count(newcomer.id) == 1
    # an SDR queue with nobody: the lead waits, and is handed out when someone joins
    sdr_queue = sales["sdr_queue"]
    queues.remove_member(sdr_queue.members[0])
    db.session.commit()
    waiting = intake(entry(9, channel="whatsapp")).lead
    db.session.commit()
    assert waiting.owner_id is None and waiting.queue_id == sdr_queue.id
    queues.add_member(sdr_queue, sales["sdr"].id)
    db.session.commit()
    assert waiting.owner_id == sales["sdr"].id and waiting.sdr_id == sales["sdr"].id


def test_member_order_moves(sales):
    queue = sales["queue"]
    second = queue.members[1]
    assert queues.move_member(second, -1)
    db.session.commit()
    assert [m.id for m in db.session.get(Queue, queue.id).members][0] == second.id


# Duplicate blocking settings
def test_settings_bad_input_and_key_rebuild(sales):
    settings = get_settings()
    db.session.commit()
    for days in ("366", "-1", "", "trinta"):
        assert "dedup_closed_days" in refused(svc.save_settings, {"dedup_closed_days": days})
    assert get_settings().dedup_closed_days == 30
    first = intake(entry(1)).lead
    db.session.commit()
    other = make_development("Residencial Mar Azul", slug="mar-azul")
    assert intake(entry(1, development="mar-azul")).status == "duplicate"
    svc.save_settings({"dedup_same_development_only": "1", "dedup_closed_days": "10"})
    db.session.commit()
    assert (settings.dedup_same_development_only, settings.dedup_closed_days) == (True, 10)
    assert set(db.session.execute(select(LeadContactKey.scope)).scalars()) == {sales["dev"].id}
    assert intake(entry(1)).status == "duplicate"  # still blocked in its own development
    second = intake(entry(1, development="mar-azul"))
    db.session.commit()
    assert second.created and second.lead.development_id == other.id
    svc.save_settings({"dedup_same_development_only": "0", "dedup_closed_days": "10"})
    db.session.commit()
    keys = db.session.execute(select(LeadContactKey.lead_id, LeadContactKey.scope)).all()
    assert {scope for _, scope in keys} == {0} and {lead_id for lead_id, _ in keys} == {second.lead.id}
    assert intake(entry(1)).lead.id == second.lead.id != first.id
    assert db.session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "presales_settings.updated"


# Screens
def test_broker_and_sdr_get_403(client, login_as, sales):
    for user in (sales["south_broker"], sales["sdr"]):
        login_as(user)
        assert client.get("/pre-vendas/config/").status_code == 403
        assert client.get("/pre-vendas/config/filas").status_code == 403
        assert client.post(f"/pre-vendas/config/filas/{sales['queue'].id}/membros",
                           data={"user_id": user.id}).status_code == 403
        assert client.post("/pre-vendas/config/canais/novo", data={"new-name": "Novo"}).status_code == 403
        client.post("/logout")


def test_manager_reads_everything_but_writes_only_queues(client, login_as, sales):
    login_as(sales["south_mgr"])
    for url in ("/", "/canais", "/midias", "/motivos-de-perda", "/campos", "/funis",
                f"/funis/{sales['pipeline'].id}", "/filas", f"/filas/{sales['queue'].id}", "/bloqueio"):
        r = client.get("/pre-vendas/config" + url)
        assert r.status_code == 200, url
        assert "Incluir</button>" not in r.get_data(as_text=True) or url.startswith("/filas/"), url
    channel = db.session.execute(select(Channel).where(Channel.slug == "site")).scalar_one()
    stage_id = sales["pipeline"].stages[0].id
    for url, data in [("/canais/novo", {"new-name": "Novo"}), (f"/canais/{channel.id}", {}),
                      (f"/canais/{channel.id}/excluir", {}), ("/funis/novo", {"name": "X"}),
                      (f"/funis/{sales['pipeline'].id}", {"name": "X"}),
                      (f"/funis/{sales['pipeline'].id}/etapas/{stage_id}", {"name": "X"}),
                      ("/bloqueio", {"dedup_closed_days": "5"}), (f"/filas/{sales['queue'].id}/excluir", {})]:
        assert client.post("/pre-vendas/config" + url, data=data).status_code == 403, url
    r = client.post("/pre-vendas/config/filas/nova", data={"name": "Zona Sul online", "kind": "broker",
                                                           "mode": "online", "offer_minutes": "5", "active": "y"})
    assert r.status_code == 302
    assert db.session.execute(select(Queue).where(Queue.name == "Zona Sul online")).scalar_one().mode == "online"


def test_manager_adding_someone_outside_the_team_through_the_screen_is_refused(client, login_as, sales):
    queue = sales["queue"]
    outsider = make_user("broker", team=sales["north"], name="Otávio Norte")
    insider = make_user("broker", team=sales["south"], name="Sara Sul")
    login_as(sales["south_mgr"])
    page = client.get(f"/pre-vendas/config/filas/{queue.id}").get_data(as_text=True)
    assert "Sara Sul" in page and "Otávio Norte" not in page  # the select only offers the team
    assert "outra equipe" in page  # Carlos (Zona Norte) shows without controls
    r = client.post(f"/pre-vendas/config/filas/{queue.id}/membros", data={"user_id": outsider.id, "weight": "1"})
    assert r.status_code == 422 and "Você só pode incluir pessoas da sua equipe." in r.get_data(as_text=True)
    north_member = next(m for m in queue.members if m.user_id == sales["north_broker"].id)
    r = client.post(f"/pre-vendas/config/filas/{queue.id}/membros/{north_member.id}/pausa", data={"paused": "1"},
                    headers=HX)
    assert r.status_code == 422
    db.session.expire_all()
    assert count(QueueMember, QueueMember.user_id == outsider.id) == 0
    assert not db.session.get(QueueMember, north_member.id).paused
    r = client.post(f"/pre-vendas/config/filas/{queue.id}/membros", data={"user_id": insider.id, "weight": "2"})
    assert r.status_code == 302
    assert count(QueueMember, QueueMember.user_id == insider.id) == 1


def test_member_actions_answer_the_members_section_on_htmx_and_redirect_otherwise(client, login_as, sales):
    queue = sales["queue"]
    member = queue.members[0]
    login_as(sales["admin"])
    base = f"/pre-vendas/config/filas/{queue.id}/membros/{member.id}"
    r = client.post(base + "/pausa", data={"paused": "1"}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="membros"' in html and "<html" not in html and "Retomar" in html
    r = client.post(base + "/peso", data={"weight": "0"}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Informe um número entre 1 e 10." in html and 'aria-invalid="true"' in html
    r = client.post(base + "/peso", data={"weight": "4"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/filas/{queue.id}#membros")
    r = client.post(base + "/peso", data={"weight": "11"})
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)
    db.session.expire_all()
    member = db.session.get(QueueMember, member.id)
    assert (member.paused, member.weight) == (True, 4)
    r = client.post(base + "/mover", data={"direction": "down"}, headers=HX)
    assert r.status_code == 200
    r = client.post(base + "/remover", headers=HX)
    assert r.status_code == 200 and "Bruna Corretora" in r.get_data(as_text=True)  # back in the add select
    assert count(QueueMember, QueueMember.queue_id == queue.id) == 1
    page = client.get(f"/pre-vendas/config/filas/{queue.id}").get_data(as_text=True)
    assert "Cota" in page and "100%" in page and "próximo" in page
    partial = client.get(f"/pre-vendas/config/filas/{queue.id}", headers=HX).get_data(as_text=True)
    assert partial.lstrip().startswith("{#") is False and 'id="membros"' in partial and "<html" not in partial


def test_simple_lists_inline_edit_add_and_errors(client, login_as, sales):
    login_as(sales["admin"])
    channel = db.session.execute(select(Channel).where(Channel.slug == "whatsapp")).scalar_one()
    url = f"/pre-vendas/config/canais/{channel.id}"
    row = client.get(url, headers=HX).get_data(as_text=True)
    assert row.lstrip().startswith("<tr") and "SDR primeiro" in row and "<html" not in row
    prefix = f"item-{channel.id}-"
    r = client.post(url, data={prefix + "name": "Site", prefix + "slug": "whatsapp"}, headers=HX)
    assert r.status_code == 422 and "Já existe um canal com este nome." in r.get_data(as_text=True)
    r = client.post(url, data={prefix + "name": "WhatsApp Business", prefix + "slug": "whatsapp",
                               prefix + "active": "y"}, headers=HX)
    assert r.status_code == 200 and "WhatsApp Business" in r.get_data(as_text=True)
    db.session.expire_all()
    assert (channel.name, channel.sdr_first) == ("WhatsApp Business", False)
    assert client.get(url).status_code == 200  # full-page form without htmx
    r = client.post("/pre-vendas/config/midias/novo", data={"new-name": ""})
    assert r.status_code == 422 and "Informe o nome da mídia." in r.get_data(as_text=True)
    r = client.post("/pre-vendas/config/midias/novo", data={"new-name": "Rádio Jovem", "new-active": "y"})
    assert r.status_code == 302 and count(Media, Media.slug == "radio-jovem") == 1
    r = client.post("/pre-vendas/config/motivos-de-perda/novo", data={"new-name": "Mudou de cidade",
                                                                     "new-active": "y"}, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="motivos-de-perda-list"' in html and "Mudou de cidade" in html
    media = db.session.execute(select(Media).where(Media.slug == "radio-jovem")).scalar_one()
    r = client.post(f"/pre-vendas/config/midias/{media.id}/excluir", headers=HX)
    assert r.status_code == 200 and r.get_data(as_text=True) == "" and count(Media, Media.id == media.id) == 0
    r = client.post("/pre-vendas/config/campos/novo", data={"new-label": "Profissão", "new-kind": "choice",
                                                            "new-choices": "Médico"})
    assert r.status_code == 422 and "Informe ao menos duas opções" in r.get_data(as_text=True)
    assert count(CustomField) == 0


def test_stage_editor_refuses_unknown_field_and_saves_a_good_one(client, login_as, sales):
    login_as(sales["admin"])
    p = sales["pipeline"]
    visit = stage(p, "Visita agendada")
    url = f"/pre-vendas/config/funis/{p.id}/etapas/{visit.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'type="color"' in page and re.search(r'<input checked [^>]*value="interest_level"', page)
    r = client.post(url, data={"name": "Visita", "color": "#8b5cf6", "required_fields": ["phone", "shoe_size"]})
    assert r.status_code == 422 and "Campo desconhecido: shoe_size." in r.get_data(as_text=True)
    db.session.expire_all()
    assert stage(db.session.get(Pipeline, p.id), "Visita agendada").required_fields == ["phone", "interest_level"]
    r = client.post(url, data={"name": "Visita", "color": "#8B5CF6", "sla_minutes": "90",
                               "required_fields": ["phone", "budget_range"]})
    assert r.status_code == 302
    db.session.expire_all()
    visit = db.session.get(Stage, visit.id)
    assert (visit.name, visit.color, visit.sla_minutes, visit.required_fields) == (
        "Visita", "#8b5cf6", 90, ["phone", "budget_range"])
    r = client.post(f"{url}/mover", data={"direction": "up"}, headers=HX)
    assert r.status_code == 200 and 'id="etapas"' in r.get_data(as_text=True)
    r = client.post(f"/pre-vendas/config/funis/{p.id}/etapas/nova", data={"name": "Contrato", "is_won": "y"})
    assert r.status_code == 422 and "O funil já tem a etapa de ganho" in r.get_data(as_text=True)
    won = stage(db.session.get(Pipeline, p.id), "Ganho")
    r = client.post(f"/pre-vendas/config/funis/{p.id}/etapas/{won.id}/excluir")
    assert r.status_code == 302 and count(Stage, Stage.id == won.id) == 1


def test_dedup_settings_screen(client, login_as, sales):
    login_as(sales["admin"])
    r = client.post("/pre-vendas/config/bloqueio", data={"dedup_same_development_only": "1",
                                                         "dedup_closed_days": "400"})
    assert r.status_code == 422 and "Informe um número entre 0 e 365." in r.get_data(as_text=True)
    assert not get_settings().dedup_same_development_only
    r = client.post("/pre-vendas/config/bloqueio", data={"dedup_same_development_only": "1",
                                                         "dedup_closed_days": "7"})
    assert r.status_code == 302
    db.session.expire_all()
    assert (get_settings().dedup_same_development_only, get_settings().dedup_closed_days) == (True, 7)


def test_index_counts_and_queue_pages_for_admin(client, login_as, sales):
    login_as(sales["admin"])
    intake(entry())
    db.session.commit()
    html = client.get("/pre-vendas/config/").get_data(as_text=True)
    assert "Filas de atendimento" in html and "7 ativo(s) de 7" in html
    html = client.get("/pre-vendas/config/filas").get_data(as_text=True)
    assert "Roleta" in html and "Todos os empreendimentos" in html
    r = client.post(f"/pre-vendas/config/filas/{sales['sdr_queue'].id}/mover", data={"direction": "up"}, headers=HX)
    assert r.status_code == 200 and 'id="filas"' in r.get_data(as_text=True)
    r = client.post(f"/pre-vendas/config/filas/{sales['queue'].id}/editar",
                    data={"name": "Roleta", "kind": "broker", "mode": "offline", "offer_minutes": "0",
                          "development_ids": ["12345"]})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Escolha empreendimentos da lista." in html
    assert "Informe um número entre 1 e 60." in html
    assert client.get(f"/pre-vendas/config/filas/{sales['queue'].id}/editar").status_code == 200
    assert client.get("/pre-vendas/config/filas/nova").status_code == 200
    assert count(Lead) == 1
