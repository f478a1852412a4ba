"""The built-in signature provider end to end over HTTP: one-time codes read from the real SMTP server,
lock after 5 wrong codes, buyers then staff, the sealed final PDF with its evidence page, /verificar,
scope, the reminder rule and an A1 .pfx certificate."""
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.accounts.models import AuditLog
from portal.automation.models import Delivery, Event, Rule
from portal.extensions import db
from portal.personalize import signing
from portal.personalize.esign import services as esign
from portal.personalize.esign.models import Envelope
from portal.personalize.services import buyers, contracts
from tests.conftest import login
from tests.personalize.conftest import NOW
from tests.personalize.test_contracts import _submitted

CODE_RE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def contract(world, run_jobs):
    contracts.save_template(world["dev"], contracts.DEFAULT_TEMPLATE, world["staff"])
    db.session.commit()
    sel = _submitted(world)
    contracts.choose_payment(sel, "pix", 1, world["a"])
    db.session.commit()
    run_jobs()
    return contracts.current_contract(sel.id)


@pytest.fixture
def as_user(client):
    """Switch the one test client to `user` (the app context, and Flask-Login's g, are shared)."""
    def switch(user):
        client.post("/logout")
        login(client, user.email)
        return client
    return switch


def _base(world):
    return f"/personalizacao/unidades/{world['units'][0].id}"


def _send(world, contract, as_user):
    r = as_user(world["staff"]).post(_base(world) + "/assinatura/enviar")
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    return db.session.execute(select(Envelope)).scalar_one()


def _code(smtp, run_jobs, to) -> str:
    """Run the queued deliveries and read the newest code sent to `to` from the real SMTP server."""
    run_jobs()
    mails = [m for m in smtp.messages if to in m["to"] and "Código de assinatura" in m["message"]["Subject"]]
    assert mails, [m["message"]["Subject"] for m in smtp.messages]
    return CODE_RE.search(mails[-1]["message"].get_content()).group(1)


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** 6:06d}"


def _sign(client, base, code, accept=True):
    return client.post(base + "/assinar", data={"code": code, **({"accept": "1"} if accept else {})},
                       headers={"User-Agent": "Mozilla/5.0 (Teste) Chromium"})


def test_five_wrong_codes_lock_the_signer_and_a_correct_sixth_is_refused(world, contract, as_user, smtp_server,
                                                                         run_jobs, frozen):
    envelope = _send(world, contract, as_user)
    buyer, base = as_user(world["a"]), _base(world)
    r = buyer.post(base + "/assinar/codigo", data={"channel": "email"})
    assert r.status_code == 302, re.findall(r'role="alert">([^<]+)', r.get_data(as_text=True))
    code = _code(smtp_server, run_jobs, world["a"].email)
    signer = envelope.signers[0]
    assert signer.otp_hash and code not in signer.otp_hash  # stored as a keyed hash only
    for attempt in range(1, 6):
        r = _sign(buyer, base, _other(code))
        assert r.status_code == 422
    assert "bloqueada" in r.get_data(as_text=True) and "Entre em contato" in r.get_data(as_text=True)
    db.session.expire_all()
    signer = db.session.get(Envelope, envelope.id).signers[0]
    assert signer.locked_at is not None and signer.failed_attempts == 5 and signer.status == "pending"
    r = _sign(buyer, base, code)  # the right code no longer helps
    assert r.status_code == 422 and "bloqueada" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Envelope, envelope.id).signers[0].status == "pending"
    actions = db.session.execute(select(AuditLog.action).where(AuditLog.object_type == "Envelope")).scalars().all()
    assert actions.count("contract.otp_failed") == 5 and "contract.signer_locked" in actions
    events = db.session.execute(select(Event.type).where(Event.subject_type == "envelope")).scalars().all()
    assert "contract.signer_locked" in events
    staff = as_user(world["staff"])
    assert "Bloqueado" in staff.get(base + "/contrato").get_data(as_text=True)
    assert "Signatário bloqueado" in staff.get(base).get_data(as_text=True)  # on the unit's timeline
    # staff unlock (audited); the buyer asks for a new code and signs
    assert staff.post(base + f"/assinatura/signatarios/{signer.id}/desbloquear").status_code == 302
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "contract.signer_unlocked")).scalar()
    frozen.shift(timedelta(minutes=2))
    buyer = as_user(world["a"])
    assert buyer.post(base + "/assinar/codigo", data={"channel": "email"}).status_code == 302
    assert _sign(buyer, base, _code(smtp_server, run_jobs, world["a"].email)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Envelope, envelope.id).signers[0].status == "signed"


