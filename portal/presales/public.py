"""Public lead form per development (embeddable, no login)."""
from flask import Blueprint

bp = Blueprint("presales_public", __name__)
