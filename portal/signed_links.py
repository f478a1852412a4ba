"""Links answered without login (NPS, satisfaction surveys, a buyer's unit-link invitation): the URL carries
only a random key signed with a per-purpose salt and a timestamp, never an account id or an e-mail, and it
stops working after its max age. Stateless on purpose: a resend re-signs the same key, so the link a
reminder carries counts its age from that send."""
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

DAY = 24 * 3600


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def dumps(salt: str, key: str) -> str:
    return _serializer(salt).dumps(key)


def loads(salt: str, token: str, max_age_seconds: int) -> tuple[str | None, bool]:
    """(key, expired): key None for a forged, altered or malformed token; expired True (key known) when the
    signature holds but the link is older than its max age."""
    serializer = _serializer(salt)
    try:
        key, expired = serializer.loads(token, max_age=max_age_seconds), False
    except SignatureExpired as exc:
        try:
            key, expired = serializer.load_payload(exc.payload), True
        except BadSignature:
            return None, False
    except (BadSignature, ValueError, TypeError):
        return None, False
    return (key, expired) if isinstance(key, str) else (None, False)


def survey_max_age() -> int:
    return current_app.config["SURVEY_LINK_MAX_AGE_DAYS"] * DAY
