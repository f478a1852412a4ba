"""Pre-sales configuration screens: channels, media, loss reasons, custom lead fields, pipelines and
stages, queues and their members, duplicate-blocking settings.

Who may do what:
- admin: everything;
- manager: sees every screen read-only (writes answer 403), and manages the distribution: creates,
  edits and reorders queues, and adds, removes, pauses, re-weights and reorders the members who
  are in their team subtree (members of other teams show without controls; the service refuses
  them too). Deleting a queue is the admin's call;
- everyone else: 403.

Channels, media, loss reasons and custom fields share one set of views keyed by the URL segment:
the list page has an add form; a row's name opens an inline form with htmx (a full page
without); saving answers the updated row. Queue members are edited in place: every member action
answers the members section on htmx requests and redirects on plain posts. Bad input is 422 with
the service's messages next to the fields; nothing is written (the session is rolled back).
"""
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.decorators import roles_required
from portal.accounts.models import User
from portal.accounts.scope import can_see, scoped
from portal.accounts.services import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales import admin_forms as forms
from portal.presales.models import (CUSTOM_FIELD_KINDS, Channel, CustomField, Lead, LossReason, Media, Pipeline, Queue,
                                    QueueMember, Stage)
from portal.presales.services import settings as svc
from portal.presales.services.config import get_settings
from portal.presales.services.distribution import PRESENCE_SECONDS, pick
from portal.realestate.models import Development
from portal.web.forms import apply_errors

bp = Blueprint("presales_admin", __name__, url_prefix="/pre-vendas/config")
VIEWERS = ("manager",)  # admin always passes roles_required
QUEUE_MANAGERS = ("manager",)


@dataclass(frozen=True)
class Kind:
    model: type
    form: type
    title: str
    save: Callable      # (data, obj=None)
    delete: Callable    # (obj) -> "deleted" | "deactivated"
    order: tuple
    saved: str
    deleted: str
    deactivated: str
    new_label: str
    movable: bool = False


KINDS = {
    "canais": Kind(Channel, forms.ChannelForm, "Canais de entrada", svc.save_channel, svc.delete_channel,
                   (Channel.name,), "Canal salvo.", "Canal excluído.",
                   "Canal desativado: há leads ou filas que o usam.", "Novo canal"),
    "midias": Kind(Media, forms.MediaForm, "Mídias", svc.save_media, svc.delete_media, (Media.name,), "Mídia salva.",
                   "Mídia excluída.", "Mídia desativada: há leads que a usam.", "Nova mídia"),
    "motivos-de-perda": Kind(LossReason, forms.LossReasonForm, "Motivos de perda", svc.save_loss_reason,
                             svc.delete_loss_reason, (LossReason.name,), "Motivo salvo.", "Motivo excluído.",
                             "Motivo desativado: há leads perdidos com ele.", "Novo motivo"),
    "campos": Kind(CustomField, forms.CustomFieldForm, "Campos personalizados do lead", svc.save_custom_field,
                   svc.delete_custom_field, (CustomField.position, CustomField.id), "Campo salvo.", "Campo excluído.",
                   "", "Novo campo", movable=True),
}
SEGMENTS = "any(" + ", ".join(f"'{k}'" for k in KINDS) + ")"


def _is_admin() -> bool:
    return current_user.role == "admin"


def _refused(form, exc: ServiceError):
    """Show the service's messages on the form and drop anything the request touched."""
    db.session.rollback()
    apply_errors(form, exc)


def _delta() -> int:
    return -1 if request.form.get("direction") == "up" else 1


