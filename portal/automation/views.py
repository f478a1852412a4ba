from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal import normalize
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
    from portal.automation import subjects
    from portal.automation.models import Rule
    from portal.automation.rules import trigger_text
    rows = db.session.execute(select(Rule).order_by(Rule.name)).scalars().all()
    return render_template("automation/rules.html", rules=[
        (r, getattr(subjects.SUBJECTS.get(r.subject_type or ""), "label", "Nenhum (agenda)"), trigger_text(r))
        for r in rows])


@bp.route("/mensagens")
@roles_required("admin")
def deliveries():
    status = request.args.get("status") or None
    stmt = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc())
    if status:
        stmt = stmt.where(Delivery.status == status)
    page = db.paginate(stmt, per_page=50, page=normalize.row_id(request.args.get("page")) or 1)
    return render_template("automation/deliveries.html", page=page, status=status)


@bp.route("/mensagens/<int:delivery_id>")
@roles_required("admin")
def delivery(delivery_id):
    row = db.get_or_404(Delivery, delivery_id)
    return render_template("automation/delivery.html", d=row)


@bp.route("/mensagens/<int:delivery_id>/reenviar", methods=["POST"])
@roles_required("admin")
def retry(delivery_id):
    from portal.errors import ServiceError
    from portal.automation.deliveries import retry_delivery
    row = db.get_or_404(Delivery, delivery_id)
    try:
        retry_delivery(row, confirmed=request.form.get("confirmar") == "1")
    except ServiceError as exc:
        return render_template("automation/delivery.html", d=row, errors=exc.errors), \
            422 if "confirmar" in exc.errors else 409
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
    from portal.errors import ServiceError
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
    event_type = form.event_type.data if form.trigger.data in ("event", None, "") else None
    return render_template(template, form=form, rule=rule, previews=previews,
                           placeholders=subjects.placeholders(form.subject_type.data, event_type)), status


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


# ---- calendar, holidays, opt-outs -----------------------------------------------------------------

@bp.route("/calendario", methods=["GET", "POST"])
@roles_required("admin")
def calendar():
    from portal.errors import ServiceError
    from portal.automation.calendar import get_calendar
    from portal.automation.forms import CalendarForm, HolidayForm
    from portal.automation.models import CalendarSettings, Holiday
    from portal.automation.services import save_calendar
    from portal.web.forms import apply_errors

    row = db.session.execute(select(CalendarSettings).limit(1)).scalar_one_or_none() or CalendarSettings(
        workdays="0,1,2,3,4", day_start="08:00", day_end="18:00", quiet_start="21:00", quiet_end="08:00",
        national_holidays=True)
    form = CalendarForm(obj=row) if request.method == "GET" else CalendarForm()
    if request.method == "GET":
        form.workdays.data = row.workdays.split(",")
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                save_calendar(form.data)
            except ServiceError as exc:
                apply_errors(form, exc)
            else:
                db.session.commit()
                flash("Calendário salvo.", "success")
                return redirect(url_for("automation.calendar"))
        status = 422
    from datetime import date
    cal = get_calendar()
    year = date.today().year
    import holidays as holidays_lib
    national = sorted(holidays_lib.BR(years=year, subdiv=cal.state or None, language="pt_BR").items()) \
        if cal.national else []
    custom = db.session.execute(select(Holiday).order_by(Holiday.day)).scalars().all()
    return render_template("automation/calendar.html", form=form, holiday_form=HolidayForm(), national=national,
                           custom=custom, year=year), status


@bp.route("/calendario/feriados", methods=["POST"])
@roles_required("admin")
def holiday_add():
    from portal.errors import ServiceError
    from portal.automation.forms import HolidayForm
    from portal.automation.services import add_holiday
    form = HolidayForm()
    if not form.validate():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
        return redirect(url_for("automation.calendar")), 303
    try:
        add_holiday(form.day.data, form.name.data)
    except ServiceError as exc:
        for e in exc.errors.values():
            flash(e, "error")
        return redirect(url_for("automation.calendar")), 303
    db.session.commit()
    flash("Feriado incluído.", "success")
    return redirect(url_for("automation.calendar"))


@bp.route("/calendario/feriados/<int:holiday_id>/excluir", methods=["POST"])
@roles_required("admin")
def holiday_delete(holiday_id):
    from portal.accounts.audit import audit
    from portal.automation.models import Holiday
    row = db.get_or_404(Holiday, holiday_id)
    audit("holiday.deleted", row, day=row.day.isoformat())
    db.session.delete(row)
    db.session.commit()
    flash("Feriado removido.", "success")
    return redirect(url_for("automation.calendar"))


@bp.route("/descadastros", methods=["GET", "POST"])
@roles_required("admin")
def optouts():
    from portal import normalize
    from portal.accounts.audit import audit
    from portal.automation.deliveries import opt_out
    from portal.automation.forms import OptOutForm
    from portal.automation.models import OptOut
    form = OptOutForm()
    status = 200
    if form.validate_on_submit():
        try:
            contact = normalize.email(form.contact.data) if form.channel.data == "email" \
                else normalize.phone(form.contact.data)
        except normalize.InvalidValue as exc:
            form.contact.errors = [str(exc)]
            status = 422
        else:
            row = opt_out(form.channel.data, contact, form.reason.data or "registrado pela equipe")
            audit("optout.created", row, channel=row.channel)
            db.session.commit()
            flash("Descadastro registrado: o contato não receberá mais mensagens neste canal.", "success")
            return redirect(url_for("automation.optouts"))
    rows = db.session.execute(select(OptOut).order_by(OptOut.created_at.desc()).limit(500)).scalars().all()
    from portal.automation.models import CHANNELS
    return render_template("automation/optouts.html", form=form, rows=rows, channels=CHANNELS), status


@bp.route("/descadastrar/<token>", methods=["GET", "POST"])
def unsubscribe(token):
    """Public, no login: the link at the bottom of every rule e-mail (LGPD)."""
    from portal.automation.deliveries import opt_out
    from portal.automation.services import read_unsubscribe_token
    parsed = read_unsubscribe_token(token)
    if parsed is None:
        return render_template("automation/unsubscribe.html", invalid=True), 400
    channel, contact = parsed
    if request.method == "POST":
        opt_out(channel, contact, "link de descadastro")
        db.session.commit()
        return render_template("automation/unsubscribe.html", done=True, contact=contact)
    return render_template("automation/unsubscribe.html", contact=contact, token=token)
