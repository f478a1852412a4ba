"""Channel adapters: e-mail over SMTP, SMS/WhatsApp over a JSON HTTP API, webhooks.

With no server configured a channel writes the message to instance/outbox/ instead, so nothing
is ever dropped silently. Every adapter returns a provider id or raises ChannelError.

Every adapter sends the same key on every attempt of one delivery (the e-mail's Message-ID, the
SMS/WhatsApp `reference`, the webhook's Idempotency-Key), so a provider that honours it drops a
resend after a worker died mid-send; `resend_is_safe` says where that may be relied on.
"""
import hashlib
import hmac
import json
import mimetypes
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import current_app


class ChannelError(Exception):
    """A delivery attempt failed; the message says why, for the delivery row and the admin."""


def _outbox_path(delivery, ext: str) -> str:
    folder = current_app.config["OUTBOX_DIR"]
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{delivery.id:08d}-{delivery.channel}.{ext}")


def message_id(delivery) -> str:
    """The same on every attempt (make_msgid adds time and randomness), so the receiving side can
    drop the copy a resend makes; the key's hash keeps ids apart across databases."""
    digest = hashlib.sha256(delivery.idempotency_key.encode()).hexdigest()[:16]
    domain = parseaddr(current_app.config["MAIL_SENDER"])[1].rpartition("@")[2] or "portal.local"
    return f"<delivery-{delivery.id}.{digest}@{domain}>"


def _writes_to_outbox(channel: str) -> bool:
    cfg = current_app.config
    return not {"email": cfg["MAIL_SERVER"], "sms": cfg["SMS_API_URL"],
                "whatsapp": cfg["WHATSAPP_API_URL"]}.get(channel, "-")


def resend_is_safe(delivery) -> bool:
    """Whether an attempt cut short (worker killed) may be repeated without asking anyone: the outbox
    rewrites the same file; a provider in DELIVERY_RESEND_SAFE_CHANNELS drops a duplicate key."""
    return _writes_to_outbox(delivery.channel) or delivery.channel in current_app.config["DELIVERY_RESEND_SAFE_CHANNELS"]


def build_email(delivery) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = formataddr((delivery.recipient_name or "", delivery.recipient))
    msg["Subject"] = delivery.subject or ""
    msg["Message-ID"] = message_id(delivery)
    msg["X-Portal-Delivery"] = str(delivery.id)
    msg.set_content(delivery.body or "")
    if delivery.html:
        msg.add_alternative(delivery.html, subtype="html")
    for att in delivery.attachments or []:
        ctype = att.get("mimetype") or mimetypes.guess_type(att["filename"])[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        with open(att["path"], "rb") as fh:
            msg.add_attachment(fh.read(), maintype=maintype, subtype=subtype, filename=att["filename"])
    return msg


def send_email(delivery) -> str:
    cfg = current_app.config
    msg = build_email(delivery)
    if not cfg["MAIL_SERVER"]:
        path = _outbox_path(delivery, "eml")
        with open(path, "wb") as fh:
            fh.write(bytes(msg))
        return f"outbox:{os.path.basename(path)}"
    try:
        if cfg["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"],
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
        with smtp:
            if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise ChannelError(f"SMTP {cfg['MAIL_SERVER']}:{cfg['MAIL_PORT']}: {exc.__class__.__name__}: {exc}") from exc
    return msg["Message-ID"]


def post_json(url: str, payload: dict, headers: dict | None = None, raw_body: bytes | None = None) -> dict:
    """POST JSON and return the decoded answer; any non-2xx or network error is a ChannelError."""
    body = raw_body if raw_body is not None else json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=current_app.config["HTTP_TIMEOUT"]) as resp:
            text = resp.read().decode() or "{}"
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise ChannelError(f"HTTP {exc.code} de {url}: {detail}") from exc
    except (OSError, urllib.error.URLError) as exc:
        raise ChannelError(f"Falha de conexão com {url}: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError:
        return {"raw": text[:300]}


class HttpMessagingAdapter:
    """Generic JSON-over-HTTP SMS/WhatsApp provider: POST {to, message, sender} with a bearer token;
    the answer's `id` (or `message_id`) is the provider id."""

    def __init__(self, channel: str):
        self.channel = channel
        prefix = "SMS" if channel == "sms" else "WHATSAPP"
        self.url = current_app.config[f"{prefix}_API_URL"]
        self.token = current_app.config[f"{prefix}_API_TOKEN"]

    def send(self, delivery) -> str:
        payload = {"to": delivery.recipient, "message": delivery.body, "channel": self.channel,
                   "sender": current_app.config.get("SMS_SENDER") or None, "reference": delivery.idempotency_key}
        if not self.url:
            path = _outbox_path(delivery, "json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False, indent=2)
            return f"outbox:{os.path.basename(path)}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = post_json(self.url, payload, headers)
        return str(answer.get("id") or answer.get("message_id") or "")


def send_webhook(delivery) -> str:
    """Outgoing webhook: the body is the JSON document; signed with HMAC-SHA256 when a secret is set."""
    body = (delivery.body or "{}").encode()
    headers = {"X-Portal-Delivery": str(delivery.id), "Idempotency-Key": delivery.idempotency_key}
    secret = current_app.config.get("WEBHOOK_SECRET") or ""
    if secret:
        headers["X-Portal-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    answer = post_json(delivery.recipient, {}, headers, raw_body=body)
    return str(answer.get("id") or "")


def send(delivery) -> str:
    if delivery.channel == "email":
        return send_email(delivery)
    if delivery.channel in ("sms", "whatsapp"):
        return HttpMessagingAdapter(delivery.channel).send(delivery)
    if delivery.channel == "webhook":
        return send_webhook(delivery)
    raise ChannelError(f"Canal desconhecido: {delivery.channel}")