def test_code_needs_acceptance_expires_and_resend_waits(world, contract, as_user, smtp_server, run_jobs, frozen):
    _send(world, contract, as_user)
    buyer, base = as_user(world["a"]), _base(world)
    buyer.post(base + "/assinar/codigo", data={"channel": "email"})
    code = _code(smtp_server, run_jobs, world["a"].email)
    r = buyer.post(base + "/assinar/codigo", data={"channel": "email"})
    assert r.status_code == 422 and "Aguarde um minuto" in r.get_data(as_text=True)
    r = _sign(buyer, base, code, accept=False)
    assert r.status_code == 422 and "concorda" in r.get_data(as_text=True)
    assert buyer.post(base + "/assinar/codigo", data={"channel": "whatsapp"}).status_code == 422
    frozen.shift(timedelta(minutes=11))
    r = _sign(buyer, base, code)
    assert r.status_code == 422 and "expirou" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(select(Envelope)).scalar_one().signers[0].failed_attempts == 0


def test_buyers_then_staff_sign_and_the_sealed_pdf_carries_the_evidence(world, contract, as_user, smtp_server,
                                                                       run_jobs, client):
    unit = world["units"][0]
    co, _ = buyers.register_buyer({"name": "Carlos Cocomprador", "email": "carlos@exemplo.com.br",
                                   "phone": "(11) 98888-0003", "cpf": "390.533.447-05"}, [unit])
    co.set_password("segredo123")
    db.session.commit()
    contracts.request_contract(contract.selection)  # the co-buyer goes into a new contract
    db.session.commit()
    run_jobs()
    contract = contracts.current_contract(contract.selection_id)
    envelope = _send(world, contract, as_user)
    assert [s.role for s in envelope.signers] == ["buyer", "buyer", "staff"]
    run_jobs()
    invited = {to for m in smtp_server.messages for to in m["to"] if "para assinar" in m["message"]["Subject"]}
    assert invited == {world["a"].email, co.email}  # buyers now, staff later
    base = _base(world)
    r = as_user(world["staff"]).post(base + "/assinar/codigo", data={"channel": "email"})
    assert r.status_code == 422 and "depois de todos os compradores" in r.get_data(as_text=True)
    for person in (world["a"], co):
        c = as_user(person)
        assert "Assinar contrato" in c.get(base + "/contrato").get_data(as_text=True)
        assert c.post(base + "/assinar/codigo", data={"channel": "email"}).status_code == 302
        assert _sign(c, base, _code(smtp_server, run_jobs, person.email)).status_code == 302
    run_jobs()
    assert any(world["staff"].email in m["to"] and "para assinar" in m["message"]["Subject"]
               for m in smtp_server.messages)  # staff are told when the buyers are done
    staff = as_user(world["staff"])
    assert staff.post(base + "/assinar/codigo", data={"channel": "email"}).status_code == 302
    assert _sign(staff, base, _code(smtp_server, run_jobs, world["staff"].email)).status_code == 302
    run_jobs()  # the final document is built by the worker
    envelope = db.session.get(Envelope, envelope.id)
    assert envelope.status == "signed" and envelope.signed_sha256
    with open(esign.signed_file(envelope), "rb") as fh:
        final = fh.read()
    assert signing.verify_pdf(final)["valid"] is True
    pages = PdfReader(io.BytesIO(final)).pages
    with open(contracts.contract_file(contract), "rb") as fh:
        assert len(pages) == len(PdfReader(fh).pages) + 1
    evidence = pages[-1].extract_text()
    flat = re.sub(r"\s+", "", evidence)
    for text in ("Ana Compradora", "529.982.247-25", "Carlos Cocomprador", "390.533.447-05", "127.0.0.1",
                 "E-mail", "Patrícia Personalização", "America/Sao_Paulo", "UTC", "Chromium"):
        assert text in evidence, text
    assert contract.sha256 in flat and f"Envelope{envelope.id}" in flat
    # the buyer downloads it; a tampered copy fails /verificar
    r = as_user(world["a"]).get(base + "/contrato-assinado.pdf")
    assert r.status_code == 200 and r.data == final
    tampered = bytearray(final)
    tampered[300] = (tampered[300] + 1) % 256
    client.post("/logout")
    r = client.post("/personalizacao/verificar", data={"pdf": (io.BytesIO(bytes(tampered)), "c.pdf")},
                    content_type="multipart/form-data")
    assert "Assinatura inválida" in r.get_data(as_text=True)
    r = client.post("/personalizacao/verificar", data={"pdf": (io.BytesIO(final), "c.pdf")},
                    content_type="multipart/form-data")
    assert "Assinatura válida" in r.get_data(as_text=True)
    history = as_user(world["staff"]).get(base).get_data(as_text=True)  # every state change on the unit's timeline
    signatures = [f"Assinado por {s.name}" for s in envelope.signers]  # the company's too
    for title in ["Contrato enviado para assinatura", *signatures, "Contrato assinado"]:
        assert title in history


