"""PAdES with the company's self-signed certificate, and the public /verificar page."""
import io

from portal.personalize import signing


def _pdf() -> bytes:
    from weasyprint import HTML
    return HTML(string="<h1>Contrato</h1><p>Valor total: R$ 12.345,67</p>").write_pdf()


def test_signed_pdf_verifies_and_a_tampered_copy_does_not(app, client):
    with app.app_context():
        signed = signing.sign_pdf(_pdf())
        assert signing.verify_pdf(signed)["valid"] is True
    tampered = bytearray(signed)
    tampered[200] = (tampered[200] + 1) % 256  # one byte of the original document (inside the signed range)
    r = client.post("/personalizacao/verificar", data={"pdf": (io.BytesIO(signed), "contrato.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "Assinatura válida" in r.get_data(as_text=True)
    r = client.post("/personalizacao/verificar", data={"pdf": (io.BytesIO(bytes(tampered)), "contrato.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "Assinatura inválida" in r.get_data(as_text=True)


def test_verify_answers_unsigned_and_missing_files(app, client):
    r = client.post("/personalizacao/verificar", data={"pdf": (io.BytesIO(_pdf()), "x.pdf")},
                    content_type="multipart/form-data")
    assert "não tem assinatura digital" in r.get_data(as_text=True)
    assert client.post("/personalizacao/verificar", data={}).status_code == 422
    assert client.get("/personalizacao/verificar").status_code == 200


def test_certificate_is_generated_once(app):
    with app.app_context():
        first = signing.ensure_certificate()
        with open(first[1], "rb") as fh:
            pem = fh.read()
        assert signing.ensure_certificate() == first
        with open(first[1], "rb") as fh:
            assert fh.read() == pem