# Index
@bp.route("/")
@roles_required(*VIEWERS)
def index():
    def count(model, *where):
        return db.session.scalar(select(func.count(model.id)).where(*where)) or 0
    counts = {
        "canais": (count(Channel, Channel.active.is_(True)), count(Channel)),
        "midias": (count(Media, Media.active.is_(True)), count(Media)),
        "motivos-de-perda": (count(LossReason, LossReason.active.is_(True)), count(LossReason)),
        "campos": (count(CustomField), count(CustomField)),
        "funis": (count(Pipeline), count(Stage)),
        "filas": (count(Queue, Queue.active.is_(True)), count(QueueMember)),
    }
    # The API clients' screen lives with the API work (presales_public); linked here when present.
    api_clients = next((e for e in ("presales_public.api_clients", "presales_admin.api_clients")
                        if e in current_app.view_functions), None)
    api_clients_url = url_for(api_clients) if _is_admin() and api_clients else None
    return render_template("presales/admin/index.html", counts=counts, settings=get_settings(), kinds=KINDS,
                           can_edit=_is_admin(), api_clients_url=api_clients_url)


# Channels, media, loss reasons, custom fields
def _kind_form(kind, obj=None, prefix="", fresh=False):
    spec = KINDS[kind]
    if fresh or request.method == "GET":
        form = spec.form(formdata=None, obj=obj, prefix=prefix)
        if kind == "campos" and obj is not None:
            form.choices.data = "\n".join(obj.choices or [])
    else:
        form = spec.form(prefix=prefix)
    return form


def _items(kind):
    spec = KINDS[kind]
    return db.session.execute(select(spec.model).order_by(*spec.order)).scalars().all()


def _list(kind, new_form=None, status=200):
    can_edit = _is_admin()
    if can_edit and new_form is None:
        new_form = _kind_form(kind, prefix="new", fresh=True)
    template = "presales/admin/_list.html" if request.htmx else "presales/admin/list.html"
    return render_template(template, kind=kind, spec=KINDS[kind], items=_items(kind), new_form=new_form,
                           can_edit=can_edit, field_kinds=CUSTOM_FIELD_KINDS), status


def _row(kind, obj, edit_form=None):
    return render_template("presales/admin/_row.html", kind=kind, spec=KINDS[kind], item=obj, edit_form=edit_form,
                           can_edit=_is_admin(), field_kinds=CUSTOM_FIELD_KINDS)


@bp.route(f"/<{SEGMENTS}:kind>")
@roles_required(*VIEWERS)
def items(kind):
    return _list(kind)


@bp.route(f"/<{SEGMENTS}:kind>/novo", methods=["POST"])
@roles_required("admin")
def item_new(kind):
    form = _kind_form(kind, prefix="new")
    if form.validate_on_submit():
        try:
            obj = KINDS[kind].save(form.data)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            if request.htmx:
                return _list(kind)
            flash(KINDS[kind].saved, "success")
            return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    return _list(kind, form, 422)


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>", methods=["GET", "POST"])
@roles_required("admin")
def item_edit(kind, item_id):
    obj = db.get_or_404(KINDS[kind].model, item_id)
    form = _kind_form(kind, obj, prefix=f"item-{obj.id}")
    if form.validate_on_submit():
        try:
            KINDS[kind].save(form.data, obj)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            if request.htmx:
                return _row(kind, obj)
            flash(KINDS[kind].saved, "success")
            return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    status = 422 if form.is_submitted() else 200
    if request.htmx:
        return _row(kind, db.session.get(KINDS[kind].model, item_id), form), status
    return render_template("presales/admin/item_form.html", kind=kind, spec=KINDS[kind], item=obj, form=form), status


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>/linha")
@roles_required(*VIEWERS)
def item_row(kind, item_id):
    obj = db.get_or_404(KINDS[kind].model, item_id)
    if not request.htmx:
        return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    return _row(kind, obj)


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>/excluir", methods=["POST"])
@roles_required("admin")
def item_delete(kind, item_id):
    spec = KINDS[kind]
    obj = db.get_or_404(spec.model, item_id)
    try:
        outcome = spec.delete(obj)
    except ServiceError as exc:
        db.session.rollback()
        message = next(iter(exc.errors.values()))
        if request.htmx:
            form = _kind_form(kind, obj, prefix=f"item-{obj.id}", fresh=True)
            form.form_errors.append(message)
            return _row(kind, obj, form), 409
        flash(message, "error")
        return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))
    db.session.commit()
    if request.htmx:
        return "" if outcome == "deleted" else _row(kind, obj)
    flash(spec.deleted if outcome == "deleted" else spec.deactivated, "success")
    return redirect(url_for(".items", kind=kind))


