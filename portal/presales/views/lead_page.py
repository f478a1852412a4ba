"""Manual lead creation and the lead page with its actions (narratives, qualification, lost/won,
handoff retry, handover, transfer)."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from portal.accounts.decorators import roles_required
from portal.accounts.models import User
from portal.accounts.scope import can_see
from portal.errors import ServiceError
from portal.extensions import db
from portal.presales import queries
from portal.presales.forms import LeadForm, LostForm, NarrativeForm, TransferForm
from portal.presales.models import Lead
from portal.presales.services import distribution, leads
from portal.presales.services.config import channel_by_slug
from portal.presales.services.intake import handover, intake
from portal.web.forms import apply_errors
from portal.presales.views import (LEADERS, SALES, _first_error, _lead, _presence_context, bp, field_spec,
                                   loss_reason_choices, posted_values)


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
