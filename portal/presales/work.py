"""A rep's day: agenda, "atender pendentes", and the manager's active-offer campaigns."""
from flask import Blueprint

bp = Blueprint("presales_work", __name__, url_prefix="/pre-vendas")
