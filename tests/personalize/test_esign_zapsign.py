"""The ZapSign adapter against a local fake ZapSign that speaks the documented shapes (see esign/zapsign.py):
document creation from a base64 PDF, webhooks authenticated by a shared-secret header, the signed file
fetched through the document detail, cancellation and the polling fallback."""
import base64
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from portal.errors import ServiceError
from portal.automation.models import Event
from portal.extensions import db
from portal.personalize.esign import services as esign
from portal.personalize.esign import zapsign
from portal.personalize.esign.models import Envelope
from portal.personalize.services import contracts, selections
from tests.personalize.test_esign_core import contract  # noqa: F401 - fixture

API_TOKEN, SECRET = "api-token-123", "segredo-do-webhook"
SIGNED_PDF = b"%PDF-1.7\n% assinado no ZapSign\n%%EOF\n"


class FakeZapSign:
    """One document at a time, as ZapSign answers it; tests move its signers' status by hand."""

    def __init__(self):
        self.requests, self.downloads = [], 0
        self.create_status, self.create_error = 200, {"detail": "Limite de documentos excedido."}
        self.doc = None
        self.file_statuses = []  # answered to the signed-file download first, then 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status, body, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "json": json.loads(raw) if raw else None})
                return owner.requests[-1]

            def do_POST(self):
                req = self._record()
                if self.headers.get("Authorization") != f"Bearer {API_TOKEN}":
                    return self._answer(401, {"detail": "Token inválido"})
                if self.path == "/api/v1/docs/":
                    if owner.create_status != 200:
                        return self._answer(owner.create_status, owner.create_error)
                    return self._answer(200, owner.create(req["json"]))
                if self.path == "/api/v1/refuse/":
                    owner.doc["status"] = "refused"
                    return self._answer(200, {"message": "ok"})
                self._answer(404, {"detail": "Not found"})

            def do_GET(self):
                self._record()
                if self.path == "/files/assinado.pdf":
                    if owner.file_statuses:
                        return self._answer(owner.file_statuses.pop(0), b"erro", "text/plain")
                    owner.downloads += 1
                    return self._answer(200, SIGNED_PDF, "application/pdf")
                if self.headers.get("Authorization") != f"Bearer {API_TOKEN}":
                    return self._answer(401, {"detail": "Token inválido"})
                if owner.doc and self.path == f"/api/v1/docs/{owner.doc['token']}/":
                    return self._answer(200, owner.doc)
                self._answer(404, {"detail": "Not found"})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def create(self, body):
        self.doc = {"open_id": 5, "token": "doc-eb9c367a", "status": "pending", "name": body["name"],
                    "external_id": body.get("external_id", ""), "signed_file": None, "rejected_reason": None,
                    "signers": [{"token": f"signer-{i}", "sign_url": f"https://app.zapsign.com.br/verificar/signer-{i}",
                                 "status": "new", "name": s["name"], "email": s.get("email", ""),
                                 "external_id": s.get("external_id", ""), "signed_at": None}
                                for i, s in enumerate(body["signers"])]}
        return self.doc

    def sign(self, *indexes):
        for i in indexes:
            self.doc["signers"][i].update(status="signed", signed_at="2026-03-02T12:30:00.000000Z")
        if all(s["status"] == "signed" for s in self.doc["signers"]):
            self.doc.update(status="signed", signed_file=f"{self.url}/files/assinado.pdf")

    def webhook(self, event="doc_signed", **extra):
        return {"event_type": event, **json.loads(json.dumps(self.doc)), **extra}


@pytest.fixture
def fake(app):
    server = FakeZapSign()
    keys = ("ZAPSIGN_BASE_URL", "ZAPSIGN_TOKEN", "ZAPSIGN_WEBHOOK_SECRET")
    old = {k: app.config.get(k) for k in keys}
    app.config.update(ZAPSIGN_BASE_URL=server.url, ZAPSIGN_TOKEN=API_TOKEN, ZAPSIGN_WEBHOOK_SECRET=SECRET)
    yield server
    app.config.update(old)
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def sent(world, contract, fake):  # noqa: F811
    envelope = esign.send_contract(contract, world["staff"], provider="zapsign")
    db.session.commit()
    folder = os.path.join(contracts.contracts_dir(), str(envelope.development_id))
    for name in os.listdir(folder):  # ids restart in every test: drop files an earlier test left
        if name.startswith("assinado-"):
            os.remove(os.path.join(folder, name))
    return envelope


def _post(client, payload, secret=SECRET, provider="zapsign"):
    headers = {zapsign.SECRET_HEADER: secret} if secret is not None else {}
    return client.post(f"/webhooks/assinatura/{provider}", json=payload, headers=headers)


