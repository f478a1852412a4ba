"""Hostile content in PDFs (issue 15, item 1): a contract template saved by staff, a report row and a signer's
browser string must not make the worker read server files or call any URL. Every PDF goes through the one
renderer (portal.reports.pdf); it serves only the app's static files, uploaded photos by id and small
data: URLs. Each payload is checked in the PDF (text, attachments, every stream) and at a real local HTTP
server that records every request it gets."""
import ast
import base64
import io
import logging
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject

from portal import jobs
from portal.extensions import db
from portal.personalize.contracts import Contract
from portal.personalize.esign import builtin
from portal.personalize.esign import services as esign
from portal.personalize.esign.models import Envelope
from portal.personalize.services import contracts
from portal.personalize.services import photos as photo_service
from portal.reports import pdf
from tests.factories import make_development, make_user
from tests.personalize.conftest import NOW
from tests.personalize.test_esign_builtin import contract  # noqa: F401 - fixture: a rendered contract
from tests.personalize.test_contracts import _submitted
from tests.personalize.world import build_world

PORTAL = Path(__file__).resolve().parents[2] / "portal"
HTTP_CANARY = b"HTTP-CANARY-7f3a"


def _png(size=(40, 30), color=(200, 30, 30)) -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


class Hits:
    """A real HTTP server on 127.0.0.1 answering anything (a PNG, CSS or text): every request is recorded."""

    def __init__(self):
        self.paths = []
        hits = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                hits.paths.append(self.path)
                body, kind = ((_png(), "image/png") if self.path.endswith(".png") else
                              (b"body { color: red } /* " + HTTP_CANARY + b" */", "text/css")
                              if self.path.endswith(".css") else (HTTP_CANARY, "text/plain"))
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hits():
    server = Hits()
    yield server
    server.close()


@pytest.fixture
def secret_key_file(app):
    """instance/secret_key as a deployment without SECRET_KEY has it (the tests set SECRET_KEY, so the file
    may be missing: a canary stands in for it and goes away after the test)."""
    path = Path(app.config["INSTANCE_DIR"]) / "secret_key"
    created = not path.exists()
    if created:
        path.write_text("S1-SECRET-CANARY-" + os.urandom(8).hex())
        path.chmod(0o600)
    yield path
    if created:
        path.unlink()


@pytest.fixture
def world(app):
    """The personalization world (an open window), at its frozen instant for the whole test."""
    with time_machine.travel(NOW, tick=False):
        yield build_world(NOW)


def _objects(reader: PdfReader):
    ids = {(num, gen) for gen, table in reader.xref.items() for num in table} | {(n, 0) for n in reader.xref_objStm}
    for num, gen in sorted(ids):
        try:
            yield reader.get_object(IndirectObject(num, gen, reader))
        except Exception:  # a free or compressed slot pypdf cannot resolve is no content
            continue


def _pdf_content(data: bytes) -> bytes:
    """Everything a reader of the PDF can get at: page text, attachments (document and annotation level)
    and every decoded stream."""
    reader = PdfReader(io.BytesIO(data))
    parts = [page.extract_text().encode() for page in reader.pages]
    parts += [blob for blobs in reader.attachments.values() for blob in blobs]
    parts += [obj.get_data() for obj in _objects(reader) if isinstance(obj, StreamObject)]
    return b"\n".join(parts)


def _secrets(secret_key_file: Path) -> list[bytes]:
    return [secret_key_file.read_bytes().strip(), Path("/etc/passwd").read_bytes().splitlines()[0], HTTP_CANARY]


def _images(data: bytes) -> int:
    """Image objects in the whole document (its pages share them; the test images have no alpha mask)."""
    return sum(1 for obj in _objects(PdfReader(io.BytesIO(data)))
               if isinstance(obj, StreamObject) and obj.get("/Subtype") == "/Image")