@bp.route(f"/<{SEGMENTS}:kind>/<int:item_id>/mover", methods=["POST"])
@roles_required("admin")
def item_move(kind, item_id):
    if not KINDS[kind].movable:
        abort(404)
    obj = db.get_or_404(KINDS[kind].model, item_id)
    svc.move_custom_field(obj, _delta())
    db.session.commit()
    if request.htmx:
        return _list(kind)
    return redirect(url_for(".items", kind=kind, _anchor=f"{kind}-{obj.id}"))


# Pipelines and stages
def _lead_counts(column):
    return dict(db.session.execute(select(column, func.count(Lead.id)).group_by(column)).all())


@bp.route("/funis")
@roles_required(*VIEWERS)
def pipelines(form=None, status=200):
    rows = db.session.execute(select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.name)).scalars().all()
    if _is_admin() and form is None:
        form = forms.PipelineForm(formdata=None)
    return render_template("presales/admin/pipelines.html", pipelines=rows, leads=_lead_counts(Lead.pipeline_id),
                           form=form, can_edit=_is_admin()), status


@bp.route("/funis/novo", methods=["POST"])
@roles_required("admin")
def pipeline_new():
    form = forms.PipelineForm()
    if form.validate_on_submit():
        try:
            pipeline = svc.save_pipeline(form.data)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash("Funil criado com as etapas iniciais; ajuste-as abaixo.", "success")
            return redirect(url_for(".pipeline", pipeline_id=pipeline.id))
    return pipelines(form, 422)


def _stages_context(pipeline):
    return {"p": pipeline, "stage_leads": _lead_counts(Lead.stage_id), "labels": svc.requirable_fields(),
            "can_edit": _is_admin()}


@bp.route("/funis/<int:pipeline_id>", methods=["GET", "POST"])
@roles_required(*VIEWERS)
def pipeline(pipeline_id):
    p = db.get_or_404(Pipeline, pipeline_id)
    if request.method == "POST" and not _is_admin():
        abort(403)
    form = forms.PipelineForm(obj=p) if request.method == "GET" else forms.PipelineForm()
    status = 200
    if form.validate_on_submit():
        try:
            svc.save_pipeline(form.data, p)
        except ServiceError as exc:
            _refused(form, exc)
            p = db.session.get(Pipeline, pipeline_id)
            status = 422
        else:
            db.session.commit()
            flash("Funil salvo.", "success")
            return redirect(url_for(".pipeline", pipeline_id=p.id))
    if request.htmx and request.method == "GET":
        return render_template("presales/admin/_stages.html", **_stages_context(p))
    return render_template("presales/admin/pipeline.html", form=form, **_stages_context(p)), status


@bp.route("/funis/<int:pipeline_id>/excluir", methods=["POST"])
@roles_required("admin")
def pipeline_delete(pipeline_id):
    p = db.get_or_404(Pipeline, pipeline_id)
    try:
        svc.delete_pipeline(p)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for(".pipeline", pipeline_id=pipeline_id))
    db.session.commit()
    flash("Funil excluído.", "success")
    return redirect(url_for(".pipelines"))


def _stage(pipeline_id, stage_id) -> Stage:
    stage = db.get_or_404(Stage, stage_id)
    if stage.pipeline_id != pipeline_id:
        abort(404)
    return stage