def _events(envelope):
    return [e.type for e in db.session.execute(select(Event).where(Event.subject_type == "envelope",
                                                                   Event.subject_id == envelope.id)
                                               .order_by(Event.id)).scalars()]


def _signed_files(envelope):
    folder = os.path.join(contracts.contracts_dir(), str(envelope.development_id))
    return sorted(f for f in os.listdir(folder) if f.startswith(f"assinado-{envelope.id}-"))


def test_create_uploads_the_pdf_with_the_signers_and_keeps_their_tokens(world, contract, sent, fake):  # noqa: F811
    created = [r for r in fake.requests if r["path"] == "/api/v1/docs/"]
    assert len(created) == 1 and created[0]["headers"]["Authorization"] == f"Bearer {API_TOKEN}"
    body = created[0]["json"]
    with open(contracts.contract_file(contract), "rb") as fh:
        assert base64.b64decode(body["base64_pdf"]) == fh.read()
    ana = body["signers"][0]
    assert ana["name"] == "Ana Compradora" and ana["email"] == "ana@exemplo.com.br"
    assert (ana["phone_country"], ana["phone_number"]) == ("55", "11988880001")
    assert ana["cpf"] == "529.982.247-25" and ana["send_automatic_email"] is True
    assert body["signers"][-1]["name"] == world["staff"].name and body["signers"][-1]["order_group"] == 2
    assert [s["external_id"] for s in body["signers"]] == [str(s.id) for s in sent.signers]
    db.session.expire_all()
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "sent" and envelope.provider == "zapsign" and envelope.external_id == "doc-eb9c367a"
    assert [s.external_id for s in envelope.signers] == ["signer-0", "signer-1"]
    assert envelope.signers[0].sign_url == "https://app.zapsign.com.br/verificar/signer-0"


@pytest.mark.parametrize("secret", ["errado", "", None])
def test_a_webhook_without_the_right_secret_is_401_and_changes_nothing(client, sent, fake, secret):
    fake.sign(0, 1)
    response = _post(client, fake.webhook(), secret=secret)
    assert response.status_code == 401 and "error" in response.get_json()
    db.session.expire_all()
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "sent" and all(s.status == "pending" for s in envelope.signers)
    assert fake.downloads == 0 and _events(envelope) == ["contract.sent"]


def test_without_a_configured_secret_every_webhook_is_refused(app, client, sent, fake):
    app.config["ZAPSIGN_WEBHOOK_SECRET"] = ""
    fake.sign(0)
    assert _post(client, fake.webhook(), secret="").status_code == 401
    db.session.expire_all()
    assert db.session.get(Envelope, sent.id).status == "sent"


def test_signatures_then_the_signed_file_is_stored_once_however_often_the_webhook_comes(client, sent, fake):
    fake.sign(0)  # the buyer signs first
    response = _post(client, fake.webhook())
    assert response.status_code == 200 and response.get_json()["status"] == "partial"
    assert fake.downloads == 0
    fake.sign(1)  # then the company: the document is complete
    for _ in range(3):  # ZapSign retries; we may get it several times
        response = _post(client, fake.webhook())
        assert response.status_code == 200 and response.get_json()["status"] == "signed"
    db.session.expire_all()
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "signed" and all(s.status == "signed" for s in envelope.signers)
    assert envelope.signed_sha256 == hashlib.sha256(SIGNED_PDF).hexdigest()
    assert fake.downloads == 1 and len(_signed_files(envelope)) == 1
    with open(esign.signed_file(envelope), "rb") as fh:
        assert fh.read() == SIGNED_PDF
    assert envelope.signers[0].otp_channel == "zapsign"
    assert _events(envelope) == ["contract.sent", "contract.partially_signed", "contract.signed"]


def test_a_failed_download_changes_nothing_and_the_retried_webhook_completes(client, sent, fake):
    fake.sign(0, 1)
    fake.file_statuses = [503]
    response = _post(client, fake.webhook())
    assert response.status_code == 502 and "PDF assinado" in response.get_json()["error"]
    db.session.expire_all()
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "sent" and all(s.status == "pending" for s in envelope.signers)
    assert _events(envelope) == ["contract.sent"]
    assert _post(client, fake.webhook()).get_json()["status"] == "signed"
    db.session.expire_all()
    assert fake.downloads == 1 and len(_signed_files(db.session.get(Envelope, sent.id))) == 1


