"""A rep's day: agenda, "atender pendentes", and the manager's active-offer campaigns.

Lists start from `scoped(current_user, ...)`; a record outside scope is 404. Every change goes through the
services (schedules, pending, campaigns); a ServiceError rolls back and is answered next to the fields (422).
htmx requests get the partial of the same template; every action also works as a plain form post.
"""
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.models import User
from portal.accounts.scope import get_scoped_or_404, scoped
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales.models import CONTACT_KINDS, Campaign, Channel, Lead, LossReason, Media, Schedule
from portal.presales.services import campaigns, pending
from portal.presales.services.schedules import SCHEDULE_KINDS, add_schedule, complete_schedule
from portal.presales.work_forms import CampaignForm, ContactForm, ScheduleForm, local_input, parse_local
from portal.realestate.models import Development
from portal.web.filters import datetime_br, local_tz
from portal.web.forms import apply_errors
from portal.web.urls import safe_next

bp = Blueprint("presales_work", __name__, url_prefix="/pre-vendas")
SALES = ("manager", "sdr", "broker")
LEADERS = ("admin", "manager")
WEEKDAYS = ("Segunda", "Terça", "Quarta", "Quinta", "Sexta", "Sábado", "Domingo")
SKIPPED = "pending_skipped"  # session: leads passed over with "Pular" in this round of "atender pendentes"
RECENT_NARRATIVES = 5
COUNT_LABELS = {"overdue": "Agendamentos atrasados", "new": "Leads novos sem primeiro contato",
                "stale": f"Sem contato há mais de {pending.STALE_DAYS} dias", "waiting": "Aguardando na sua fila"}


@bp.context_processor
def _labels():
    return {"schedule_kinds": SCHEDULE_KINDS, "weekday": lambda d: WEEKDAYS[d.weekday()]}


def _today() -> date:
    return utcnow().astimezone(local_tz()).date()


def _utc_start(day: date) -> datetime:
    """Midnight of a São Paulo day, in UTC."""
    return datetime.combine(day, time.min, local_tz()).astimezone(timezone.utc)


def _int(value) -> int | None:
    return normalize.row_id(value)


# --- agenda -------------------------------------------------------------------------------------------------------

def _reps() -> list[User]:
    """People whose agenda a leader may filter by (their scope)."""
    if current_user.role not in LEADERS:
        return []
    stmt = scoped(current_user, User).where(User.role.in_(SALES), User.active.is_(True)).order_by(User.name)
    return db.session.execute(stmt).scalars().all()


def _schedules(rep_id: int | None):
    stmt = scoped(current_user, Schedule).options(joinedload(Schedule.lead), joinedload(Schedule.owner))
    return stmt.where(Schedule.owner_id == rep_id) if rep_id else stmt


@bp.route("/agenda")
@roles_required(*SALES)
def agenda():
    view = "week" if request.args.get("view") == "week" else "day"
    today = _today()
    try:
        day = date.fromisoformat(request.args.get("date") or "")
    except ValueError:
        day = today
    if not 1970 <= day.year <= 2999:
        day = today
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    days = [first + timedelta(days=i) for i in range(7 if view == "week" else 1)]
    end = days[-1] + timedelta(days=1)
    reps = _reps()
    rep_id = _int(request.args.get("rep"))
    rep_id = rep_id if rep_id in {u.id for u in reps} else None
    items = db.session.execute(_schedules(rep_id).where(Schedule.scheduled_at >= _utc_start(first),
                                                        Schedule.scheduled_at < _utc_start(end))
                               .order_by(Schedule.scheduled_at)).scalars().all()
    by_day = {d: [] for d in days}
    for item in items:
        by_day[item.scheduled_at.astimezone(local_tz()).date()].append(item)
    # Still open from before the period: shown on top while the period holds today.
    late = []
    if first <= today < end:
        late = db.session.execute(_schedules(rep_id).where(Schedule.done_at.is_(None),
                                                           Schedule.scheduled_at < _utc_start(first))
                                  .order_by(Schedule.scheduled_at)).scalars().all()
    step = timedelta(days=7 if view == "week" else 1)
    keep = {"view": view, "rep": rep_id}
    return render_template(
        "presales/work/agenda.html", view=view, day=day, days=days, by_day=by_day, late=late, today=today,
        reps=reps, rep_id=rep_id, keep=keep, now=utcnow(), count=len(items),
        prev_url=url_for(".agenda", date=(first - step).isoformat(), **keep),
        next_url=url_for(".agenda", date=(first + step).isoformat(), **keep),
        today_url=url_for(".agenda", date=today.isoformat(), **keep),
        here=request.full_path.rstrip("?"))


