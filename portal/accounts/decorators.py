from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles):
    """Login required, and the user's role among `roles` (admin always passes)."""
    def deco(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != "admin" and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return deco


STAFF = ("manager", "sdr", "broker", "csm", "cs_leader", "personalization")
staff_required = roles_required(*STAFF)
