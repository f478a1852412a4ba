"""Helpers shared by the CS route modules."""
from flask_login import current_user

from portal.accounts.scope import get_scoped_or_404
from portal.errors import ServiceError
from portal.cs.models import Account
from portal.web.urls import safe_next  # noqa: F401 - the CS views import it from here


def account_or_404(account_id: int) -> Account:
    return get_scoped_or_404(current_user, Account, account_id)


def first_error(exc: ServiceError) -> str:
    return next(iter(exc.errors.values()), "Não foi possível concluir.")
