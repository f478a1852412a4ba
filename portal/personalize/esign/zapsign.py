"""ZapSign adapter (provider "zapsign"): the contract is signed on ZapSign's pages, the portal follows it by
webhook (with a polling fallback) and stores the signed PDF once.

Settings: ZAPSIGN_BASE_URL (https://api.zapsign.com.br, or the sandbox), ZAPSIGN_TOKEN (the account's API
token) and ZAPSIGN_WEBHOOK_SECRET. Webhooks carry no signature of their own, but ZapSign lets the account add
custom headers to its webhook: configure `X-Portal-Webhook-Secret: <ZAPSIGN_WEBHOOK_SECRET>` and point it at
POST {PORTAL_BASE_URL}/webhooks/assinatura/zapsign. Without the secret every webhook is refused.

API shapes relied on (https://docs.zapsign.com.br):
- Auth: `Authorization: Bearer <api token>`; JSON in and out (/documentos/criar-documento).
- Create: POST /api/v1/docs/ {name, base64_pdf (no data: prefix), lang, external_id, signature_order_active,
  signers: [{name, email, phone_country, phone_number, auth_mode, send_automatic_email, external_id,
  order_group, lock_name/lock_email/lock_phone, cpf + require_cpf}]} → {token, status "pending",
  signers: [{token, sign_url, status "new", ...}]} (/documentos/criar-documento).
- Detail: GET /api/v1/docs/{token}/ → {token, status pending|signed|refused, signed_file (temporary URL,
  60 minutes), rejected_reason, signers: [{token, external_id, status, signed_at}]}
  (/documentos/detalhar-documento).
- Cancel: POST /api/v1/refuse/ {doc_token, rejected_reason}; needs a User-Agent header
  (/english/documentos/cancel-document).
- Webhooks: POST JSON with `event_type` (doc_signed on every signer's signature — the document-level
  `status` says whether all signed —, doc_refused with `rejected_reason`, doc_deleted, ...) and the same
  document body as Detail (/webhooks/eventos, /webhooks/eventos/document/documento-assinado,
  /documento-recusado); custom headers per webhook (/webhooks/criar-webhook).
The signed file is always fetched through Detail (its link is fresh, the webhook's may have expired).
"""
import base64
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from sqlalchemy import select

from portal.errors import ServiceError
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.jobs import periodic
from portal.personalize.esign import services as esign
from portal.personalize.esign.base import PROVIDERS, CallbackRejected, SignatureProvider, register_provider
from portal.personalize.esign.models import OPEN_STATUSES, Envelope

SECRET_HEADER = "X-Portal-Webhook-Secret"
SIGN_URL = "https://app.zapsign.com.br/verificar/{token}"
MAX_PDF_BYTES = 30 * 1024 * 1024
_REFUSED = ("refused", "recusado", "rejected")


def _error(message: str) -> ServiceError:
    return ServiceError({"contract": message})


def _detail(exc: urllib.error.HTTPError) -> str:
    text = exc.read().decode(errors="replace")[:500]
    try:
        body = json.loads(text)
        if isinstance(body, dict):
            text = str(body.get("detail") or body.get("message") or body.get("error") or body)
    except ValueError:
        pass
    return " ".join(text.split())[:200]


def _phone(phone: str | None) -> tuple[str, str]:
    if not phone:
        return "", ""
    try:
        number = phonenumbers.parse(phone, "BR")
    except phonenumbers.NumberParseException:
        return "", ""
    return str(number.country_code), str(number.national_number)


def _cpf(cpf: str | None) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}" if cpf and len(cpf) == 11 else ""


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


