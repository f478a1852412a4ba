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