def test_other_buyer_gets_404(world, contract, as_user):
    _send(world, contract, as_user)
    other, base = as_user(world["b"]), _base(world)
    assert other.get(base + "/assinar").status_code == 404
    assert other.post(base + "/assinar/codigo", data={"channel": "email"}).status_code == 404
    assert _sign(other, base, "123456").status_code == 404
    assert other.get(base + "/contrato-assinado.pdf").status_code == 404
    assert other.post(base + "/assinatura/enviar").status_code in (403, 404)


def test_staff_send_needs_payment_cancel_needs_a_reason(world, contract, as_user):
    staff, base = as_user(world["staff"]), _base(world)
    assert "Enviar para assinatura" in staff.get(base + "/contrato").get_data(as_text=True)
    envelope = _send(world, contract, as_user)
    r = as_user(world["a"]).post(base + "/pagamento", data={"method": "boleto", "installments": "2"})
    assert r.status_code == 422 and "em assinatura" in r.get_data(as_text=True)  # the envelope stays
    staff = as_user(world["staff"])
    r = staff.post(base + "/assinatura/cancelar", data={"reason": " "})
    assert r.status_code == 422 and "motivo" in r.get_data(as_text=True)
    assert staff.post(base + "/assinatura/reenviar").status_code == 302
    assert staff.post(base + "/assinatura/cancelar", data={"reason": "Erro no valor"}).status_code == 302
    db.session.expire_all()
    envelope = db.session.get(Envelope, envelope.id)
    assert envelope.status == "cancelled" and envelope.status_reason == "Erro no valor"
    assert "Assinatura cancelada" in staff.get(base).get_data(as_text=True)


def test_reminder_rule_is_seeded_and_reminds_the_next_signer(world, contract, as_user, frozen, run_jobs):
    from portal.automation.engine import sweep_due
    envelope = _send(world, contract, as_user)
    rule = db.session.execute(select(Rule).where(Rule.subject_type == "envelope")).scalar_one()
    assert rule.trigger == "time" and rule.repeat_every_days == 2
    frozen.move_to(NOW + timedelta(days=2, minutes=5))
    sweep_due()
    reminders = db.session.execute(select(Delivery).where(Delivery.rule_id == rule.id)).scalars().all()
    assert [d.recipient for d in reminders] == [world["a"].email] and "/contrato" in reminders[0].body
    envelope = db.session.get(Envelope, envelope.id)
    esign.cancel(envelope, "Teste")
    db.session.commit()
    frozen.move_to(NOW + timedelta(days=4, minutes=10))
    sweep_due()
    assert len(db.session.execute(select(Delivery).where(Delivery.rule_id == rule.id)).scalars().all()) == 1


def _pfx(tmp_path, password=b"senha-a1"):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID
    now = datetime.now(timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    ca_key, key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    usage = dict(key_encipherment=False, data_encipherment=False, key_agreement=False, crl_sign=False,
                 encipher_only=False, decipher_only=False)
    ca = (x509.CertificateBuilder().subject_name(name("AC Teste")).issuer_name(name("AC Teste"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=30)).add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_cert_sign=True,
                                       **{**usage, "crl_sign": True}), True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name("Construtora Teste A1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_cert_sign=False,
                                         **usage), True).sign(ca_key, hashes.SHA256()))
    path = tmp_path / "empresa.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"empresa", key, leaf, [ca],
                                                           BestAvailableEncryption(password)))
    return str(path), password.decode()


def test_configured_pfx_signs_and_verify_trusts_its_chain(app, tmp_path):
    from weasyprint import HTML
    path, password = _pfx(tmp_path)
    pdf = HTML(string="<h1>Contrato</h1>").write_pdf()
    with app.app_context():
        before = signing.sign_pdf(pdf)  # self-signed, as a contract sealed before the A1 was configured
        app.config.update(SIGNING_PFX_PATH=path, SIGNING_PFX_PASSWORD=password)
        try:
            result = signing.verify_pdf(signing.sign_pdf(pdf))
            assert result["valid"] is True and "Construtora Teste A1" in result["signatures"][0]["signer"]
            assert signing.verify_pdf(before)["valid"] is True
            app.config["SIGNING_PFX_PASSWORD"] = "errada"
            with pytest.raises(Exception):
                signing.sign_pdf(pdf)
        finally:
            app.config.update(SIGNING_PFX_PATH="", SIGNING_PFX_PASSWORD="")
