"""Pre-sales screens for brokers, SDRs and managers: home, offers, the Kanban board, the list and the lead page.

Every list starts from `scoped(current_user, Lead)` (queries.py); a lead outside scope is 404. Every change
goes through the services; a ServiceError rolls the transaction back and is answered next to the fields
(422). htmx requests get the partial of the same template; every action also works as a plain form post.
"""
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.presales import queries
from portal.web.urls import safe_next
from portal.presales.models import Lead, LossReason, Media
from portal.presales.services import distribution, leads
from portal.realestate.models import Development
from portal.web.filters import local_tz

bp = Blueprint("presales", __name__, url_prefix="/pre-vendas")
SALES = ("manager", "sdr", "broker")
LEADERS = ("admin", "manager")
VALUE_FIELDS = set(leads.REQUIRABLE)
SCHEDULE_FIELDS = ("scheduled_at", "schedule_kind")  # stages that ask for an agendamento on entry


# --- helpers ----------------------------------------------------------------------------------------------------

@bp.app_template_filter("age")
def age(value: datetime | None) -> str:
    """Short age for cards: 'agora', '12 min', '5 h', '3 d'."""
    if value is None:
        return "—"
    seconds = max(0, int((utcnow() - value).total_seconds()))
    if seconds < 60:
        return "agora"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@bp.app_template_filter("whatsapp_url")
def whatsapp_url(phone: str | None) -> str:
    return "https://wa.me/" + "".join(ch for ch in (phone or "") if ch.isdigit())


@bp.app_template_filter("countdown")
def countdown(expires_at: datetime) -> str:
    seconds = max(0, int((expires_at - utcnow()).total_seconds()))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _lead(lead_id: int) -> Lead:
    return get_scoped_or_404(current_user, Lead, lead_id)


def _first_error(exc: ServiceError) -> str:
    return next(iter(exc.errors.values()), "Não foi possível concluir.")


def _presence_context() -> dict:
    return {"presence": queries.presence(current_user)}


@bp.context_processor
def _labels():
    return {"sort_labels": queries.SORT_LABELS}


# Tabs of the pre-sales area (other pre-sales blueprints include the same subnav): endpoint, label, roles.
TABS = [("presales.home", "Resumo", None), ("presales_work.pending_home", "Pendentes", None),
        ("presales.offers", "Ofertas", None), ("presales_work.agenda", "Agenda", None),
        ("presales.board", "Funil", None), ("presales.leads", "Leads", None), ("presales.lead_new", "Novo lead", None),
        ("presales_work.campaigns_list", "Campanhas", LEADERS), ("presales_dashboard.index", "Painel", LEADERS)]
LEAD_ENDPOINTS = {"presales.lead", "presales.lead_move", "presales.lead_narrative", "presales.lead_qualify",
                  "presales.lead_lost", "presales.lead_transfer"}


@bp.app_context_processor
def _presales_shared():
    """For the subnav wherever it is included: the tabs this app has, and the caller's presence (lazily)."""
    def tabs():
        views = current_app.view_functions
        active = "presales.leads" if request.endpoint in LEAD_ENDPOINTS else request.endpoint
        return [(url_for(e), label, e == active) for e, label, roles in TABS
                if e in views and (roles is None or current_user.role in roles)]

    def endpoint_exists(name):
        return name in current_app.view_functions
    return {"presales_tabs": tabs, "presales_presence": lambda: queries.presence(current_user),
            "endpoint_exists": endpoint_exists}


# --- field specs: the required-field form and the qualification form ---------------------------------------------

def field_spec(name: str, lead: Lead, values=None, errors=None) -> dict:
    """How to render one lead value (qualification select, phone, custom field, loss reason...)."""
    values, errors = values or {}, errors or {}
    spec = {"name": name, "id": "f-" + name.replace(":", "-").replace("_", "-"), "type": "text", "options": None,
            "error": errors.get(name)}
    if name.startswith("custom:"):
        custom = next((f for f in leads.custom_fields() if f.key == name[7:]), None)
        spec["label"] = custom.label if custom else name[7:]
        current = (lead.custom or {}).get(name[7:], "")
        if custom is not None and custom.kind == "choice":
            spec["options"] = [("", "—")] + [(c, c) for c in custom.choices or []]
        elif custom is not None and custom.kind in ("number", "date"):
            spec["type"] = custom.kind
    elif name in leads.QUALIFICATION:
        spec["label"] = leads.REQUIRABLE[name]
        spec["options"] = list(leads.QUALIFICATION[name].items())
        current = getattr(lead, name) or ""
    elif name == "development_id":
        spec["label"] = leads.REQUIRABLE[name]
        rows = db.session.execute(select(Development).order_by(Development.name)).scalars()
        spec["options"] = [("", "—")] + [(str(d.id), d.name) for d in rows]
        current = str(lead.development_id or "")
    elif name == "media_id":
        spec["label"] = leads.REQUIRABLE[name]
        rows = db.session.execute(select(Media).where(Media.active.is_(True)).order_by(Media.name)).scalars()
        spec["options"] = [("", "—")] + [(str(m.id), m.name) for m in rows]
        current = str(lead.media_id or "")
    elif name == "scheduled_at":
        spec["label"], spec["type"], current = "Data e hora do agendamento", "datetime-local", ""
    elif name == "schedule_kind":
        spec["label"], current = "Tipo de agendamento", "visit"
        spec["options"] = list(schedule_kinds().items())
    elif name == "loss_reason_id":
        spec["label"] = "Motivo da perda"
        spec["options"] = [("", "— escolha —")] + loss_reason_choices()
        current = ""
    else:
        spec["label"] = leads.REQUIRABLE.get(name, name)
        spec["type"] = {"phone": "tel", "email": "email"}.get(name, "text")
        current = getattr(lead, name, "") or ""
    spec["value"] = values.get(name, current)
    return spec


