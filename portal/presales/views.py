"""Pre-sales screens for brokers, SDRs and managers: home, offers, the Kanban board, the list and the lead page.

Every list starts from `scoped(current_user, Lead)` (queries.py); a lead outside scope is 404. Every change
goes through the services; a ServiceError rolls the transaction back and is answered next to the fields
(422). htmx requests get the partial of the same template; every action also works as a plain form post.
"""
import csv
import io
from datetime import datetime, timezone

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from portal.accounts.audit import audit
from portal.accounts.decorators import roles_required
from portal.accounts.models import User
from portal.accounts.scope import can_see, get_scoped_or_404
from portal.accounts.services import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales import queries
from portal.presales.forms import LeadForm, LostForm, NarrativeForm, TransferForm
from portal.presales.models import Lead, LossReason, Media, Stage
from portal.presales.services import distribution, leads
from portal.presales.services.config import channel_by_slug
from portal.presales.services.intake import handover, intake
from portal.realestate.models import Development
from portal.web.filters import local_tz
from portal.web.forms import apply_errors

bp = Blueprint("presales", __name__, url_prefix="/pre-vendas")
SALES = ("manager", "sdr", "broker")
LEADERS = ("admin", "manager")
VALUE_FIELDS = set(leads.REQUIRABLE)
SCHEDULE_FIELDS = ("scheduled_at", "schedule_kind")  # stages that ask for an agendamento on entry


# --- helpers ----------------------------------------------------------------------------------------------------

@bp.app_template_filter("age")
def age(value: datetime | None) -> str:
    """Short age for cards: 'agora', '12 min', '5 h', '3 d'."""
    if value is None:
        return "—"
    seconds = max(0, int((utcnow() - value).total_seconds()))
    if seconds < 60:
        return "agora"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@bp.app_template_filter("whatsapp_url")
def whatsapp_url(phone: str | None) -> str:
    return "https://wa.me/" + "".join(ch for ch in (phone or "") if ch.isdigit())


@bp.app_template_filter("countdown")
def countdown(expires_at: datetime) -> str:
    seconds = max(0, int((expires_at - utcnow()).total_seconds()))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _safe_next(default: str) -> str:
    target = request.values.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


def _lead(lead_id: int) -> Lead:
    return get_scoped_or_404(current_user, Lead, lead_id)


def _first_error(exc: ServiceError) -> str:
    return next(iter(exc.errors.values()), "Não foi possível concluir.")


def _presence_context() -> dict:
    return {"presence": queries.presence(current_user)}


@bp.context_processor
def _labels():
    return {"sort_labels": queries.SORT_LABELS}


# Tabs of the pre-sales area (other pre-sales blueprints include the same subnav): endpoint, label, roles.
TABS = [("presales.home", "Resumo", None), ("presales_work.pending_home", "Pendentes", None),
        ("presales.offers", "Ofertas", None), ("presales_work.agenda", "Agenda", None),
        ("presales.board", "Funil", None), ("presales.leads", "Leads", None), ("presales.lead_new", "Novo lead", None),
        ("presales_work.campaigns_list", "Campanhas", LEADERS), ("presales_dashboard.index", "Painel", LEADERS)]
LEAD_ENDPOINTS = {"presales.lead", "presales.lead_move", "presales.lead_narrative", "presales.lead_qualify",
                  "presales.lead_lost", "presales.lead_transfer"}


@bp.app_context_processor
def _presales_shared():
    """For the subnav wherever it is included: the tabs this app has, and the caller's presence (lazily)."""
    def tabs():
        views = current_app.view_functions
        active = "presales.leads" if request.endpoint in LEAD_ENDPOINTS else request.endpoint
        return [(url_for(e), label, e == active) for e, label, roles in TABS
                if e in views and (roles is None or current_user.role in roles)]

    def endpoint_exists(name):
        return name in current_app.view_functions
    return {"presales_tabs": tabs, "presales_presence": lambda: queries.presence(current_user),
            "endpoint_exists": endpoint_exists}


# --- field specs: the required-field form and the qualification form ---------------------------------------------

