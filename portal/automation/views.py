from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.accounts.decorators import roles_required
from portal.automation.models import Delivery, Notification
from portal.extensions import db

bp = Blueprint("automation", __name__, url_prefix="/automacao")


def unread_count(user) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


@bp.app_context_processor
def notification_context():
    def unread_notifications():
        return unread_count(current_user) if current_user.is_authenticated else 0
    return {"unread_notifications": unread_notifications}


@bp.route("/notificacoes/sino")
@login_required
def bell():
    return render_template("components/bell.html")


@bp.route("/notificacoes")
@login_required
def notifications():
    rows = db.session.execute(select(Notification).where(Notification.user_id == current_user.id)
                              .order_by(Notification.created_at.desc()).limit(100)).scalars().all()
    return render_template("automation/notifications.html", notifications=rows)


@bp.route("/notificacoes/lidas", methods=["POST"])
@login_required
def mark_read():
    from portal.automation.services import mark_notifications_read
    mark_notifications_read(current_user)
    db.session.commit()
    return redirect(url_for("automation.notifications"))


@bp.route("/regras")
@roles_required("admin")
def rules():
    from portal.automation.models import Rule
    rows = db.session.execute(select(Rule).order_by(Rule.name)).scalars().all()
    return render_template("automation/rules.html", rules=rows)


@bp.route("/mensagens")
@roles_required("admin")
def deliveries():
    status = request.args.get("status") or None
    stmt = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc())
    if status:
        stmt = stmt.where(Delivery.status == status)
    page = db.paginate(stmt, per_page=50)
    return render_template("automation/deliveries.html", page=page, status=status)


@bp.route("/mensagens/<int:delivery_id>")
@roles_required("admin")
def delivery(delivery_id):
    row = db.get_or_404(Delivery, delivery_id)
    return render_template("automation/delivery.html", d=row)


@bp.route("/mensagens/<int:delivery_id>/reenviar", methods=["POST"])
@roles_required("admin")
def retry(delivery_id):
    from portal.automation.deliveries import retry_delivery
    row = db.get_or_404(Delivery, delivery_id)
    try:
        retry_delivery(row)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("automation.delivery", delivery_id=row.id)), 409
    db.session.commit()
    flash("Mensagem recolocada na fila de envio.", "success")
    return redirect(url_for("automation.delivery", delivery_id=row.id))


# ---- rule editor ------------------------------------------------------------------------------

def _preview_records(kind: str | None) -> list[tuple[str, str]]:
    from portal.automation import subjects
    subject = subjects.SUBJECTS.get(kind or "")
    if subject is None:
        return []
    rows = db.session.execute(select(subject.model).order_by(subject.model.id.desc()).limit(20)).scalars()
    return [(str(r.id), subject.title(r)) for r in rows]


def _rule_form(rule=None):
    from portal.automation.forms import RuleForm
    form = RuleForm()
    if request.method == "GET" and rule is not None and not request.args:
        form.load_rule(rule)
    if request.method == "GET" and request.args:  # htmx refresh after changing registro/gatilho
        form = RuleForm(formdata=request.args)
    kind = form.subject_type.data
    form.set_choices(kind, _preview_records(kind))
    return form


@bp.route("/regras/nova", methods=["GET", "POST"])
@bp.route("/regras/<int:rule_id>", methods=["GET", "POST"])
@roles_required("admin")
def rule_edit(rule_id=None):
    from portal.accounts.services import ServiceError
    from portal.automation import rules as rule_service
    from portal.automation import subjects
    from portal.automation.models import Rule

    rule = db.get_or_404(Rule, rule_id) if rule_id else None
    form = _rule_form(rule)
    previews, status = None, 200
    if request.method == "POST":
        if not form.validate():
            status = 422
        elif request.form.get("action") == "preview":
            record = subjects.load(form.subject_type.data, int(form.preview_record.data)) \
                if form.preview_record.data and form.subject_type.data else None
            previews = rule_service.preview(form.rule_data(), record)
        else:
            try:
                rule = rule_service.save_rule(form.rule_data(), rule)
            except ServiceError as exc:
                form.apply_errors(exc.errors)
                status = 422
            else:
                db.session.commit()
                flash("Régua salva.", "success")
                return redirect(url_for("automation.rules"))
    template = "automation/_rule_form.html" if request.htmx else "automation/rule_form.html"
    return render_template(template, form=form, rule=rule, previews=previews), status


@bp.route("/regras/<int:rule_id>/ativa", methods=["POST"])
@roles_required("admin")
def rule_toggle(rule_id):
    from portal.accounts.audit import audit
    from portal.automation.models import Rule
    rule = db.get_or_404(Rule, rule_id)
    rule.active = not rule.active
    audit("rule.activated" if rule.active else "rule.deactivated", rule)
    if rule.trigger == "time":
        from portal import jobs
        from portal.automation.engine import backfill_rule
        jobs.enqueue_after_commit(db.session, backfill_rule, rule.id, queue_name="low")
    db.session.commit()
    flash(f"Régua {'ativada' if rule.active else 'desativada'}.", "success")
    return redirect(url_for("automation.rules"))
