from flask import has_request_context, request
from flask_login import current_user

from portal.accounts.models import AuditLog
from portal.extensions import db


def audit(action: str, obj=None, *, object_type: str | None = None, object_id=None, user=None, **details):
    """Record who did what to which record, when and from where (same transaction as the change)."""
    if user is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        user = current_user
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        action=action,
        object_type=object_type or "-",
        object_id=str(object_id) if object_id is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details=details or None,
    )
    db.session.add(entry)
    return entry