def field_spec(name: str, lead: Lead, values=None, errors=None) -> dict:
    """How to render one lead value (qualification select, phone, custom field, loss reason...)."""
    values, errors = values or {}, errors or {}
    spec = {"name": name, "id": "f-" + name.replace(":", "-").replace("_", "-"), "type": "text", "options": None,
            "error": errors.get(name)}
    if name.startswith("custom:"):
        custom = next((f for f in leads.custom_fields() if f.key == name[7:]), None)
        spec["label"] = custom.label if custom else name[7:]
        current = (lead.custom or {}).get(name[7:], "")
        if custom is not None and custom.kind == "choice":
            spec["options"] = [("", "—")] + [(c, c) for c in custom.choices or []]
        elif custom is not None and custom.kind in ("number", "date"):
            spec["type"] = custom.kind
    elif name in leads.QUALIFICATION:
        spec["label"] = leads.REQUIRABLE[name]
        spec["options"] = list(leads.QUALIFICATION[name].items())
        current = getattr(lead, name) or ""
    elif name == "development_id":
        spec["label"] = leads.REQUIRABLE[name]
        rows = db.session.execute(select(Development).order_by(Development.name)).scalars()
        spec["options"] = [("", "—")] + [(str(d.id), d.name) for d in rows]
        current = str(lead.development_id or "")
    elif name == "media_id":
        spec["label"] = leads.REQUIRABLE[name]
        rows = db.session.execute(select(Media).where(Media.active.is_(True)).order_by(Media.name)).scalars()
        spec["options"] = [("", "—")] + [(str(m.id), m.name) for m in rows]
        current = str(lead.media_id or "")
    elif name == "scheduled_at":
        spec["label"], spec["type"], current = "Data e hora do agendamento", "datetime-local", ""
    elif name == "schedule_kind":
        spec["label"], current = "Tipo de agendamento", "visit"
        spec["options"] = list(schedule_kinds().items())
    elif name == "loss_reason_id":
        spec["label"] = "Motivo da perda"
        spec["options"] = [("", "— escolha —")] + loss_reason_choices()
        current = ""
    else:
        spec["label"] = leads.REQUIRABLE.get(name, name)
        spec["type"] = {"phone": "tel", "email": "email"}.get(name, "text")
        current = getattr(lead, name, "") or ""
    spec["value"] = values.get(name, current)
    return spec


def loss_reason_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(LossReason).where(LossReason.active.is_(True)).order_by(LossReason.name))
    return [(str(r.id), r.name) for r in rows.scalars()]


def schedule_kinds() -> dict:
    try:
        from portal.presales.services.schedules import SCHEDULE_KINDS
    except ImportError:  # pragma: no cover - schedules arrive with the SLA/agenda issue
        return {"visit": "Visita"}
    return SCHEDULE_KINDS