@bp.route("/funis/<int:pipeline_id>/etapas/nova", methods=["GET", "POST"])
@bp.route("/funis/<int:pipeline_id>/etapas/<int:stage_id>", methods=["GET", "POST"])
@roles_required("admin")
def stage_edit(pipeline_id, stage_id=None):
    p = db.get_or_404(Pipeline, pipeline_id)
    stage = _stage(pipeline_id, stage_id) if stage_id else None
    form = forms.StageForm(obj=stage) if request.method == "GET" else forms.StageForm()
    form.required_fields.choices = list(svc.requirable_fields().items())
    if request.method == "GET" and stage is not None:
        form.sla_minutes.data = str(stage.sla_minutes or "")
    if form.validate_on_submit():
        try:
            stage = svc.save_stage(p, form.data, stage)
        except ServiceError as exc:
            _refused(form, exc)
            p = db.session.get(Pipeline, pipeline_id)
            stage = db.session.get(Stage, stage_id) if stage_id else None
        else:
            db.session.commit()
            flash(f"Etapa “{stage.name}” salva.", "success")
            return redirect(url_for(".pipeline", pipeline_id=p.id, _anchor="etapas"))
    status = 422 if form.is_submitted() else 200
    leads = db.session.scalar(select(func.count(Lead.id)).where(Lead.stage_id == stage.id)) if stage else 0
    return render_template("presales/admin/stage_form.html", p=p, stage=stage, form=form, leads=leads), status


@bp.route("/funis/<int:pipeline_id>/etapas/<int:stage_id>/mover", methods=["POST"])
@roles_required("admin")
def stage_move(pipeline_id, stage_id):
    stage = _stage(pipeline_id, stage_id)
    svc.move_stage(stage, _delta())
    db.session.commit()
    if request.htmx:
        return render_template("presales/admin/_stages.html", **_stages_context(stage.pipeline))
    return redirect(url_for(".pipeline", pipeline_id=pipeline_id, _anchor="etapas"))


@bp.route("/funis/<int:pipeline_id>/etapas/<int:stage_id>/excluir", methods=["POST"])
@roles_required("admin")
def stage_delete(pipeline_id, stage_id):
    stage = _stage(pipeline_id, stage_id)
    try:
        svc.delete_stage(stage)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for(".stage_edit", pipeline_id=pipeline_id, stage_id=stage_id))
    db.session.commit()
    flash("Etapa excluída.", "success")
    return redirect(url_for(".pipeline", pipeline_id=pipeline_id, _anchor="etapas"))


# Queues
def _queue_form(queue=None):
    form = forms.QueueForm(obj=queue) if request.method == "GET" else forms.QueueForm()
    form.development_ids.choices = [(str(d.id), d.name) for d in
                                    db.session.execute(select(Development).order_by(Development.name)).scalars()]
    form.channel_ids.choices = [(str(c.id), c.name) for c in db.session.execute(
        select(Channel).order_by(Channel.name)).scalars() if c.active or (queue and c.id in queue.channel_ids)]
    if request.method == "GET" and queue is not None:
        form.development_ids.data = [str(i) for i in queue.development_ids or []]
        form.channel_ids.data = [str(i) for i in queue.channel_ids or []]
        form.offer_minutes.data = str(queue.offer_minutes)
        form.fallback_minutes.data = str(queue.fallback_minutes or "")
    return form


def _names(model, ids):
    if not ids:
        return []
    return db.session.execute(select(model.name).where(model.id.in_(ids)).order_by(model.name)).scalars().all()


@bp.route("/filas")
@roles_required(*VIEWERS)
def queues():
    rows = db.session.execute(select(Queue).order_by(Queue.position, Queue.id)).scalars().all()
    waiting = dict(db.session.execute(select(Lead.queue_id, func.count(Lead.id)).where(
        Lead.owner_id.is_(None), Lead.status == "open", Lead.queue_id.is_not(None)).group_by(Lead.queue_id)).all())
    scope = {q.id: (_names(Development, q.development_ids), _names(Channel, q.channel_ids)) for q in rows}
    template = "presales/admin/_queues.html" if request.htmx else "presales/admin/queues.html"
    return render_template(template, queues=rows, waiting=waiting, scope=scope, kinds=svc.QUEUE_KINDS)