@bp.route("/agenda/<int:schedule_id>/concluir", methods=["POST"])
@roles_required(*SALES)
def schedule_complete(schedule_id):
    item = get_scoped_or_404(current_user, Schedule, schedule_id)
    complete_schedule(item, current_user, (request.form.get("note") or "").strip())
    db.session.commit()
    if request.htmx:
        return render_template("presales/work/_schedule_item.html", item=item, now=utcnow(),
                               show_owner=current_user.role in LEADERS, show_date=request.form.get("show_date") == "1",
                               here=safe_next(url_for(".agenda")))
    flash(f"Agendamento de {item.lead.number} concluído.", "success")
    return redirect(safe_next(url_for(".agenda")))


@bp.route("/leads/<int:lead_id>/agendar", methods=["GET", "POST"])
@roles_required(*SALES)
def schedule_new(lead_id):
    lead = get_scoped_or_404(current_user, Lead, lead_id)
    back = safe_next(url_for("presales.lead", lead_id=lead.id))
    form = ScheduleForm() if request.method == "POST" else ScheduleForm(formdata=None, schedule_kind="call")
    status = 200
    if request.method == "POST":
        try:
            item = add_schedule(lead, current_user, form.schedule_kind.data, parse_local(form.scheduled_at.data),
                                (form.note.data or "").strip())
        except ServiceError as exc:
            db.session.rollback()
            lead = db.session.get(Lead, lead_id)
            apply_errors(form, exc)
            status = 422
        else:
            db.session.commit()
            flash(f"Agendado em {lead.number}: {SCHEDULE_KINDS[item.kind]} em {datetime_br(item.scheduled_at)}.",
                  "success")
            local_day = item.scheduled_at.astimezone(local_tz()).date().isoformat()
            target = safe_next(url_for(".agenda", date=local_day))
            return ("", 200, {"HX-Redirect": target}) if request.htmx else redirect(target)
    template = "presales/work/_schedule_form.html" if request.htmx else "presales/work/schedule_form.html"
    return render_template(template, lead=lead, form=form, back=back,
                           min_value=local_input(utcnow() + timedelta(minutes=1))), status


# --- atender pendentes ---------------------------------------------------------------------------------------------

def _skipped() -> set[int]:
    return set(session.get(SKIPPED, []))


def _go_next(lead: Lead | None, reason: str | None):
    if lead is None:
        return redirect(url_for(".pending_home", fim=1))
    return redirect(url_for(".pending_card", lead_id=lead.id, motivo=reason))


def _next_not_skipped(lead, reason, handled: Lead):
    """`done_and_next` skips only the lead just handled; leads passed over in this round stay skipped."""
    skipped = _skipped()
    if lead is not None and lead.id in skipped:
        pending.release(lead, current_user)
        lead, reason = pending.next_lead(current_user, skip=skipped | {handled.id})
    return lead, reason


@bp.route("/pendentes")
@roles_required(*SALES)
def pending_home():
    queue = pending.candidates(current_user)
    counts = {reason: 0 for reason in pending.REASONS}
    for _, reason in queue:
        counts[reason] += 1
    now = utcnow()
    holding = db.session.execute(scoped(current_user, Lead).where(
        Lead.working_by_id == current_user.id, Lead.working_until > now).order_by(Lead.working_until.desc())
    ).scalars().first()
    return render_template("presales/work/pending.html", counts=counts, count_labels=COUNT_LABELS,
                           total=len(queue), holding=holding, finished=bool(request.args.get("fim")),
                           skipped=len(_skipped()))


