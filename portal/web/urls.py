from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """Absolute link for messages, built from PORTAL_BASE_URL — works in requests and in workers alike."""
    path = current_app.url_map.bind("portal.local", script_name="/").build(endpoint, values)
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path