@bp.route("/filas/nova", methods=["GET", "POST"])
@bp.route("/filas/<int:queue_id>/editar", methods=["GET", "POST"])
@roles_required(*QUEUE_MANAGERS)
def queue_edit(queue_id=None):
    queue = db.get_or_404(Queue, queue_id) if queue_id else None
    form = _queue_form(queue)
    if form.validate_on_submit():
        try:
            queue = svc.save_queue(form.data, queue)
        except ServiceError as exc:
            _refused(form, exc)
            queue = db.session.get(Queue, queue_id) if queue_id else None
        else:
            db.session.commit()
            flash("Fila salva.", "success")
            return redirect(url_for(".queue", queue_id=queue.id))
    status = 422 if form.is_submitted() else 200
    return render_template("presales/admin/queue_form.html", form=form, queue=queue), status


@bp.route("/filas/<int:queue_id>/mover", methods=["POST"])
@roles_required(*QUEUE_MANAGERS)
def queue_move(queue_id):
    queue = db.get_or_404(Queue, queue_id)
    svc.move_queue(queue, _delta())
    db.session.commit()
    if request.htmx:
        return queues()
    return redirect(url_for(".queues"))


@bp.route("/filas/<int:queue_id>/excluir", methods=["POST"])
@roles_required("admin")
def queue_delete(queue_id):
    queue = db.get_or_404(Queue, queue_id)
    try:
        outcome = svc.delete_queue(queue)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for(".queue", queue_id=queue_id))
    db.session.commit()
    if outcome == "deleted":
        flash("Fila excluída.", "success")
        return redirect(url_for(".queues"))
    flash("Fila desativada: ela já distribuiu leads e fica no histórico.", "success")
    return redirect(url_for(".queue", queue_id=queue_id))


def _member_rows(queue):
    """Each member with presence, weighted share, the next turn and whether the caller manages them."""
    members = list(queue.members)
    since = utcnow().timestamp() - PRESENCE_SECONDS
    active = [m for m in members if not m.paused and m.user.active]
    total_weight = sum(m.weight for m in active) or 1
    online = {m.id for m in members if m.checked_in and m.last_seen_at and m.last_seen_at.timestamp() >= since}
    turn = pick([m for m in active if queue.mode == "offline" or m.id in online])
    rows = []
    for m in members:
        presence = ("online", "Online") if m.id in online else (
            ("stale", "Sem sinal") if m.checked_in else ("offline", "Offline"))
        share = round(100 * m.weight / total_weight) if m in active else None
        rows.append({"m": m, "presence": presence, "share": share,
                     "next": turn is not None and m.id == turn.id,
                     "manage": _is_admin() or can_see(current_user, m.user)})
    return rows


def _candidates(queue):
    taken = [m.user_id for m in queue.members]
    stmt = scoped(current_user, User).where(User.role == queue.kind, User.active.is_(True)).order_by(User.name)
    if taken:
        stmt = stmt.where(User.id.not_in(taken))
    return db.session.execute(stmt).scalars().all()


def _queue_page(queue, member_form=None, errors=None, status=200):
    queue = db.session.get(Queue, queue.id)
    if member_form is None:
        member_form = forms.MemberForm(formdata=None)
    member_form.user_id.choices = [("", "— escolha —")] + [
        (str(u.id), u.name + (f" · {u.team.name}" if u.team else "")) for u in _candidates(queue)]
    context = {"queue": queue, "rows": _member_rows(queue), "member_form": member_form, "errors": errors or {},
               "waiting": svc.waiting_leads(queue), "kinds": svc.QUEUE_KINDS, "modes": svc.QUEUE_MODES,
               "developments": _names(Development, queue.development_ids),
               "channels": _names(Channel, queue.channel_ids), "can_delete": _is_admin()}
    template = "presales/admin/_members.html" if request.htmx else "presales/admin/queue.html"
    return render_template(template, **context), status