@bp.route("/pendentes/proximo", methods=["POST"])
@roles_required(*SALES)
def pending_next():
    """A new round: nothing skipped, the first lead to handle now."""
    session.pop(SKIPPED, None)
    lead, reason = pending.next_lead(current_user)
    db.session.commit()
    return _go_next(lead, reason)


def _card(lead: Lead, reason: str | None, form: ContactForm | None = None, status: int = 200):
    now = utcnow()
    schedules = db.session.execute(select(Schedule).where(Schedule.lead_id == lead.id, Schedule.done_at.is_(None))
                                   .order_by(Schedule.scheduled_at)).scalars().all()
    campaign = db.session.get(Campaign, lead.campaign_id) if lead.campaign_id else None
    held_by_other = (lead.working_by_id not in (None, current_user.id) and lead.working_until is not None
                     and lead.working_until > now)
    digits = "".join(ch for ch in (lead.phone or "") if ch.isdigit())
    return render_template(
        "presales/work/card.html", lead=lead, reason=reason, reason_label=pending.REASONS.get(reason or ""),
        form=form or ContactForm(formdata=None), schedules=schedules, campaign=campaign, now=now,
        narratives=lead.narratives[:RECENT_NARRATIVES], held_by_other=held_by_other,
        whatsapp=f"https://wa.me/{digits}" if digits else None,
        mine=lead.working_by_id == current_user.id and lead.working_until and lead.working_until > now), status


@bp.route("/pendentes/leads/<int:lead_id>")
@roles_required(*SALES)
def pending_card(lead_id):
    reason = request.args.get("motivo")
    return _card(get_scoped_or_404(current_user, Lead, lead_id), reason if reason in pending.REASONS else None)


@bp.route("/pendentes/leads/<int:lead_id>/registrar", methods=["POST"])
@roles_required(*SALES)
def pending_done(lead_id):
    lead = get_scoped_or_404(current_user, Lead, lead_id)
    form = ContactForm()
    try:
        if form.kind.data not in CONTACT_KINDS:  # a note is not a contact: it would not clear the lead
            raise ServiceError({"kind": "Escolha como foi o contato."})
        nxt, reason = pending.done_and_next(lead, current_user, form.kind.data, form.body.data or "")
        nxt, reason = _next_not_skipped(nxt, reason, lead)
    except ServiceError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        motivo = request.form.get("motivo")
        return _card(db.session.get(Lead, lead_id), motivo if motivo in pending.REASONS else None, form, 422)
    db.session.commit()
    flash(f"Contato registrado em {lead.number}.", "success")
    return _go_next(nxt, reason)


@bp.route("/pendentes/leads/<int:lead_id>/pular", methods=["POST"])
@roles_required(*SALES)
def pending_skip(lead_id):
    lead = get_scoped_or_404(current_user, Lead, lead_id)
    pending.release(lead, current_user)
    skipped = _skipped() | {lead.id}
    session[SKIPPED] = sorted(skipped)[-200:]
    db.session.flush()
    nxt, reason = pending.next_lead(current_user, skip=skipped)
    db.session.commit()
    return _go_next(nxt, reason)


@bp.route("/pendentes/leads/<int:lead_id>/parar", methods=["POST"])
@roles_required(*SALES)
def pending_stop(lead_id):
    lead = get_scoped_or_404(current_user, Lead, lead_id)
    pending.release(lead, current_user)
    db.session.commit()
    session.pop(SKIPPED, None)
    flash(f"{lead.number} liberado. Volte quando quiser.", "info")
    return redirect(url_for(".pending_home"))


# --- campaigns (oferta ativa) --------------------------------------------------------------------------------------