def parse_local(value: str | None) -> datetime | None:
    """A datetime-local input (São Paulo time) → aware UTC, or None."""
    try:
        naive = datetime.strptime((value or "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return naive.replace(tzinfo=local_tz()).astimezone(timezone.utc)


def posted_values() -> dict:
    """Lead values posted by the stage form or the qualification form (only the fields a stage may require)."""
    custom = {f"custom:{f.key}" for f in leads.custom_fields()}
    values = {k: v for k, v in request.form.items() if k in VALUE_FIELDS or k in custom}
    if "scheduled_at" in request.form:
        values["scheduled_at"] = parse_local(request.form["scheduled_at"])
        values["schedule_kind"] = request.form.get("schedule_kind") or "visit"
    return values


# --- home, presence, offers ---------------------------------------------------------------------------------------

@bp.route("/")
@roles_required(*SALES)
def home():
    pipeline = queries.pipeline_or_default(None)
    team = queries.team_counts(current_user, pipeline) if pipeline and current_user.role in LEADERS else None
    return render_template("presales/home.html", counts=queries.my_counts(current_user), team=team,
                           pipeline=pipeline, **_presence_context())


@bp.route("/presenca", methods=["POST"])
@roles_required(*SALES)
def presence():
    checked_in = request.form.get("checked_in") == "1"
    offered = distribution.set_presence(current_user, checked_in)
    db.session.commit()
    if checked_in:
        flash("Você está online: novos leads serão oferecidos a você."
              + (f" {offered} lead(s) aguardando foram oferecidos." if offered else ""), "success")
    else:
        flash("Você está offline: não receberá ofertas.", "info")
    return redirect(_safe_next(url_for(".home")))


@bp.route("/presenca/ping", methods=["POST"])
@roles_required(*SALES)
def heartbeat():
    distribution.set_presence(current_user, None)
    db.session.commit()
    return "", 204


@bp.route("/ofertas")
@roles_required(*SALES)
def offers():
    template = "presales/partials/offers.html" if request.htmx else "presales/offers.html"
    return render_template(template, offers=queries.pending_offers(current_user), **_presence_context())


def _answer_offer(offer_id: int, accept: bool):
    try:
        lead = (distribution.accept_offer if accept else distribution.decline_offer)(offer_id, current_user)
    except LookupError:
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        message, status = _first_error(exc), 409
    else:
        db.session.commit()
        if accept:
            flash(f"Lead {lead.number} é seu. Faça o primeiro contato!", "success")
            target = url_for(".lead", lead_id=lead.id)
            if request.htmx:
                return "", 200, {"HX-Redirect": target}
            return redirect(target)
        message, status = f"Oferta de {lead.number} recusada.", 200
    if request.htmx:
        return render_template("presales/partials/offers.html", offers=queries.pending_offers(current_user),
                               message=message, failed=status != 200), status
    flash(message, "error" if status != 200 else "info")
    return redirect(url_for(".offers"))


@bp.route("/ofertas/<int:offer_id>/aceitar", methods=["POST"])
@roles_required(*SALES)
def offer_accept(offer_id):
    return _answer_offer(offer_id, accept=True)


@bp.route("/ofertas/<int:offer_id>/recusar", methods=["POST"])
@roles_required(*SALES)
def offer_decline(offer_id):
    return _answer_offer(offer_id, accept=False)


# --- board --------------------------------------------------------------------------------------------------------

@bp.route("/funil")
@roles_required(*SALES)
def board():
    filters = queries.LeadFilters.from_args(request.args)
    pipeline = queries.pipeline_or_default(queries._int(request.args.get("pipeline")))
    columns = queries.board(current_user, pipeline, filters) if pipeline else []
    return render_template("presales/board.html", pipeline=pipeline, pipelines=queries.pipelines(), columns=columns,
                           filters=filters, options=queries.filter_options(current_user),
                           here=request.full_path.rstrip("?"), **_presence_context())


@bp.route("/funil/etapas/<int:stage_id>")
@roles_required(*SALES)
def board_column(stage_id):
    """The next cards of one column ("Carregar mais"); without htmx, the list filtered by that stage."""
    stage = db.session.get(Stage, stage_id) or abort(404)
    filters = queries.LeadFilters.from_args(request.args)
    if not request.htmx:
        return redirect(url_for(".leads", **{**filters.args(), "stage": stage.id}))
    offset = max(0, queries._int(request.args.get("offset")) or 0)
    cards = queries.column_leads(current_user, filters, stage, offset=offset, limit=queries.COLUMN_SIZE + 1)
    more = len(cards) > queries.COLUMN_SIZE
    return render_template("presales/partials/column_cards.html", leads=cards[:queries.COLUMN_SIZE], stage=stage,
                           stages=stage.pipeline.stages, filters=filters, more=more,
                           next_offset=offset + queries.COLUMN_SIZE, here=_safe_next(url_for(".board")))


@bp.route("/leads/<int:lead_id>/mover", methods=["POST"])
@roles_required(*SALES)
def lead_move(lead_id):
    """Move to a stage; missing required fields answer 422 with a small form for them (and nothing changes)."""
    lead = _lead(lead_id)
    stage = db.session.get(Stage, queries._int(request.form.get("stage_id")) or 0)
    back = _safe_next(url_for(".lead", lead_id=lead.id))
    if stage is None or stage.pipeline_id != lead.pipeline_id:
        return _move_form(lead, None, {"stage_id": "Escolha uma etapa deste funil."}, back)
    try:
        leads.move_to_stage(lead, stage, current_user, values=posted_values() or None,
                            loss_reason_id=queries._int(request.form.get("loss_reason_id")))
    except ServiceError as exc:
        db.session.rollback()
        return _move_form(db.session.get(Lead, lead_id), stage, exc.errors, back)
    db.session.commit()
    if request.htmx:
        return render_template("presales/partials/card.html", lead=lead, stages=lead.pipeline.stages, here=back)
    flash(f"{lead.number} movido para “{stage.name}”.", "success")
    return redirect(back)


def _move_form(lead: Lead, stage: Stage | None, errors: dict, back: str):
    names = [k for k in errors if k in VALUE_FIELDS or k in SCHEDULE_FIELDS or k.startswith("custom:")
             or k == "loss_reason_id"]
    if "scheduled_at" in names and "schedule_kind" not in names:
        names.insert(names.index("scheduled_at"), "schedule_kind")
    if not any(name in request.form for name in names):
        errors = {k: v for k, v in errors.items() if k not in names}  # first time: ask, do not scold
    specs = [field_spec(name, lead, request.form, errors) for name in names]
    general = [msg for k, msg in errors.items() if k not in names]
    context = {"lead": lead, "stage": stage, "specs": specs, "general": general, "back": back}
    template = "presales/partials/move_form.html" if request.htmx else "presales/move.html"
    return render_template(template, **context), 422


# --- list and export ----------------------------------------------------------------------------------------------

def _sort_args():
    sort = request.args.get("sort") if request.args.get("sort") in queries.SORT_LABELS else "created"
    direction = "asc" if request.args.get("dir") == "asc" else "desc"
    return sort, direction


@bp.route("/leads", endpoint="leads")
@roles_required(*SALES)
def leads_list():
    filters = queries.LeadFilters.from_args(request.args)
    sort, direction = _sort_args()
    page = queries.list_page(current_user, filters, sort, direction, queries._int(request.args.get("page")) or 1)
    stage = db.session.get(Stage, filters.stage) if filters.stage else None
    return render_template("presales/leads.html", page=page, filters=filters, sort=sort, direction=direction,
                           stage=stage, options=queries.filter_options(current_user), **_presence_context())


@bp.route("/leads/exportar.csv")
@roles_required(*SALES)
def leads_export():
    filters = queries.LeadFilters.from_args(request.args)
    sort, direction = _sort_args()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(queries.EXPORT_COLUMNS)
    count = 0
    for row in queries.export_rows(current_user, filters, sort, direction):
        writer.writerow(row)
        count += 1
    audit("lead.exported", object_type="Lead", count=count, filters=filters.args())
    db.session.commit()
    name = f"leads-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- manual creation ----------------------------------------------------------------------------------------------

@bp.route("/leads/novo", methods=["GET", "POST"])
@roles_required(*SALES)
def lead_new():
    form = LeadForm()
    options = queries.filter_options(current_user)
    form.development.choices = [("", "—")] + [(d.slug, d.name) for d in options["developments"]]
    form.media.choices = [("", "—")] + [(m.slug, m.name) for m in options["media"] if m.active]
    is_admin = current_user.role == "admin"
    if not is_admin:
        del form.force
        del form.force_reason
    if form.validate_on_submit():
        data = {k: form.data[k] for k in ("name", "email", "phone", "development", "media", "message")}
        channel = channel_by_slug("manual")
        data["channel"] = "manual"
        force = (form.force_reason.data or "") if is_admin and form.force.data else None
        try:
            result = intake(data, channel=channel, actor=current_user, force_reason=force)
        except ServiceError as exc:
            db.session.rollback()
            if "contact" in exc.errors:
                exc.errors.setdefault("phone", exc.errors.pop("contact"))
            apply_errors(form, exc)
        else:
            db.session.commit()
            lead = result.lead
            visible = can_see(current_user, lead)
            number = (Markup('<a href="{}">{}</a>').format(url_for(".lead", lead_id=lead.id), lead.number)
                      if visible else escape(lead.number))
            if result.created:
                flash(Markup("Lead {} criado.").format(number), "success")
            else:
                flash(Markup("Este contato já é o lead {} ({}). A entrada foi registrada nele como reentrada; "
                             "o responsável foi avisado.").format(number, lead.name), "warning")
            return redirect(url_for(".lead", lead_id=lead.id) if visible else url_for(".lead_new"))
    status = 422 if form.is_submitted() else 200
    return render_template("presales/lead_new.html", form=form, is_admin=is_admin), status


# --- lead page ----------------------------------------------------------------------------------------------------

def _qualification_specs(lead: Lead, values=None, errors=None) -> list[dict]:
    names = list(leads.QUALIFICATION) + [f"custom:{f.key}" for f in leads.custom_fields()]
    return [field_spec(name, lead, values, errors) for name in names]


def _transfer_form(lead: Lead) -> TransferForm | None:
    if current_user.role not in LEADERS:
        return None
    form = TransferForm()
    form.owner_id.choices = [("", "— escolha —")] + [
        (str(u.id), f"{u.name} ({u.role_label})") for u in queries.people(current_user, queries.SALES_ROLES)
        if u.id != lead.owner_id]
    return form


def _lost_form() -> LostForm:
    form = LostForm()
    form.loss_reason_id.choices = [("", "— escolha —")] + loss_reason_choices()
    return form


def _lead_page(lead: Lead, status: int = 200, **override):
    context = {
        "lead": lead, "stages": lead.pipeline.stages, "narrative_form": NarrativeForm(formdata=None),
        "lost_form": _lost_form(), "transfer_form": _transfer_form(lead), "qualification": _qualification_specs(lead),
        "qualification_note": "", "entries": queries.lead_timeline(lead), "here": url_for(".lead", lead_id=lead.id),
        "can_handover": lead.status == "open" and lead.stage.is_sdr, **_presence_context(),
    }
    context.update(override)
    return render_template("presales/lead.html", **context), status


@bp.route("/leads/<int:lead_id>")
@roles_required(*SALES)
def lead(lead_id):
    return _lead_page(_lead(lead_id))


@bp.route("/leads/<int:lead_id>/narrativas", methods=["POST"])
@roles_required(*SALES)
def lead_narrative(lead_id):
    lead = _lead(lead_id)
    form = NarrativeForm()
    status = 200
    try:
        leads.log_contact(lead, form.kind.data, form.body.data or "", current_user)
    except ServiceError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        status = 422
    else:
        db.session.commit()
        form = NarrativeForm(formdata=None, kind=form.kind.data)
        if not request.htmx:
            flash("Registro adicionado.", "success")
            return redirect(url_for(".lead", lead_id=lead.id, _anchor="historico"))
    if request.htmx:
        return render_template("presales/partials/narratives.html", lead=lead, narrative_form=form,
                               entries=queries.lead_timeline(lead)), status
    return _lead_page(lead, status, narrative_form=form)


@bp.route("/leads/<int:lead_id>/qualificar", methods=["POST"])
@roles_required(*SALES)
def lead_qualify(lead_id):
    lead = _lead(lead_id)
    values = posted_values()
    note = (request.form.get("note") or "").strip()
    try:
        leads.qualify(lead, current_user, values, note)
    except ServiceError as exc:
        db.session.rollback()
        return _lead_page(lead, 422, qualification=_qualification_specs(lead, values, exc.errors),
                          qualification_note=note)
    db.session.commit()
    flash(f"Qualificação salva (nota {lead.qualification_score}).", "success")
    return redirect(url_for(".lead", lead_id=lead.id))


@bp.route("/leads/<int:lead_id>/perdido", methods=["POST"])
@roles_required(*SALES)
def lead_lost(lead_id):
    lead = _lead(lead_id)
    form = _lost_form()
    try:
        leads.mark_lost(lead, current_user, queries._int(form.loss_reason_id.data), (form.note.data or "").strip())
    except ServiceError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _lead_page(lead, 422, lost_form=form, lost_open=True)
    db.session.commit()
    flash(f"{lead.number} marcado como perdido.", "info")
    return redirect(url_for(".lead", lead_id=lead.id))


@bp.route("/leads/<int:lead_id>/ganho", methods=["POST"])
@roles_required(*SALES)
def lead_won(lead_id):
    lead = _lead(lead_id)
    try:
        leads.mark_won(lead, current_user, (request.form.get("note") or "").strip())
    except ServiceError as exc:
        db.session.rollback()
        flash(_first_error(exc), "error")
    else:
        db.session.commit()
        flash(f"{lead.number} marcado como ganho. Parabéns!", "success")
    return redirect(url_for(".lead", lead_id=lead.id))


@bp.route("/leads/<int:lead_id>/crm/repetir", methods=["POST"])
@roles_required(*SALES)
def lead_handoff_retry(lead_id):
    from portal.presales.services.handoff import retry_handoff
    lead = _lead(lead_id)
    try:
        retry_handoff(lead)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".lead", lead_id=lead.id)), 409
    db.session.commit()
    flash("Envio ao CRM de vendas recolocado na fila.", "success")
    return redirect(url_for(".lead", lead_id=lead.id))


