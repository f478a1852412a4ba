"""Pipelines and their stages."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.extensions import db
from portal.presales import admin_forms as forms
from portal.presales.models import Lead, Pipeline, Stage
from portal.presales.services import pipelines as svc
from portal.presales.admin import VIEWERS, _delta, _is_admin, _refused, bp


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
        form.contact_days.data = str(stage.contact_days or "")
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
