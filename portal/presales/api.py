"""JSON API and webhooks for lead intake (bearer token per API client)."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("presales_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
