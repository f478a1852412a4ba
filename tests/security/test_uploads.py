"""Hostile uploads through every place that stores a file: image bombs, polyglots and active PDFs.

Sinks (real views, multipart posts): the staff's option photo, the buyer's new question, the buyer's reply
and the staff's reply (question attachments). A refused file answers 422 with the field's pt-BR error and
leaves no row and no file; an accepted image is stored re-encoded. The worker that makes photo versions
decodes under the same pixel limit.
"""
import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.models import OptionPhoto
from portal.personalize.questions import BuyerQuestion, QuestionAttachment, QuestionMessage
from portal.personalize.services import photos, questions as qs
from tests.personalize.world import build_world

HTML = b"<html><body><script>fetch('/admin').then(r=>r.text()).then(alert)</script></body></html>"


def png(size=(64, 48), mode="RGB", color=(200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else 1).save(out, "PNG")
    return out.getvalue()


def pdf(extra=None) -> bytes:
    """A one-page PDF written by pypdf; `extra(writer)` adds the hostile part."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if extra:
        extra(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _action(**entries):
    return DictionaryObject({NameObject(k): v for k, v in entries.items()})


def open_action_js(w):
    w._root_object[NameObject("/OpenAction")] = _action(
        **{"/S": NameObject("/JavaScript"), "/JS": TextStringObject("app.alert(1)")})


def page_aa(w):  # "additional actions": JavaScript when the page opens
    w.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _action(
        **{"/S": NameObject("/JavaScript"), "/JS": TextStringObject("app.alert(2)")})})


def launch(w):
    w._root_object[NameObject("/OpenAction")] = _action(
        **{"/S": NameObject("/Launch"), "/F": TextStringObject("C:\\Windows\\System32\\calc.exe")})


def named_js(w):  # document-level JavaScript in the name tree, run when the file opens
    script = w._add_object(_action(**{"/S": NameObject("/JavaScript"), "/JS": TextStringObject("app.alert(3)")}))
    w._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("init"), script])})})


def embedded_file(w):
    w.add_attachment("leia-me.html", HTML)


def escaped_names(data: bytes) -> bytes:
    """/J#61vaScript is /JavaScript to a PDF reader: a byte search alone would miss it (readers, pypdf too,
    repair the cross-reference offsets this shifts)."""
    assert b"/JavaScript" in data and b"/JS " in data
    return data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


PDF_PAYLOADS = {
    "openaction-js": pdf(open_action_js),
    "page-aa-js": pdf(page_aa),
    "launch": pdf(launch),
    "names-javascript": pdf(named_js),
    "embedded-file": pdf(embedded_file),
    "escaped-names": escaped_names(pdf(open_action_js)),
    "header-then-html": b"%PDF-1.7\n" + HTML,
}


@pytest.fixture(scope="module")
def bombs():
    """10000×10000 (100 MP, ~32 KB as a 1-bit PNG) and 20000×20000 (400 MP): real PNGs Pillow can decode."""
    return {"10000x10000": png((10000, 10000), mode="1"), "20000x20000": png((20000, 20000), mode="1")}


@pytest.fixture
def world(app):
    w = build_world(utcnow())
    db.session.commit()
    return w


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def stored() -> list[Path]:
    return sorted(p for folder in (photos.photos_dir(), qs.files_dir()) for p in folder.iterdir())


def rows():
    return count(OptionPhoto), count(QuestionAttachment), count(QuestionMessage), count(BuyerQuestion)


def _files(name, data):
    return [(io.BytesIO(data), name)]


def sink_photo(client, login_as, world, name, data):
    login_as(world["staff"])
    return client.post(f"/personalizacao/catalogo/opcoes/{world['options']['porcelanato'].id}/fotos",
                       data={"photo": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def sink_new_question(client, login_as, world, name, data):
    login_as(world["a"])
    return client.post(f"/personalizacao/unidades/{world['units'][0].id}/duvidas",
                       data={"subject": "Foto da bancada", "body": "Segue o arquivo.", "attachments": _files(name, data)},
                       content_type="multipart/form-data")


def _thread(world):
    question = db.session.execute(select(BuyerQuestion)).scalars().first()
    if question is None:
        question = qs.open_question(world["units"][0], world["a"], "Piso", "Posso trocar o piso?")
        db.session.commit()
    return question


def sink_reply(who):
    """A reply in an existing thread, by the buyer ("a") or the development's staff."""
    def post(client, login_as, world, name, data):
        question = _thread(world)
        login_as(world[who])
        return client.post(f"/personalizacao/duvidas/{question.id}/mensagens",
                           data={"body": "Segue o arquivo.", "attachments": _files(name, data)},
                           content_type="multipart/form-data")
    return post


SINKS = {"option-photo": sink_photo, "new-question": sink_new_question, "buyer-reply": sink_reply("a"),
         "staff-reply": sink_reply("staff")}
ATTACHMENT_SINKS = {k: v for k, v in SINKS.items() if k != "option-photo"}


def assert_refused(response, before_rows, before_files, *texts):
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:300]
    for text in texts:
        assert text in page
    assert rows() == before_rows and stored() == before_files


def _baseline(world, sink):
    if sink in ("buyer-reply", "staff-reply"):
        _thread(world)  # the thread exists before the post: only the post must add nothing
    return rows(), stored()