def _contract_pdf(world, client, login_as, run_jobs, body: str) -> bytes:
    """Staff save the template through the contract page; the buyer submits; the worker's job renders."""
    login_as(world["staff"])
    r = client.post(f"/personalizacao/empreendimentos/{world['dev'].id}/contrato", data={"body": body,
                                                                                          "action": "save"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    db.session.expire_all()
    sel = _submitted(world)
    run_jobs()
    contract = db.session.get(Contract, contracts.current_contract(sel.id).id)
    assert contract.status == "rendered", contract.error
    with open(contracts.contract_file(contract), "rb") as fh:
        return fh.read()


def _refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == pdf.__name__ and r.levelno == logging.WARNING]


# A valid PNG (the old renderer embedded it) padded past the limit, still under the template's own size limit.
BIG_DATA_URL = "data:image/png;base64," + base64.b64encode(_png((900, 900)) + bytes(pdf.DATA_URL_MAX_CHARS)).decode()

# (name, HTML placed in the contract template, the URL that must be refused and named in the log)
PAYLOADS = [
    ("attachment-secret-key", '<a rel="attachment" href="file://{secret}">chave</a>', "file://{secret}"),
    ("link-attachment-secret-key", '<link rel="attachment" href="file://{secret}">', "file://{secret}"),
    ("img-etc-passwd", '<img src="file:///etc/passwd">', "file:///etc/passwd"),
    ("attachment-etc-passwd-relative", '<a rel="attachment" href="../../../../../../../../etc/passwd">x</a>',
     "/etc/passwd"),
    ("css-url-etc-passwd", '<p style="background: url(file:///etc/passwd)">x</p>', "file:///etc/passwd"),
    ("img-local-http", '<img src="{http}/x.png">', "{http}/x.png"),
    ("stylesheet-local-http", '<link rel="stylesheet" href="{http}/s.css">', "{http}/s.css"),
    ("css-import-local-http", '<style>@import url("{http}/i.css");</style>', "{http}/i.css"),
    ("attachment-local-http", '<a rel="attachment" href="{http}/doc.txt">doc</a>', "{http}/doc.txt"),
    ("svg-image-local-http", '<svg width="20" height="20"><image href="{http}/svg.png" width="20" height="20"/></svg>',
     "{http}/svg.png"),
    ("data-url-over-limit", f'<img src="{BIG_DATA_URL}">', "data:image/png;base64,"),
]


@pytest.mark.parametrize("name, html, refused", PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_contract_template_payload_reads_no_file_and_calls_no_url(name, html, refused, world, client, login_as,
                                                                  run_jobs, hits, secret_key_file, caplog):
    values = {"secret": secret_key_file, "http": hits.url}
    body = contracts.DEFAULT_TEMPLATE + html.format(**values)
    caplog.set_level(logging.WARNING, logger=pdf.__name__)
    data = _contract_pdf(world, client, login_as, run_jobs, body)

    content = _pdf_content(data)
    for secret in _secrets(secret_key_file):
        assert secret not in content
    assert PdfReader(io.BytesIO(data)).attachments == {}
    assert hits.paths == []  # no request left the worker
    assert _images(data) == 0
    assert "Ana Compradora" in content.decode("utf-8", "replace")  # the contract itself rendered
    logged = _refusals(caplog)
    assert any(refused.format(**values) in line and "contract " in line for line in logged), logged


def test_portal_worker_process_renders_the_hostile_template_without_the_secret(app, world, client, login_as, hits,
                                                                            secret_key_file, tmp_path):
    """The same through `portal worker` as its own process (the one that can read instance/ in production)."""
    from sqlalchemy import select

    from tests.runtime.test_delivery_lease import start_worker, stop, wait_for
    login_as(world["staff"])
    body = contracts.DEFAULT_TEMPLATE + (f'<a rel="attachment" href="file://{secret_key_file}">chave</a>'
                                         f'<img src="{hits.url}/w.png">')
    r = client.post(f"/personalizacao/empreendimentos/{world['dev'].id}/contrato", data={"body": body,
                                                                                          "action": "save"})
    assert r.status_code == 302
    sel = _submitted(world)
    db.session.commit()

    def rendered():
        db.session.rollback()  # a fresh read, no transaction held against the worker
        status = db.session.execute(select(Contract.status).where(Contract.selection_id == sel.id)).scalar()
        db.session.rollback()
        return status in ("rendered", "failed")

    worker = start_worker(app, str(tmp_path / "worker.log"))
    try:
        wait_for(rendered, worker, "the contract rendered by the worker process", timeout=60)
    finally:
        stop(worker)
    contract = db.session.get(Contract, contracts.current_contract(sel.id).id)
    assert contract.status == "rendered", contract.error
    with open(contracts.contract_file(contract), "rb") as fh:
        data = fh.read()
    assert secret_key_file.read_bytes().strip() not in _pdf_content(data)
    assert PdfReader(io.BytesIO(data)).attachments == {} and hits.paths == [] and _images(data) == 0
    with open(tmp_path / "worker.log", encoding="utf-8", errors="replace") as fh:
        log = fh.read()
    assert f"refused file://{secret_key_file}" in log and f"refused {hits.url}/w.png" in log


def test_only_static_files_and_this_developments_photos_render(app, world, client, login_as, run_jobs, hits,
                                                                tmp_path, monkeypatch, caplog):
    """The positive side: a stylesheet and an image from the static folder (also by the app's public URL, which
    is mapped, not fetched) and an uploaded photo by its id render; a path out of the static folder, another
    development's photo and a photo's unprocessed original do not."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "contrato.css").write_text("@page { size: A6; }")
    (static / "logo.png").write_bytes(_png((20, 20), (10, 10, 200)))
    (tmp_path / "fora.txt").write_bytes(HTTP_CANARY)
    monkeypatch.setattr(app, "static_folder", str(static))

    mine = photo_service.add_photo(world["options"]["vinilico"], _png(), "piso.png")
    other_dev = make_development("Outro Empreendimento", staff=[make_user("personalization")])
    from portal.personalize.services import catalog
    category = catalog.save_category(other_dev, {"name": "Piso", "position": 1})
    item = catalog.save_item(other_dev, {"category_id": category.id, "name": "Piso", "basis": "fixed",
                                         "typologies": {str(other_dev.typologies[0].id): ""}})
    option = catalog.save_option(item, {"name": "Outro", "price": "", "is_standard": True, "available": True})
    theirs = photo_service.add_photo(option, _png(color=(0, 200, 0)), "outro.png")
    db.session.commit()
    run_jobs()  # the worker makes the re-encoded versions

    caplog.set_level(logging.WARNING, logger=pdf.__name__)
    body = contracts.DEFAULT_TEMPLATE + (
        '<link rel="stylesheet" href="/static/contrato.css">'
        '<img src="/static/logo.png"><img src="http://localhost/static/logo.png">'
        f'<img src="/personalizacao/fotos/{mine.id}/large">'
        f'<img src="/personalizacao/fotos/{mine.id}/original">'
        f'<img src="/personalizacao/fotos/{theirs.id}/large">'
        '<a rel="attachment" href="/static/../fora.txt">x</a>'
        '<a rel="attachment" href="/static/..%2ffora.txt">x</a>')
    data = _contract_pdf(world, client, login_as, run_jobs, body)

    reader = PdfReader(io.BytesIO(data))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (298, 420)  # A6 from the static stylesheet (A4 is 595 x 842)
    assert _images(data) == 3  # the logo twice and this development's photo
    assert HTTP_CANARY not in _pdf_content(data) and reader.attachments == {}
    logged = " ".join(_refusals(caplog))
    for url in (f"/personalizacao/fotos/{mine.id}/original", f"/personalizacao/fotos/{theirs.id}/large",
                "fora.txt"):
        assert url in logged
    assert hits.paths == []


def _assert_nothing_fetched(data: bytes, hits: Hits) -> None:
    content = _pdf_content(data)
    assert Path("/etc/passwd").read_bytes().splitlines()[0] not in content and HTTP_CANARY not in content
    assert PdfReader(io.BytesIO(data)).attachments == {} and hits.paths == []


HOSTILE_TEXT = ['<img src="file:///etc/passwd">', '<a rel="attachment" href="file:///etc/passwd">a</a>',
                '<link rel="stylesheet" href="{http}/r.css">']


def test_report_pdf_shows_hostile_names_as_text(client, login_as, run_jobs, hits):
    """The at-risk report (portal.reports, the worker's job): account names and the CSM's reason are escaped,
    so a name carrying markup is printed, not fetched."""
    from portal.cs.models import Account
    from tests.cs.conftest import make_account
    from tests.reports.test_report_runs import ask, pdf_text

    admin = make_user("admin", name="Ana Admin")
    csm = make_user("csm", name="Caio CSM")
    for i, text in enumerate(HOSTILE_TEXT):
        account = make_account(csm=csm, name=f"Conta {i} " + text.format(http=hits.url))
        account = db.session.get(Account, account.id)
        account.risk_flag, account.risk_reason = True, text.format(http=hits.url)
    db.session.commit()
    login_as(admin)
    run_id = ask(client, "cs.at_risk")
    run_jobs()
    r = client.get(f"/relatorios/execucoes/{run_id}/arquivo")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    flat = re.sub(r"\s+", "", pdf_text(r.data))
    for text in HOSTILE_TEXT:
        assert re.sub(r"\s+", "", text.format(http=hits.url)) in flat  # printed as text
    _assert_nothing_fetched(r.data, hits)


def test_evidence_page_shows_a_hostile_browser_string_as_text(world, contract, client, login_as, run_jobs, hits):
    """The signer's User-Agent goes into the evidence page that the worker renders and seals."""
    login_as(world["staff"])
    assert client.post(f"/personalizacao/unidades/{world['units'][0].id}/assinatura/enviar").status_code == 302
    envelope = db.session.execute(db.select(Envelope)).scalar_one()
    agent = ('<img src="file:///etc/passwd"><link rel="stylesheet" href="{http}/e.css">'
             '<a rel="attachment" href="file:///etc/passwd">a</a>').format(http=hits.url)
    for signer in envelope.signers:
        esign.record_signature(signer, ip="127.0.0.1", user_agent=agent, channel="email")
    jobs.enqueue_after_commit(db.session, builtin.finalize, envelope.id)  # as confirm() does for the last signer
    db.session.commit()
    run_jobs()
    envelope = db.session.get(Envelope, envelope.id)
    assert envelope.status == "signed"
    with open(esign.signed_file(envelope), "rb") as fh:
        final = fh.read()
    evidence = PdfReader(io.BytesIO(final)).pages[-1].extract_text()
    assert re.sub(r"\s+", "", agent) in re.sub(r"\s+", "", evidence)
    _assert_nothing_fetched(final, hits)


def test_weasyprint_is_imported_by_the_renderer_only():
    importers = set()
    for path in PORTAL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "weasyprint" or n.startswith("weasyprint.") for n in names):
                importers.add(path.relative_to(PORTAL).as_posix())
    assert importers == {"reports/pdf.py"}