@bp.route("/leads/<int:lead_id>/enviar-corretores", methods=["POST"])
@roles_required(*SALES)
def lead_handover(lead_id):
    lead = _lead(lead_id)
    try:
        handover(lead, current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash(_first_error(exc), "error")
        return redirect(url_for(".lead", lead_id=lead_id))
    db.session.commit()
    owner = f" — responsável: {lead.owner.name}" if lead.owner else " — aguardando um corretor na fila"
    flash(f"{lead.number} enviado aos corretores{owner}.", "success")
    if can_see(current_user, lead):
        return redirect(url_for(".lead", lead_id=lead.id))
    return redirect(url_for(".board"))


@bp.route("/leads/<int:lead_id>/transferir", methods=["POST"])
@roles_required("manager")
def lead_transfer(lead_id):
    lead = _lead(lead_id)
    form = _transfer_form(lead)
    target = db.session.get(User, queries._int(form.owner_id.data) or 0)
    try:
        if target is None:
            raise ServiceError({"owner_id": "Escolha o novo responsável."})
        distribution.reassign(lead, target, current_user, (form.reason.data or "").strip())
    except ServiceError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _lead_page(lead, 422, transfer_form=form, transfer_open=True)
    db.session.commit()
    flash(f"{lead.number} transferido para {target.name}.", "success")
    if can_see(current_user, lead):
        return redirect(url_for(".lead", lead_id=lead.id))
    return redirect(url_for(".board"))
