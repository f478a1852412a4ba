"""Pre-sales dashboard (scoped by hierarchy, period filter) with SVG charts and drill-down links."""
from flask import Blueprint

bp = Blueprint("presales_dashboard", __name__, url_prefix="/pre-vendas/painel")
