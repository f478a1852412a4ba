"""Helpers shared by the CS route modules."""
from flask import request
from flask_login import current_user

from portal.accounts.scope import get_scoped_or_404
from portal.accounts.services import ServiceError
from portal.cs.models import Account


def account_or_404(account_id: int) -> Account:
    return get_scoped_or_404(current_user, Account, account_id)


def safe_next(default: str) -> str:
    target = request.values.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


def first_error(exc: ServiceError) -> str:
    return next(iter(exc.errors.values()), "Não foi possível concluir.")