@pytest.mark.parametrize("sink", SINKS)
@pytest.mark.parametrize("size", ["10000x10000", "20000x20000"])
def test_an_image_bomb_is_refused_at_upload_and_nothing_is_stored(world, client, login_as, bombs, sink, size):
    before = _baseline(world, sink)
    response = SINKS[sink](client, login_as, world, "planta.png", bombs[size])
    assert_refused(response, *before, "grande demais", "40 megapixels")


@pytest.mark.parametrize("sink", SINKS)
def test_a_png_header_followed_by_html_is_refused(world, client, login_as, sink):
    before = _baseline(world, sink)
    response = SINKS[sink](client, login_as, world, "foto.png", b"\x89PNG\r\n\x1a\n" + HTML)
    assert_refused(response, *before, "não é uma imagem PNG válida")


def _stored_file(sink) -> Path:
    if sink == "option-photo":
        return photos.original_path(db.session.execute(select(OptionPhoto)).scalar_one())
    return qs.file_path(db.session.execute(select(QuestionAttachment)).scalar_one())


@pytest.mark.parametrize("sink", SINKS)
def test_a_real_png_with_html_appended_is_stored_re_encoded_without_it(world, client, login_as, sink):
    original = png((300, 200))
    response = SINKS[sink](client, login_as, world, "foto.png", original + HTML)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    data = _stored_file(sink).read_bytes()
    assert b"<script" not in data and b"<html" not in data and data != original
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.format == "PNG" and img.size == (300, 200) and img.getpixel((10, 10)) == (200, 120, 40)


@pytest.mark.parametrize("sink", ATTACHMENT_SINKS)
@pytest.mark.parametrize("payload", PDF_PAYLOADS)
def test_a_pdf_with_javascript_actions_or_embedded_files_is_refused(world, client, login_as, sink, payload):
    before = _baseline(world, sink)
    response = ATTACHMENT_SINKS[sink](client, login_as, world, "planta.pdf", PDF_PAYLOADS[payload])
    expected = "não é um PDF válido" if payload == "header-then-html" else "JavaScript, ações automáticas"
    assert_refused(response, *before, expected)


@pytest.mark.parametrize("sink", ATTACHMENT_SINKS)
def test_a_plain_pdf_is_accepted_as_sent(world, client, login_as, sink):
    plain = pdf()
    response = ATTACHMENT_SINKS[sink](client, login_as, world, "planta.pdf", plain)
    assert response.status_code == 302
    assert _stored_file(sink).read_bytes() == plain


def test_a_jpeg_is_stored_upright_without_its_metadata(world, client, login_as):
    """EXIF (camera GPS, a comment) goes; the orientation it carried is baked into the pixels."""
    img = Image.new("RGB", (120, 60), (10, 20, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x010E] = "<script>alert(1)</script>"  # ImageDescription
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), comment=b"<html>")
    response = sink_photo(client, login_as, world, "foto.jpg", out.getvalue())
    assert response.status_code == 302
    data = _stored_file("option-photo").read_bytes()
    assert b"<script" not in data and b"<html" not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG" and stored.size == (60, 120) and not stored.getexif()


def test_the_pixel_limit_is_a_setting(world, client, login_as, app):
    default, app.config["UPLOAD_MAX_PIXELS"] = app.config["UPLOAD_MAX_PIXELS"], 1_000_000
    try:
        before = rows(), stored()
        response = sink_photo(client, login_as, world, "grande.png", png((1001, 1000)))
        assert_refused(response, *before, "1001 × 1000 pixels", "o limite é 1 megapixels")
        assert sink_photo(client, login_as, world, "ok.png", png((1000, 1000))).status_code == 302
    finally:
        app.config["UPLOAD_MAX_PIXELS"] = default


@pytest.mark.parametrize("stored, reason", [("10000x10000", "grande demais: o limite é 40 megapixels"),
                                            ("20000x20000", "grande demais: o limite é 40 megapixels"),
                                            ("broken", "Imagem ilegível")])
def test_the_worker_refuses_a_stored_bomb_with_a_clear_reason(world, run_jobs, bombs, stored, reason):
    """Files stored before the upload decoded them: the job marks the row failed, once, with the reason, and
    decodes no bomb (Pillow would need 100 MB for the first and refuse the second only after opening it)."""
    from portal import jobs
    from portal.personalize.jobs import make_photo_versions

    data = bombs.get(stored) or b"\x89PNG\r\n\x1a\n" + HTML
    option = world["options"]["porcelanato"]
    photo = OptionPhoto(option_id=option.id, development_id=option.development_id, stored_name=f"legacy-{stored}",
                        original_name="antiga.png", content_type="image/png", size_bytes=len(data), status="pending")
    db.session.add(photo)
    db.session.commit()
    photos.original_path(photo).write_bytes(data)
    job = jobs.enqueue(make_photo_versions, photo.id, queue_name="low")
    run_jobs()
    photo = db.session.get(OptionPhoto, photo.id)
    assert photo.status == "failed" and reason in photo.error
    assert job.get_status() == "finished"  # failed row, finished job: nothing for rq to retry
    assert not photos.version_path(photo, "thumb").exists()