class ZapSign(SignatureProvider):
    name, label = "zapsign", "ZapSign"

    # --- HTTP -----------------------------------------------------------------------------------------
    def _open(self, req: urllib.request.Request, what: str) -> bytes:
        try:
            with urllib.request.urlopen(req, timeout=current_app.config["HTTP_TIMEOUT"]) as resp:
                data = resp.read(MAX_PDF_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise _error(f"O ZapSign recusou {what} (HTTP {exc.code}): {_detail(exc)}") from exc
        except (OSError, urllib.error.URLError) as exc:
            raise _error(f"Não foi possível falar com o ZapSign para {what}: {exc}") from exc
        if len(data) > MAX_PDF_BYTES:
            raise _error(f"A resposta do ZapSign para {what} passou do tamanho máximo.")
        return data

    def _call(self, method: str, path: str, what: str, payload: dict | None = None) -> dict:
        cfg = current_app.config
        base, token = (cfg.get("ZAPSIGN_BASE_URL") or "").rstrip("/"), cfg.get("ZAPSIGN_TOKEN") or ""
        if not base or not token:
            raise _error("O ZapSign não está configurado (ZAPSIGN_BASE_URL e ZAPSIGN_TOKEN).")
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        req = urllib.request.Request(f"{base}{path}", data=body, method=method, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json",
            "User-Agent": "Portal/1.0 (+assinatura de contratos)"})
        text = self._open(req, what)
        try:
            answer = json.loads(text or b"{}")
        except ValueError:
            raise _error(f"O ZapSign respondeu algo que não é JSON para {what}.") from None
        if not isinstance(answer, dict):
            raise _error(f"Resposta inesperada do ZapSign para {what}.")
        return answer

    def document(self, envelope) -> dict:
        return self._call("GET", f"/api/v1/docs/{envelope.external_id}/", "a consulta do documento")

    # --- SignatureProvider ----------------------------------------------------------------------------
    def _signer_payload(self, signer) -> dict:
        country, number = _phone(signer.phone)
        item = {"name": signer.name, "email": signer.email or "", "phone_country": country, "phone_number": number,
                "auth_mode": "assinaturaTela-tokenEmail" if signer.email else "assinaturaTela",
                "send_automatic_email": bool(signer.email), "external_id": str(signer.id),
                "order_group": 2 if signer.role == "staff" else 1,
                "lock_name": True, "lock_email": bool(signer.email), "lock_phone": bool(number)}
        if signer.cpf:
            item.update(cpf=_cpf(signer.cpf), require_cpf=True)
        return item

    def create_envelope(self, envelope, pdf: bytes) -> None:
        selection = envelope.selection
        unit = selection.unit if selection is not None else None
        title = f"Contrato de personalização — {unit.development.name} — {unit.label}" if unit else "Contrato"
        payload = {"name": title[:255], "base64_pdf": base64.b64encode(pdf).decode("ascii"), "lang": "pt-br",
                   "external_id": f"envelope-{envelope.id}", "signature_order_active": True,
                   "signers": [self._signer_payload(s) for s in envelope.signers]}
        answer = self._call("POST", "/api/v1/docs/", "o envio do contrato", payload)
        remote = answer.get("signers") or []
        if not answer.get("token") or len(remote) != len(envelope.signers):
            raise _error("Resposta inesperada do ZapSign ao criar o documento (sem token ou signatários).")
        by_external = {str(r.get("external_id")): r for r in remote if r.get("external_id")}
        for signer, fallback in zip(envelope.signers, remote):
            item = by_external.get(str(signer.id), fallback)  # the answer lists signers in the order sent
            if not item.get("token"):
                raise _error("Resposta inesperada do ZapSign: signatário sem token.")
            signer.external_id = str(item["token"])[:100]
            signer.sign_url = (item.get("sign_url") or SIGN_URL.format(token=item["token"]))[:500]
        envelope.external_id = str(answer["token"])[:100]

    def statuses(self, envelope, document: dict) -> dict[int, str]:
        """Our signer.id → pending/signed/refused, from a document body (Detail answer or webhook)."""
        by_token = {s.external_id: s for s in envelope.signers if s.external_id}
        by_id = {str(s.id): s for s in envelope.signers}
        result = {}
        for item in document.get("signers") or []:
            signer = by_token.get(item.get("token")) or by_id.get(str(item.get("external_id") or ""))
            if signer is None:
                continue
            status = str(item.get("status") or "").lower()
            result[signer.id] = "signed" if status == "signed" else "refused" if status in _REFUSED else "pending"
        return result

    def signer_status(self, envelope) -> dict[int, str]:
        return self.statuses(envelope, self.document(envelope))

    def download_signed(self, envelope) -> bytes:
        document = self.document(envelope)
        url = document.get("signed_file")
        if str(document.get("status")).lower() != "signed" or not url:
            raise _error("O ZapSign ainda não tem o documento assinado.")
        # a pre-signed storage link: no API token goes with it
        pdf = self._open(urllib.request.Request(url, headers={"User-Agent": "Portal/1.0"}), "o download do PDF assinado")
        if not pdf.startswith(b"%PDF"):
            raise _error("O arquivo assinado baixado do ZapSign não é um PDF.")
        return pdf

    def cancel(self, envelope, reason: str) -> None:
        if envelope.external_id:
            self._call("POST", "/api/v1/refuse/", "o cancelamento do documento",
                       {"doc_token": envelope.external_id, "rejected_reason": (reason or "Cancelado")[:255]})

    def handle_callback(self, request):
        secret = current_app.config.get("ZAPSIGN_WEBHOOK_SECRET") or ""
        given = request.headers.get(SECRET_HEADER) or ""
        if not secret:
            raise CallbackRejected(401, "Webhook do ZapSign não configurado (ZAPSIGN_WEBHOOK_SECRET).")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise CallbackRejected(401, "Segredo do webhook inválido.")
        try:
            body = json.loads(request.get_data(cache=False) or b"")
        except ValueError:
            raise CallbackRejected(400, "Corpo do webhook não é JSON.") from None
        if not isinstance(body, dict) or not body.get("token"):
            raise CallbackRejected(400, "Webhook sem o token do documento.")
        envelope = db.session.execute(select(Envelope).where(Envelope.provider == self.name,
                                                             Envelope.external_id == str(body["token"]))
                                      .with_for_update()).scalar_one_or_none()
        if envelope is None:
            raise CallbackRejected(404, "Documento desconhecido.")
        event = str(body.get("event_type") or "")
        if event == "doc_refused" or str(body.get("status") or "").lower() in _REFUSED:
            apply(envelope, self, self.statuses(envelope, body), refused=True, reason=body.get("rejected_reason"))
        elif event == "doc_signed":
            apply(envelope, self, self.statuses(envelope, body), times=self._times(envelope, body))
        return envelope  # other events (created, viewed, ...) change nothing

    def _times(self, envelope, document) -> dict[int, datetime]:
        by_token = {s.external_id: s.id for s in envelope.signers if s.external_id}
        return {by_token[i["token"]]: t for i in document.get("signers") or []
                if i.get("token") in by_token and (t := _when(i.get("signed_at")))}


