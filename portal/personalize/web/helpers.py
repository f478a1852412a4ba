"""Template helpers for the personalization pages (registered for this blueprint only)."""
from datetime import datetime

from portal.dbtypes import utcnow
from portal.personalize.models import BASES
from portal.personalize.services.common import line_total, quantity_text
from portal.personalize.views import bp

PER = {"area": "/m²", "unit": "/peça", "fixed": ""}
QTY_UNIT = {"area": "m²", "unit": "peça(s)", "fixed": ""}


def option_cost(view, option) -> tuple[int, int]:
    """(price per unit of measure, cost for this unit): a line's own price for the chosen option."""
    if view.line is not None and view.line.option_id == option.id:
        return view.line.unit_price_cents, view.line.total_cents
    return option.price_cents, line_total(view.quantity, option.price_cents)


def remaining(when: datetime | None) -> str:
    if when is None:
        return ""
    seconds = (when - utcnow()).total_seconds()
    if seconds <= 0:
        return ""
    days, hours = int(seconds // 86400), int(seconds // 3600)
    if days >= 2:
        return f"faltam {days} dias"
    if hours >= 2:
        return f"faltam {hours} horas"
    return "falta menos de 2 horas"


@bp.context_processor
def personalization_helpers():
    return {"option_cost": option_cost, "qty": quantity_text, "per_label": PER, "qty_unit": QTY_UNIT,
            "remaining": remaining, "basis_labels": BASES}
