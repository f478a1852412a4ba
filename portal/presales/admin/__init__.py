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

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.extensions import db
from portal.presales import admin_forms as forms
from portal.presales.models import Channel, CustomField, LossReason, Media, Pipeline, Queue, QueueMember, Stage
from portal.presales.services import settings as svc
from portal.presales.services.config import get_settings
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


from portal.presales.admin import catalog, pipelines, queues  # noqa: E402,F401  (routes)
