"""PAdES signatures with pyHanko: the company's certificate (a self-signed one generated on first use
under instance/signing/, or a configured A1 .pfx), signing a PDF, and verifying one for /verificar."""
import hashlib
import io
import os
from datetime import datetime, timedelta, timezone

from flask import current_app

FIELD = "AssinaturaEmpresa"


def _folder() -> str:
    folder = os.path.join(current_app.config["INSTANCE_DIR"], "signing")
    os.makedirs(folder, exist_ok=True)
    return folder


def ensure_certificate() -> tuple[str, str]:
    """(key path, cert path) of the self-signed company certificate, generated once (RSA-2048)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    folder = _folder()
    key_path, cert_path = os.path.join(folder, "company-key.pem"), os.path.join(folder, "company-cert.pem")
    if os.path.isfile(key_path) and os.path.isfile(cert_path):
        return key_path, cert_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, current_app.config.get("COMPANY_NAME") or "Portal"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Assinatura de contratos do portal")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    tmp_key, tmp_cert = key_path + ".tmp", cert_path + ".tmp"
    with open(tmp_key, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    os.chmod(tmp_key, 0o600)
    with open(tmp_cert, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp_key, key_path)
    os.replace(tmp_cert, cert_path)
    return key_path, cert_path


def _without_event_loop(fn, *args):
    """pyHanko's sync API calls asyncio.run(), which fails inside a running loop (an async server, or
    Playwright in the same process): run it on a short-lived thread that has no loop."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def sign_pdf(data: bytes, field_name: str = FIELD) -> bytes:
    """The PDF signed as PAdES B-B with the company certificate (incremental update)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    key_path, cert_path = ensure_certificate()
    signer = signers.SimpleSigner.load(key_path, cert_path)
    meta = signers.PdfSignatureMetadata(field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256")
    out = io.BytesIO()
    _without_event_loop(lambda: signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer,
                                                 output=out))
    return out.getvalue()


def verify_pdf(data: bytes) -> dict:
    """What /verificar answers: signed at all, each signature intact and trusted (our certificate), hash."""
    from asn1crypto import pem, x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    result = {"sha256": hashlib.sha256(data).hexdigest(), "signatures": [], "valid": False, "error": None}
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
    except Exception:  # not a PDF, or too damaged to read
        result["error"] = "O arquivo não é um PDF legível."
        return result
    if not embedded:
        result["error"] = "O PDF não tem assinatura digital."
        return result
    _, cert_path = ensure_certificate()
    with open(cert_path, "rb") as fh:
        _, _, der = pem.unarmor(fh.read())
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)
    for sig in embedded:
        try:
            status = _without_event_loop(validate_pdf_signature, sig, context)
            item = {"field": sig.field_name, "intact": bool(status.intact), "valid": bool(status.valid),
                    "trusted": bool(status.trusted), "signer": status.signing_cert.subject.human_friendly,
                    "covers_whole": status.coverage.name == "ENTIRE_FILE"}
        except Exception as exc:  # a broken signature is an invalid one, with the reason shown
            item = {"field": sig.field_name, "intact": False, "valid": False, "trusted": False, "signer": "",
                    "covers_whole": False, "error": str(exc)[:200]}
        result["signatures"].append(item)
    result["valid"] = all(s["intact"] and s["valid"] and s["trusted"] for s in result["signatures"]) and \
        result["signatures"][-1]["covers_whole"]
    return result
