"""Accounts: the list, the account page (facts, contacts, onboarding checklist, health and why, journey,
touchpoints, timeline), the account form, and the actions on one account."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.automation.subjects import EVENT_TYPES
from portal.automation.timeline import Entry, timeline
from portal.cs import queries, segmentation
from portal.cs.forms import AccountForm, ContactForm, PhaseForm, RiskForm, TouchpointForm
from portal.cs.models import ONBOARDING_STEPS, PHASES, Contact, PhaseChange, local_today
from portal.cs.services import accounts as account_services
from portal.cs.services import health, journey, usage
from portal.cs.services.risk import set_risk_flag
from portal.cs.settings import get_settings
from portal.cs.views import CS_ROLES, LEADERS, bp
from portal.cs.web.common import account_or_404, first_error
from portal.extensions import db
from portal.web.forms import apply_errors


@bp.route("/contas")
@roles_required(*CS_ROLES)
def accounts():
    filters = queries.AccountFilters.from_args(request.args)
    page = queries.accounts_page(current_user, filters, queries._int(request.args.get("page")) or 1)
    return render_template("cs/accounts.html", page=page, filters=filters,
                           csms=queries.team_csms(current_user) if current_user.role != "csm" else [])


def _account_form(account=None) -> AccountForm:
    form = AccountForm(obj=account) if request.method == "GET" and account else AccountForm()
    form.product_ids.choices = [(str(p.id), p.name) for p in account_services.products()]
    csms = account_services.csm_choices()
    form.csm_id.choices = [("", "— sem CSM —")] + [(str(u.id), u.name) for u in csms]
    if request.method == "GET":
        if account is not None:
            from portal.web.filters import brl, cnpj_br
            form.cnpj.data = cnpj_br(account.cnpj)
            form.product_ids.data = [str(p.id) for p in account.products]
            form.csm_id.data = str(account.csm_id or "")
            form.mrr.data = brl(account.mrr_cents).replace("R$ ", "")
            form.potential.data = brl(account.potential_cents).replace("R$ ", "") if account.potential_cents else ""
            for name in ("employees", "contact_points", "open_tickets", "sla_breaches", "days_overdue"):
                getattr(form, name).data = str(getattr(account, name) or 0)
            form.last_nps.data = "" if account.last_nps is None else str(account.last_nps)
            form.touch_model.data = account.touch_model
        elif current_user.role == "csm":
            form.csm_id.data = str(current_user.id)
    return form


def _save(account=None):
    form = _account_form(account)
    if form.validate_on_submit():
        data = form.service_data()
        if current_user.role == "csm":
            data.pop("csm_id", None)  # a CSM keeps their accounts; the leader reassigns
            if account is None:
                data["csm_id"] = current_user.id
        try:
            if account is None:
                account = account_services.create_account(data, current_user)
            else:
                account_services.update_account(account, data, current_user)
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Conta salva.", "success")
            return redirect(url_for(".account", account_id=account.id))
    status = 422 if form.is_submitted() else 200
    if account is not None:
        account = account_or_404(account.id)
    return render_template("cs/account_form.html", form=form, account=account), status


@bp.route("/contas/nova", methods=["GET", "POST"])
@roles_required(*LEADERS)
def account_new():
    return _save()


@bp.route("/contas/<int:account_id>/editar", methods=["GET", "POST"])
@roles_required(*CS_ROLES)
def account_edit(account_id):
    return _save(account_or_404(account_id))


def _timeline(account):
    """The one timeline, with phase moves and touchpoints told in full (their bare events are dropped)."""
    told = {EVENT_TYPES[e][1] for e in ("account.phase_changed", "account.touchpoint_logged",
                                        "account.onboarding_step")}
    extra = [Entry(step.done_at, "onboarding", f"Onboarding: {ONBOARDING_STEPS.get(key, key)} concluído",
                   actor=step.done_by.name if step.done_by else None)
             for key, step in journey.onboarding_steps(account).items()]
    for row in db.session.execute(select(PhaseChange).where(PhaseChange.account_id == account.id)).scalars():
        title = (f"Fase: {PHASES.get(row.from_phase, row.from_phase)} → {PHASES.get(row.to_phase, row.to_phase)}"
                 if row.from_phase else f"Entrou em {PHASES.get(row.to_phase, row.to_phase)}")
        extra.append(Entry(row.at, "phase", title, body=row.note, actor=row.user.name if row.user else None))
    for tp in queries.touchpoints(account):
        who = f" com {tp.contact.name}" if tp.contact else ""
        extra.append(Entry(tp.occurred_at, "touchpoint", f"{tp.kind_label}{who}", body=tp.summary,
                           actor=tp.user.name if tp.user else None,
                           status="Decisor presente" if tp.decision_maker else None))
    from portal.cs.services import playbooks
    extra += playbooks.timeline_entries(account)  # migration steps told with owner, date and notes
    told |= {EVENT_TYPES[e][1] for e in playbooks.NARRATED_EVENTS}
    entries = timeline("account", account.id, extra)
    return [e for e in entries if not (e.kind == "event" and e.title in told)]


def _page(account, touch_form=None, contact_form=None, risk_form=None, status=200):
    from portal.reports.charts import line_chart
    settings = get_settings()
    touch_form = touch_form or TouchpointForm(formdata=None)
    touch_form.contact_id.choices = [("", "—")] + [(str(c.id), c.name) for c in account.contacts]
    stays = journey.phase_history(account, settings)
    scores = health.history(account, 90)
    chart = line_chart([s.day.strftime("%d/%m") for s in scores], {"Saúde": [s.score for s in scores]},
                       title=f"Saúde de {account.name} nos últimos 90 dias", width=560, height=200) \
        if len(scores) > 1 else None
    daily = usage.daily_totals(account, 90)
    usage_chart = line_chart([d.strftime("%d/%m") for d, _ in daily], {"Uso diário": [int(n) for _, n in daily]},
                             title=f"Uso diário de {account.name}", width=560, height=180) if len(daily) > 1 else None
    values = segmentation.account_values(account)
    return render_template(
        "cs/account.html", account=account, settings=settings, why=health.why(account), chart=chart,
        usage_chart=usage_chart, stays=stays, totals=journey.time_in_phase_totals(stays),
        steps=journey.onboarding_steps(account), step_labels=ONBOARDING_STEPS,
        reasons=segmentation.reasons(values, settings.segmentation), entries=_timeline(account),
        tasks=queries.open_tasks(account), touch_form=touch_form, contact_form=contact_form or ContactForm(formdata=None),
        risk_form=risk_form or RiskForm(formdata=None), phase_form=PhaseForm(formdata=None, phase=account.phase),
        today=local_today()), status


@bp.route("/contas/<int:account_id>")
@roles_required(*CS_ROLES)
def account(account_id):
    return _page(account_or_404(account_id))


@bp.route("/contas/<int:account_id>/pontos-de-contato", methods=["POST"])
@roles_required(*CS_ROLES)
def touchpoint_new(account_id):
    account = account_or_404(account_id)
    form = TouchpointForm()
    data = {"kind": form.kind.data, "summary": form.summary.data, "contact_id": form.contact_id.data,
            "decision_maker": form.decision_maker.data,
            "occurred_at": request.form.get("occurred_at") or None}
    try:
        journey.log_touchpoint(account, data, current_user)
    except ServiceError as exc:
        db.session.rollback()
        account = account_or_404(account_id)
        apply_errors(form, exc)
        return _page(account, touch_form=form, status=422)
    db.session.commit()
    flash(f"{journey.TOUCHPOINT_KINDS[data['kind']]} registrado. Próximo follow-up: {account.next_follow_up_br}.",
          "success")
    return redirect(url_for(".account", account_id=account.id, _anchor="pontos-de-contato"))


@bp.route("/contas/<int:account_id>/contatos", methods=["POST"])
@bp.route("/contas/<int:account_id>/contatos/<int:contact_id>", methods=["POST"])
@roles_required(*CS_ROLES)
def contact_save(account_id, contact_id=None):
    account = account_or_404(account_id)
    contact = None
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.account_id != account.id:
            abort(404)
    form = ContactForm()
    try:
        account_services.save_contact(account, {k: v for k, v in form.data.items() if k != "csrf_token"}, contact,
                                      current_user)
    except ServiceError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(account_or_404(account_id), contact_form=form, status=422)
    db.session.commit()
    flash("Contato salvo.", "success")
    return redirect(url_for(".account", account_id=account.id, _anchor="contatos"))


@bp.route("/contas/<int:account_id>/contatos/<int:contact_id>/excluir", methods=["POST"])
@roles_required(*CS_ROLES)
def contact_delete(account_id, contact_id):
    account = account_or_404(account_id)
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.account_id != account.id:
        abort(404)
    account_services.delete_contact(contact, current_user)
    db.session.commit()
    flash("Contato excluído.", "success")
    return redirect(url_for(".account", account_id=account.id, _anchor="contatos"))


@bp.route("/contas/<int:account_id>/onboarding/<step>", methods=["POST"])
@roles_required(*CS_ROLES)
def onboarding_step(account_id, step):
    account = account_or_404(account_id)
    try:
        journey.set_step(account, step, request.form.get("done") == "1", current_user)
    except ServiceError as exc:
        flash(first_error(exc), "error")
        return redirect(url_for(".account", account_id=account.id))
    db.session.commit()
    if request.htmx:
        return render_template("cs/partials/checklist.html", account=account, steps=journey.onboarding_steps(account),
                               step_labels=ONBOARDING_STEPS)
    return redirect(url_for(".account", account_id=account.id, _anchor="onboarding"))


@bp.route("/contas/<int:account_id>/risco", methods=["POST"])
@roles_required(*CS_ROLES)
def risk(account_id):
    account = account_or_404(account_id)
    form = RiskForm()
    flagged = form.flag.data == "1"
    try:
        set_risk_flag(account, flagged, form.reason.data or "", current_user)
    except ServiceError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(account_or_404(account_id), risk_form=form, status=422)
    db.session.commit()
    flash("Risco de churn sinalizado: a nota foi limitada." if flagged else "Sinal de risco retirado.", "success")
    return redirect(url_for(".account", account_id=account.id, _anchor="saude"))


@bp.route("/contas/<int:account_id>/saude/recalcular", methods=["POST"])
@roles_required(*CS_ROLES)
def health_recompute(account_id):
    account = account_or_404(account_id)
    health.recompute(account_ids=[account.id])
    db.session.commit()
    flash("Saúde recalculada com os dados de hoje.", "success")
    return redirect(url_for(".account", account_id=account.id, _anchor="saude"))
