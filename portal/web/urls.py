from flask import current_app, request


def external_url(endpoint: str, **values) -> str:
    """Absolute link for messages, built from PORTAL_BASE_URL — works in requests and in workers alike."""
    path = current_app.url_map.bind("portal.local", script_name="/").build(endpoint, values)
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path


def local_path(target) -> str | None:
    """`target` if it is a path on this site, else None. Browsers drop tabs and newlines and read a
    backslash as "/", so "/<tab>/x.com" or "/\\x.com" would leave the site: those are refused too."""
    target = str(target or "")
    if not target.startswith("/") or target.startswith("//") or any(ch in target for ch in "\\\t\r\n"):
        return None
    return target


def safe_next(default: str) -> str:
    """Where to go after a form: the request's `next` when it stays on this site, else `default`."""
    return local_path(request.values.get("next")) or default
