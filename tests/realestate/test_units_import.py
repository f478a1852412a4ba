"""Units CSV import through the screens: upload → preview → commit, all or nothing, idempotent."""
import codecs
import io
import re
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.extensions import db
from portal.realestate.models import Tower, Unit
from tests.factories import make_development, make_user

GOOD = ("torre;unidade;andar;tipologia;area_privativa_m2;status\n"
        "Torre A;101;1;2 dormitórios;58,40;Disponível\n"
        "Torre Nova;201;2;;61,5;Vendida\n"
        "Torre Nova;202;2;2 DORMITORIOS;;reserved\n")


def upload(client, dev, data: bytes, name="unidades.csv"):
    return client.post(f"/empreendimentos/{dev.id}/unidades/importar",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def token_of(response):
    match = re.search(r'name="token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    return match and match.group(1)


def commit(client, dev, token):
    return client.post(f"/empreendimentos/{dev.id}/unidades/importar/confirmar", data={"token": token})


def snapshot():
    return sorted((u.tower.name, u.number, u.floor, u.typology_id, u.private_area_m2, u.status, u.updated_at)
                  for u in db.session.execute(select(Unit)).scalars())


def imported(dev):
    return sorted((u.tower.name, u.number, u.floor, u.typology.name if u.typology else None, u.private_area_m2,
                   u.status) for u in db.session.execute(select(Unit).where(Unit.number.in_(["101", "201", "202"]))
                                                         ).scalars())


def staff_and_dev(login_as):
    staff = make_user("personalization")
    dev = make_development(staff=[staff], units_per_tower=1)
    login_as(staff)
    return staff, dev


def test_upload_page_lists_columns_and_the_template_downloads(client, login_as):
    _, dev = staff_and_dev(login_as)
    html = client.get(f"/empreendimentos/{dev.id}/unidades/importar").get_data(as_text=True)
    assert "area_privativa_m2" in html and "Baixar modelo (CSV)" in html
    r = client.get(f"/empreendimentos/{dev.id}/unidades/importar/modelo.csv")
    assert r.mimetype == "text/csv" and "modelo-unidades.csv" in r.headers["Content-Disposition"]
    assert r.data.decode("utf-8-sig").splitlines()[0] == "torre;unidade;andar;tipologia;area_privativa_m2;status"


def test_preview_shows_every_row_and_writes_nothing_then_commit_writes_all(client, login_as, app):
    _, dev = staff_and_dev(login_as)
    before = snapshot()
    r = upload(client, dev, GOOD.encode("utf-8"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.count('class="pill csv-new"') == 3
    assert snapshot() == before and db.session.scalar(select(func.count(Tower.id))) == 1
    token = token_of(r)
    assert (Path(app.config["UPLOAD_DIR"]) / "imports" / f"{token}.csv").read_bytes() == GOOD.encode()

    r = commit(client, dev, token)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/empreendimentos/{dev.id}#unidades")
    assert imported(dev) == [("Torre A", "101", 1, "2 dormitórios", Decimal("58.40"), "available"),
                             ("Torre Nova", "201", 2, None, Decimal("61.50"), "sold"),
                             ("Torre Nova", "202", 2, "2 dormitórios", Decimal("58.40"), "reserved")]
    entries = db.session.execute(select(AuditLog).where(AuditLog.action.like("%unit%"))).scalars().all()
    assert [(e.action, e.details) for e in entries] == [
        ("units.imported", {"created": 3, "updated": 0, "unchanged": 0, "towers_created": 1})]
    assert not (Path(app.config["UPLOAD_DIR"]) / "imports" / f"{token}.csv").exists()


def test_reimporting_the_same_rows_changes_nothing(client, login_as):
    _, dev = staff_and_dev(login_as)
    commit(client, dev, token_of(upload(client, dev, GOOD.encode())))
    before = snapshot()
    audits = db.session.scalar(select(func.count(AuditLog.id)))
    r = upload(client, dev, GOOD.replace("Torre Nova", "torre nova").encode())
    html = r.get_data(as_text=True)
    assert html.count("csv-unchanged") == 3 and "Nada a importar" in html and token_of(r) is None
    assert snapshot() == before and db.session.scalar(select(func.count(AuditLog.id))) == audits


def test_changed_rows_are_previewed_as_updates_and_blank_cells_keep_what_is_stored(client, login_as):
    _, dev = staff_and_dev(login_as)
    commit(client, dev, token_of(upload(client, dev, GOOD.encode())))
    r = upload(client, dev, "torre,unidade,status\nTorre Nova,201,Reservada\nTorre A,101,\n".encode())
    html = r.get_data(as_text=True)
    assert "Altera: Situação" in html and html.count("csv-unchanged") == 1
    commit(client, dev, token_of(r))
    assert imported(dev)[1] == ("Torre Nova", "201", 2, None, Decimal("61.50"), "reserved")
    assert imported(dev)[0] == ("Torre A", "101", 1, "2 dormitórios", Decimal("58.40"), "available")


def test_latin1_file_with_semicolons_and_utf8_bom_file_with_commas_both_import(client, login_as):
    _, dev = staff_and_dev(login_as)
    latin1 = "Torre;Unidade;Área privativa (m²);Situação\nTorre Única;101;58,40;Disponível\n".encode("cp1252")
    r = upload(client, dev, latin1)
    assert r.status_code == 200 and "Windows-1252" in r.get_data(as_text=True)
    assert commit(client, dev, token_of(r)).status_code == 302
    bom = codecs.BOM_UTF8 + 'torre,unidade,area_privativa_m2,status\nTorre Única,102,"61,20",Vendida\n'.encode()
    r = upload(client, dev, bom)
    assert r.status_code == 200 and "UTF-8 (BOM)" in r.get_data(as_text=True)
    assert commit(client, dev, token_of(r)).status_code == 302
    rows = sorted((u.tower.name, u.number, u.private_area_m2, u.status)
                  for u in db.session.execute(select(Unit).join(Tower).where(Tower.name == "Torre Única")).scalars())
    assert rows == [("Torre Única", "101", Decimal("58.40"), "available"),
                    ("Torre Única", "102", Decimal("61.20"), "sold")]


def test_a_file_with_one_bad_row_shows_per_row_errors_and_cannot_be_committed(client, login_as, app):
    _, dev = staff_and_dev(login_as)
    before = snapshot()
    bad = GOOD + "Torre A;301;três;Cobertura;-1;Alugada\n"
    r = upload(client, dev, bad.encode())
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and token_of(r) is None and "Nada foi gravado" in html
    for message in ("Informe um número inteiro.", "Tipologia “Cobertura” não cadastrada neste empreendimento.",
                    "A área não pode ser negativa.", "Situação inválida"):
        assert message in html
    assert 'id="linha-5"' in html and html.count("row-error") == 1
    assert snapshot() == before

    # Even a file placed by hand (never previewed as good) is validated again at commit.
    from portal.web.csv_import import store_upload
    with app.test_request_context():
        token = store_upload(bad.encode())
    r = commit(client, dev, token)
    assert r.status_code == 422 and "Cobertura" in r.get_data(as_text=True)
    assert snapshot() == before and db.session.scalar(select(func.count(Tower.id))) == 1


def test_an_error_found_while_writing_rolls_back_every_row(client, login_as, monkeypatch):
    _, dev = staff_and_dev(login_as)
    r = upload(client, dev, GOOD.encode())
    from portal.realestate import services
    original = services.save_unit

    def fail_on_202(development, data, unit=None, **kw):
        if data["number"] == "202":
            raise services.ServiceError({"number": "Falha simulada."})
        return original(development, data, unit, **kw)

    monkeypatch.setattr(services, "save_unit", fail_on_202)
    before = snapshot()
    r = commit(client, dev, token_of(r))
    assert r.status_code == 422 and "Falha simulada." in r.get_data(as_text=True)
    db.session.expire_all()
    assert snapshot() == before and db.session.scalar(select(func.count(Tower.id))) == 1


def test_missing_columns_and_wrong_files_are_answered_on_the_upload_form(client, login_as):
    _, dev = staff_and_dev(login_as)
    r = upload(client, dev, b"bloco;andar\nA;1\n")
    assert r.status_code == 422 and "Faltam colunas obrigatórias no cabeçalho: Unidade." in r.get_data(as_text=True)
    r = upload(client, dev, b"torre;unidade\n", name="unidades.xlsx")
    assert r.status_code == 422 and "Envie um arquivo .csv." in r.get_data(as_text=True)
    r = client.post(f"/empreendimentos/{dev.id}/unidades/importar", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "Escolha um arquivo CSV." in r.get_data(as_text=True)


def test_an_unknown_token_sends_back_to_the_upload(client, login_as):
    _, dev = staff_and_dev(login_as)
    r = commit(client, dev, "x" * 32)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/empreendimentos/{dev.id}/unidades/importar")


def test_import_of_another_development_is_404_and_managers_cannot_import(client, login_as):
    staff, dev = staff_and_dev(login_as)
    other = make_development("Residencial Beta")
    before = snapshot()
    assert upload(client, other, GOOD.encode()).status_code == 404
    token = token_of(upload(client, dev, GOOD.encode()))
    assert commit(client, other, token).status_code == 404
    client.post("/logout")
    login_as(make_user("manager"))
    assert commit(client, dev, token).status_code == 403
    assert snapshot() == before


def test_the_whole_flow_with_csrf_protection_on(client, login_as, app):
    _, dev = staff_and_dev(login_as)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get(f"/empreendimentos/{dev.id}/unidades/importar").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        r = client.post(f"/empreendimentos/{dev.id}/unidades/importar", content_type="multipart/form-data",
                        data={"csrf_token": csrf, "file": (io.BytesIO(GOOD.encode()), "u.csv")})
        assert r.status_code == 200
        assert commit(client, dev, token_of(r)).status_code == 400  # no CSRF token: refused
        r = client.post(f"/empreendimentos/{dev.id}/unidades/importar/confirmar",
                        data={"token": token_of(r), "csrf_token": csrf})
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert len(imported(dev)) == 3