def _progress(campaign: Campaign) -> dict:
    if campaign.launched_at is None:
        return {"total": {"assigned": 0, "contacted": 0, "reengaged": 0, "converted": 0}, "skipped": 0, "reps": []}
    return campaigns.progress(campaign)


def describe_filters(filters: dict) -> list[tuple[str, str]]:
    """The segment in words, for the campaign page."""
    names = {"loss_reason_id": ("Motivo da perda", LossReason), "development_id": ("Empreendimento", Development),
             "channel_id": ("Canal", Channel), "media_id": ("Mídia", Media)}
    out = [("Situação", campaigns.STATUS_FILTERS.get(filters.get("status") or "lost", "—"))]
    for key, (label, model) in names.items():
        if filters.get(key):
            row = db.session.get(model, int(filters[key]))
            out.append((label, row.name if row else f"#{filters[key]}"))
    if filters.get("no_contact_days") not in (None, ""):
        out.append(("Sem contato há", f"{filters['no_contact_days']} dias ou mais"))
    for key, label in (("created_from", "Criados de"), ("created_to", "Criados até")):
        if filters.get(key):
            out.append((label, date.fromisoformat(filters[key]).strftime("%d/%m/%Y")))
    return out


@bp.route("/campanhas")
@roles_required("manager")
def campaigns_list():
    stmt = (scoped(current_user, Campaign).options(joinedload(Campaign.queue), joinedload(Campaign.created_by))
            .order_by(Campaign.id.desc()))
    page = db.paginate(stmt, page=_int(request.args.get("page")) or 1, per_page=20, error_out=False)
    rows = [(c, _progress(c)) for c in page.items]
    return render_template("presales/work/campaigns.html", page=page, rows=rows)


def _campaign_form(form: CampaignForm, status: int = 200, counts: dict | None = None):
    template = "presales/work/_campaign_form.html" if request.htmx else "presales/work/campaign_new.html"
    return render_template(template, form=form, counts=counts), status


def _segment_errors(form: CampaignForm, errors: dict) -> None:
    """Service keys that are not form fields: the period goes to the dates, the rest on top of the form."""
    if "period" in errors:
        errors = dict(errors)
        errors.setdefault("created_from", errors.pop("period"))
    apply_errors(form, ServiceError(errors))


@bp.route("/campanhas/nova", methods=["GET", "POST"])
@roles_required("manager")
def campaign_new():
    if request.method == "GET":
        form = CampaignForm(formdata=None, status="lost").fill_choices(current_user)
        if len(form.queue_id.choices) == 2:  # a single broker queue: already chosen
            form.queue_id.data = form.queue_id.choices[1][0]
        return _campaign_form(form)
    form = CampaignForm().fill_choices(current_user)
    filters, errors = form.segment()
    if errors:
        _segment_errors(form, errors)
        return _campaign_form(form, 422)
    try:
        campaign = campaigns.launch(current_user, form.name.data or "", filters, form.queue(), form.script.data or "")
    except ServiceError as exc:
        db.session.rollback()
        _segment_errors(form, exc.errors)
        return _campaign_form(form, 422)
    db.session.commit()
    flash(f"Campanha “{campaign.name}” lançada.", "success")
    return redirect(url_for(".campaign", campaign_id=campaign.id))


@bp.route("/campanhas/previa", methods=["POST"])
@roles_required("manager")
def campaign_preview():
    """How many leads the segment holds; writes nothing."""
    form = CampaignForm().fill_choices(current_user)
    filters, errors = form.segment()
    counts = None
    if not errors:
        try:
            counts = campaigns.preview(current_user, filters)
        except ServiceError as exc:
            errors = exc.errors
    db.session.rollback()
    if errors:
        _segment_errors(form, errors)
    return _campaign_form(form, 422 if errors else 200, counts)


@bp.route("/campanhas/<int:campaign_id>")
@roles_required("manager")
def campaign(campaign_id):
    item = get_scoped_or_404(current_user, Campaign, campaign_id)
    return render_template("presales/work/campaign.html", campaign=item, progress=_progress(item),
                           filters=describe_filters(item.filters or {}))