@bp.route("/filas/<int:queue_id>")
@roles_required(*VIEWERS)
def queue(queue_id):
    return _queue_page(db.get_or_404(Queue, queue_id))


def _member(queue_id, member_id) -> QueueMember:
    member = db.get_or_404(QueueMember, member_id)
    if member.queue_id != queue_id:
        abort(404)
    return member


def _member_action(queue_id, action, member_id=None):
    """Run one member change; htmx gets the members section, a plain post a redirect (or the page on 422)."""
    queue = db.get_or_404(Queue, queue_id)
    member = _member(queue_id, member_id) if member_id else None
    try:
        message = action(queue, member)
    except ServiceError as exc:
        db.session.rollback()
        key = member_id or "new"
        if member_id is None:
            form = forms.MemberForm()
            apply_errors(form, exc)
            return _queue_page(queue, member_form=form, status=422)
        return _queue_page(queue, errors={key: " ".join(exc.errors.values())}, status=422)
    db.session.commit()
    if request.htmx:
        return _queue_page(queue)
    flash(message, "success")
    return redirect(url_for(".queue", queue_id=queue_id, _anchor="membros"))


@bp.route("/filas/<int:queue_id>/membros", methods=["POST"])
@roles_required(*QUEUE_MANAGERS)
def member_add(queue_id):
    def add(queue, _):
        member = svc.add_member(queue, request.form.get("user_id"), current_user, request.form.get("weight") or 1)
        return f"{member.user.name} entrou na fila."
    return _member_action(queue_id, add)


@bp.route("/filas/<int:queue_id>/membros/<int:member_id>/pausa", methods=["POST"])
@roles_required(*QUEUE_MANAGERS)
def member_pause(queue_id, member_id):
    def toggle(_, member):
        paused = request.form.get("paused", "1" if not member.paused else "0") == "1"
        svc.set_paused(member, paused, current_user)
        return f"{member.user.name} {'pausado' if paused else 'de volta à fila'}."
    return _member_action(queue_id, toggle, member_id)


@bp.route("/filas/<int:queue_id>/membros/<int:member_id>/peso", methods=["POST"])
@roles_required(*QUEUE_MANAGERS)
def member_weight(queue_id, member_id):
    def weigh(_, member):
        svc.set_weight(member, request.form.get("weight"), current_user)
        return f"Peso de {member.user.name}: {member.weight}."
    return _member_action(queue_id, weigh, member_id)


@bp.route("/filas/<int:queue_id>/membros/<int:member_id>/mover", methods=["POST"])
@roles_required(*QUEUE_MANAGERS)
def member_move(queue_id, member_id):
    def move(_, member):
        svc.move_member(member, _delta(), current_user)
        return "Ordem atualizada."
    return _member_action(queue_id, move, member_id)


@bp.route("/filas/<int:queue_id>/membros/<int:member_id>/remover", methods=["POST"])
@roles_required(*QUEUE_MANAGERS)
def member_remove(queue_id, member_id):
    def remove(_, member):
        name = member.user.name
        svc.remove_member(member, current_user)
        return f"{name} saiu da fila."
    return _member_action(queue_id, remove, member_id)


# Duplicate blocking
@bp.route("/bloqueio", methods=["GET", "POST"])
@roles_required(*VIEWERS)
def dedup_settings():
    if request.method == "POST" and not _is_admin():
        abort(403)
    settings = get_settings()
    form = forms.SettingsForm() if request.method == "POST" else forms.SettingsForm(formdata=None, data={
        "dedup_same_development_only": "1" if settings.dedup_same_development_only else "0",
        "dedup_closed_days": str(settings.dedup_closed_days)})
    if form.validate_on_submit():
        try:
            svc.save_settings(form.data)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            db.session.commit()
            flash("Regras de bloqueio salvas.", "success")
            return redirect(url_for(".dedup_settings"))
    status = 422 if form.is_submitted() else 200
    return render_template("presales/admin/dedup.html", form=form, can_edit=_is_admin()), status
