"""Distribution queues (roleta) and their members."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.decorators import roles_required
from portal.accounts.models import User
from portal.accounts.scope import can_see, scoped
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales import admin_forms as forms
from portal.presales.models import Channel, Lead, Queue, QueueMember
from portal.presales.services import queues as svc
from portal.presales.services.distribution import PRESENCE_SECONDS, pick
from portal.realestate.models import Development
from portal.web.forms import apply_errors
from portal.presales.admin import QUEUE_MANAGERS, VIEWERS, _delta, _is_admin, _refused, bp


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
