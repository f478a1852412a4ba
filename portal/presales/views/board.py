"""The Kanban board (lazy columns, moves with the required-field dialog), the lead list and its CSV export."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.audit import audit
from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales import queries
from portal.presales.models import Lead, Stage
from portal.presales.services import leads
from portal.presales.views import (SALES, SCHEDULE_FIELDS, VALUE_FIELDS, _lead, _presence_context, bp, field_spec,
                                   posted_values)
from portal.web import csv_export
from portal.web.urls import safe_next


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
                           next_offset=offset + queries.COLUMN_SIZE, here=safe_next(url_for(".board")))


@bp.route("/leads/<int:lead_id>/mover", methods=["POST"])
@roles_required(*SALES)
def lead_move(lead_id):
    """Move to a stage; missing required fields answer 422 with a small form for them (and nothing changes)."""
    lead = _lead(lead_id)
    stage = db.session.get(Stage, queries._int(request.form.get("stage_id")) or 0)
    back = safe_next(url_for(".lead", lead_id=lead.id))
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
    rows = list(queries.export_rows(current_user, filters, sort, direction))
    data = csv_export.to_bytes(queries.EXPORT_COLUMNS, rows)
    audit("lead.exported", object_type="Lead", count=len(rows), filters=filters.args())
    db.session.commit()
    return csv_export.response(data, f"leads-{utcnow():%Y%m%d-%H%M}.csv")