def loss_reason_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(LossReason).where(LossReason.active.is_(True)).order_by(LossReason.name))
    return [(str(r.id), r.name) for r in rows.scalars()]


def schedule_kinds() -> dict:
    try:
        from portal.presales.services.schedules import SCHEDULE_KINDS
    except ImportError:  # pragma: no cover - schedules arrive with the SLA/agenda issue
        return {"visit": "Visita"}
    return SCHEDULE_KINDS


def parse_local(value: str | None) -> datetime | None:
    """A datetime-local input (São Paulo time) → aware UTC, or None."""
    try:
        naive = datetime.strptime((value or "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return naive.replace(tzinfo=local_tz()).astimezone(timezone.utc)


def posted_values() -> dict:
    """Lead values posted by the stage form or the qualification form (only the fields a stage may require)."""
    custom = {f"custom:{f.key}" for f in leads.custom_fields()}
    values = {k: v for k, v in request.form.items() if k in VALUE_FIELDS or k in custom}
    if "scheduled_at" in request.form:
        values["scheduled_at"] = parse_local(request.form["scheduled_at"])
        values["schedule_kind"] = request.form.get("schedule_kind") or "visit"
    return values


# --- home, presence, offers ---------------------------------------------------------------------------------------

@bp.route("/")
@roles_required(*SALES)
def home():
    pipeline = queries.pipeline_or_default(None)
    team = queries.team_counts(current_user, pipeline) if pipeline and current_user.role in LEADERS else None
    return render_template("presales/home.html", counts=queries.my_counts(current_user), team=team,
                           pipeline=pipeline, **_presence_context())


@bp.route("/presenca", methods=["POST"])
@roles_required(*SALES)
def presence():
    checked_in = request.form.get("checked_in") == "1"
    offered = distribution.set_presence(current_user, checked_in)
    db.session.commit()
    if checked_in:
        flash("Você está online: novos leads serão oferecidos a você."
              + (f" {offered} lead(s) aguardando foram oferecidos." if offered else ""), "success")
    else:
        flash("Você está offline: não receberá ofertas.", "info")
    return redirect(safe_next(url_for(".home")))


@bp.route("/presenca/ping", methods=["POST"])
@roles_required(*SALES)
def heartbeat():
    distribution.set_presence(current_user, None)
    db.session.commit()
    return "", 204


@bp.route("/ofertas")
@roles_required(*SALES)
def offers():
    template = "presales/partials/offers.html" if request.htmx else "presales/offers.html"
    return render_template(template, offers=queries.pending_offers(current_user), **_presence_context())


def _answer_offer(offer_id: int, accept: bool):
    try:
        lead = (distribution.accept_offer if accept else distribution.decline_offer)(offer_id, current_user)
    except LookupError:
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        message, status = _first_error(exc), 409
    else:
        db.session.commit()
        if accept:
            flash(f"Lead {lead.number} é seu. Faça o primeiro contato!", "success")
            target = url_for(".lead", lead_id=lead.id)
            if request.htmx:
                return "", 200, {"HX-Redirect": target}
            return redirect(target)
        message, status = f"Oferta de {lead.number} recusada.", 200
    if request.htmx:
        return render_template("presales/partials/offers.html", offers=queries.pending_offers(current_user),
                               message=message, failed=status != 200), status
    flash(message, "error" if status != 200 else "info")
    return redirect(url_for(".offers"))


@bp.route("/ofertas/<int:offer_id>/aceitar", methods=["POST"])
@roles_required(*SALES)
def offer_accept(offer_id):
    return _answer_offer(offer_id, accept=True)


@bp.route("/ofertas/<int:offer_id>/recusar", methods=["POST"])
@roles_required(*SALES)
def offer_decline(offer_id):
    return _answer_offer(offer_id, accept=False)


from portal.presales.views import board, lead_page  # noqa: E402,F401  (routes)
