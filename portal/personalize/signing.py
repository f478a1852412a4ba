"""PAdES signatures with pyHanko: the company's certificate (a self-signed one generated on first use
under instance/signing/, or a configured A1 .pfx: SIGNING_PFX_PATH / SIGNING_PFX_PASSWORD), signing a PDF,
and verifying one for /verificar (trusting the .pfx chain and, for contracts signed before it was
configured, the self-signed certificate if one was ever generated)."""
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


def _pfx() -> tuple[str, bytes | None] | None:
    path = current_app.config.get("SIGNING_PFX_PATH") or ""
    if not path:
        return None
    password = current_app.config.get("SIGNING_PFX_PASSWORD") or ""
    return path, (password.encode() if password else None)


def _load_signer():
    from pyhanko.sign import signers
    pfx = _pfx()
    if pfx is not None:
        signer = signers.SimpleSigner.load_pkcs12(pfx[0], passphrase=pfx[1])
        if signer is None:  # pyHanko logs the reason and answers None (wrong password, unreadable file)
            raise RuntimeError(f"Não foi possível abrir o certificado {pfx[0]} (arquivo ou senha).")
        return signer
    key_path, cert_path = ensure_certificate()
    return signers.SimpleSigner.load(key_path, cert_path)


def trust_roots() -> list:
    """Certificates /verificar trusts: every certificate in the configured .pfx (its chain) and the
    self-signed company certificate when it exists (or when no .pfx is configured)."""
    from asn1crypto import pem, x509 as asn1_x509
    roots = []
    pfx = _pfx()
    if pfx is not None:
        from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
        with open(pfx[0], "rb") as fh:
            bundle = pkcs12.load_pkcs12(fh.read(), pfx[1])
        chain = ([bundle.cert.certificate] if bundle.cert else []) + [c.certificate for c in bundle.additional_certs]
        roots += [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in chain]
        cert_path = os.path.join(_folder(), "company-cert.pem")
        if not os.path.isfile(cert_path):
            return roots
    else:
        _, cert_path = ensure_certificate()
    with open(cert_path, "rb") as fh:
        _, _, der = pem.unarmor(fh.read())
    return roots + [asn1_x509.Certificate.load(der)]


def sign_pdf(data: bytes, field_name: str = FIELD) -> bytes:
    """The PDF signed as PAdES B-B with the company certificate (incremental update)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    signer = _load_signer()
    meta = signers.PdfSignatureMetadata(field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256")
    out = io.BytesIO()
    _without_event_loop(lambda: signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer,
                                                 output=out))
    return out.getvalue()


def verify_pdf(data: bytes) -> dict:
    """What /verificar answers: signed at all, each signature intact and trusted (our certificate), hash."""
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
    context = ValidationContext(trust_roots=trust_roots(), allow_fetching=False)
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