def test_a_refusal_closes_the_envelope_with_the_reason(client, sent, fake):
    fake.doc.update(status="refused", rejected_reason="Valor diferente do combinado")
    response = _post(client, fake.webhook("doc_refused"))
    assert response.status_code == 200 and response.get_json()["status"] == "refused"
    db.session.expire_all()
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "refused" and "Valor diferente do combinado" in envelope.status_reason
    assert _events(envelope)[-1] == "contract.refused"
    fake.sign(0, 1)  # a late signature webhook for a refused envelope changes nothing
    assert _post(client, fake.webhook()).status_code == 200
    db.session.expire_all()
    assert db.session.get(Envelope, sent.id).status == "refused" and fake.downloads == 0


def test_unknown_documents_providers_and_bad_bodies_are_rejected(client, sent, fake):
    fake.sign(0, 1)
    assert _post(client, fake.webhook(token="outro-documento")).status_code == 404
    assert _post(client, fake.webhook(), provider="docusign").status_code == 404
    bad = client.post("/webhooks/assinatura/zapsign", data=b"not json", content_type="application/json",
                      headers={zapsign.SECRET_HEADER: SECRET})
    assert bad.status_code == 400
    assert _post(client, {"event_type": "doc_signed"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Envelope, sent.id).status == "sent" and fake.downloads == 0


def test_an_api_error_on_create_is_a_service_error_and_no_envelope_is_kept(world, contract, fake):  # noqa: F811
    fake.create_status = 402
    with pytest.raises(ServiceError) as err:
        esign.send_contract(contract, world["staff"], provider="zapsign")
    message = err.value.errors["contract"]
    assert "ZapSign" in message and "402" in message and "Limite de documentos" in message
    db.session.rollback()  # what every view does with a ServiceError
    assert db.session.execute(select(func.count(Envelope.id))).scalar() == 0
    fake.server.shutdown()
    fake.server.server_close()  # unreachable service
    with pytest.raises(ServiceError) as err:
        esign.send_contract(contract, world["staff"], provider="zapsign")
    assert "Não foi possível falar com o ZapSign" in err.value.errors["contract"]
    db.session.rollback()
    assert db.session.execute(select(func.count(Envelope.id))).scalar() == 0


def test_polling_applies_signatures_when_no_webhook_came(sent, fake):
    assert zapsign.poll_remote_envelopes() == 0
    fake.sign(0)
    assert zapsign.poll_remote_envelopes() == 1
    db.session.expire_all()
    assert db.session.get(Envelope, sent.id).status == "partial"
    fake.sign(1)
    assert zapsign.poll_remote_envelopes() == 1
    assert zapsign.poll_remote_envelopes() == 0  # signed: no longer polled
    db.session.expire_all()
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "signed" and fake.downloads == 1 and len(_signed_files(envelope)) == 1
    assert _events(envelope) == ["contract.sent", "contract.partially_signed", "contract.signed"]


def test_polling_sees_a_refusal(sent, fake):
    fake.doc.update(status="refused", rejected_reason="Desisti da compra")
    assert zapsign.poll_remote_envelopes() == 1
    db.session.expire_all()
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "refused" and "Desisti da compra" in envelope.status_reason


def test_polling_survives_a_service_that_is_down(sent, fake):
    fake.server.shutdown()
    fake.server.server_close()
    assert zapsign.poll_remote_envelopes() == 0
    db.session.expire_all()
    assert db.session.get(Envelope, sent.id).status == "sent"


def test_reopening_the_selection_cancels_the_document_at_zapsign(world, sent, fake):
    selections.reopen(sent.selection, world["staff"], "Cliente pediu troca")
    db.session.commit()
    refused = [r for r in fake.requests if r["path"] == "/api/v1/refuse/"]
    envelope = db.session.get(Envelope, sent.id)
    assert envelope.status == "cancelled" and len(refused) == 1
    assert refused[0]["json"] == {"doc_token": "doc-eb9c367a", "rejected_reason": envelope.status_reason}
    assert refused[0]["headers"]["Authorization"] == f"Bearer {API_TOKEN}" and refused[0]["headers"]["User-Agent"]


def test_the_contract_page_shows_the_buyer_their_zapsign_button_and_staff_the_links(world, sent, client, login_as):
    page = f"/personalizacao/unidades/{sent.selection.unit_id}/contrato"
    login_as(world["a"])
    html = client.get(page).get_data(as_text=True)
    assert "Assinar no ZapSign" in html and "https://app.zapsign.com.br/verificar/signer-0" in html
    assert "signer-1" not in html  # not the company's link
    client.post("/logout")
    login_as(world["staff"])
    html = client.get(page).get_data(as_text=True)
    assert "Links de assinatura no ZapSign" in html and "signer-0" in html and "signer-1" in html
    assert "Assinar no ZapSign" in html  # the staff signer's own button