def apply(envelope, provider, statuses: dict[int, str], *, refused: bool = False, reason: str | None = None,
          times: dict[int, datetime] | None = None) -> bool:
    """Bring an open envelope to what the service reports; when everyone signed, store the signed PDF (once).
    A closed envelope (signed, refused, cancelled here) is left as it is. Returns whether anything changed."""
    if not envelope.is_open:
        return False
    changed = False
    for signer in envelope.signers:
        if statuses.get(signer.id) == "signed" and signer.status == "pending":
            at = (times or {}).get(signer.id)
            esign.record_signature(signer, in_order=False, channel=provider.name[:10],
                                   at=at if at and at <= utcnow() else None)
            changed = True
    pending = [s for s in envelope.signers if s.status == "pending"]
    refuser = next((s for s in pending if statuses.get(s.id) == "refused"), None)
    if refuser is not None or (refused and pending):
        signer = refuser or pending[0]
        esign.refuse(signer, str(reason or "").strip() or f"Recusado no {provider.label}.")
        return True
    if esign.all_signed(envelope):
        esign.finish(envelope, provider.download_signed(envelope))
        changed = True
    return changed


@periodic(every=timedelta(minutes=15))
def poll_remote_envelopes() -> int:
    """Fallback for lost webhooks: ask each remote provider how its open envelopes stand and apply it."""
    ids = db.session.execute(select(Envelope.id).where(Envelope.status.in_(OPEN_STATUSES),
                                                       Envelope.provider != "builtin",
                                                       Envelope.external_id.is_not(None))
                             .order_by(Envelope.id)).scalars().all()
    changed = 0
    for envelope_id in ids:
        envelope = db.session.get(Envelope, envelope_id)
        provider = PROVIDERS.get(envelope.provider) if envelope else None
        if provider is None or not envelope.is_open:
            continue
        try:
            if isinstance(provider, ZapSign):
                document = provider.document(envelope)
                is_refused = str(document.get("status") or "").lower() in _REFUSED
                done = apply(envelope, provider, provider.statuses(envelope, document), refused=is_refused,
                             reason=document.get("rejected_reason"), times=provider._times(envelope, document))
            else:
                done = apply(envelope, provider, provider.signer_status(envelope))
            db.session.commit()
            changed += int(done)
        except (ServiceError, NotImplementedError):
            db.session.rollback()
            current_app.logger.warning("polling envelope %s at %s failed", envelope_id, provider.name, exc_info=True)
    return changed


register_provider(ZapSign())
