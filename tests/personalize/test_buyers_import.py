"""Buyers CSV import: preview with per-row errors, one transaction, idempotent, anti-duplication."""
import codecs
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from validate_docbr import CPF

from portal.accounts.models import AuditLog, User
from portal.extensions import db
from portal.personalize.models import BuyerKey, Selection
from portal.realestate.models import Development, Tower, Typology, Unit, UnitBuyer
from tests.factories import make_user

HEADER = "nome;email;telefone;cpf;empreendimento;torre;unidade\n"


def upload(client, data: bytes, name="compradores.csv"):
    return client.post("/personalizacao/compradores/importar", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def token_of(response):
    match = re.search(r'name="token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    return match and match.group(1)


def commit(client, token):
    return client.post("/personalizacao/compradores/importar/confirmar", data={"token": token})


def counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count(User.id)).where(User.role == "customer")),
            db.session.scalar(select(func.count()).select_from(UnitBuyer)))


@pytest.fixture
def big(app):
    """A development with 2 towers × 500 units and its personalization staff, logged in."""
    staff = make_user("personalization")
    dev = Development(name="Parque das Águas", slug="parque-das-aguas", city="Campinas", state="SP")
    typ = Typology(development=dev, name="2 dormitórios", bedrooms=2, private_area_m2=Decimal("58.40"))
    for tname in ("Torre A", "Torre B"):
        tower = Tower(development=dev, name=tname)
        db.session.add_all(Unit(development=dev, tower=tower, typology=typ, number=str(n), floor=n // 10,
                                private_area_m2=Decimal("58.40")) for n in range(1, 501))
    dev.staff.append(staff)
    db.session.add(dev)
    db.session.commit()
    return {"staff": staff, "dev": dev}


def thousand_rows():
    """970 good rows and 30 bad ones, each bad one with a known reason (line → message fragment)."""
    cpfs, gen = [], CPF()
    while len(cpfs) < 1000:
        c = gen.generate()
        if c not in cpfs:
            cpfs.append(c)
    rows, bad = [], {}
    for n in range(1000):
        line = n + 2  # the header is line 1
        tower, unit = ("Torre A", n + 1) if n < 500 else ("Torre B", n - 499)
        row = [f"Comprador {n:04d}", f"comprador{n:04d}@exemplo.com.br", f"(11) 97{n:03d}-{n % 10000:04d}",
               cpfs[n], "Parque das Águas", tower, str(unit)]
        kind = (n // 33) % 6 if n % 33 == 0 and n < 990 else None  # 30 of 1000 rows, spread over the file
        if kind == 1:
            row[3] = cpfs[n][:-1] + str((int(cpfs[n][-1]) + 1) % 10)
            bad[line] = "CPF inválido."
        elif kind == 2:
            row[1] = f"comprador{n:04d}@@exemplo"
            bad[line] = "E-mail inválido."
        elif kind == 4:
            row[2] = "123"
            bad[line] = "Telefone inválido."
        elif kind == 3:
            row[6] = "9999"
            bad[line] = "Unidade 9999 não encontrada"
        elif kind == 5:
            row[3] = cpfs[n - 1]  # the previous row's CPF with another e-mail
            bad[line] = "CPF aparece antes no arquivo com outro e-mail"
        elif kind == 0:
            row[0] = ""
            bad[line] = "Informe o nome."
        rows.append(row)
    assert len(bad) == 30
    text = HEADER + "".join(";".join(r) + "\n" for r in rows)
    return text.encode("utf-8"), bad


def test_a_thousand_rows_with_thirty_bad_ones_preview_commit_and_reimport(client, login_as, big):
    login_as(big["staff"])
    data, bad = thousand_rows()
    r = upload(client, data)
    assert r.status_code == 422 and token_of(r) is None
    html = r.get_data(as_text=True)
    assert "Nada foi gravado" in html
    error_lines = [int(n) for n in re.findall(r'<tr class="row-error" id="linha-(\d+)">', html)]
    assert sorted(error_lines) == sorted(bad)
    for line, reason in bad.items():
        row_html = html.split(f'id="linha-{line}"')[1].split("</tr>")[0]
        assert reason in row_html, (line, reason)
    assert counts() == (0, 0)

    good = b"".join(line + b"\n" for i, line in enumerate(data.splitlines()) if i + 1 not in bad)
    r = upload(client, good)
    assert r.status_code == 200 and ">970<" in r.get_data(as_text=True)
    assert commit(client, token_of(r)).status_code == 302
    assert counts() == (970, 970)
    assert db.session.scalar(select(func.count(BuyerKey.key))) == 970 * 2  # CPF and phone held
    assert db.session.scalar(select(func.count(Selection.id))) == 970
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "buyers.imported")).scalar_one()
    assert log.details["created"] == 970 and log.details["people_created"] == 970

    r = upload(client, good)  # the same file again: nothing to do
    html = r.get_data(as_text=True)
    assert token_of(r) is None and "Nada a importar" in html
    assert re.search(r'<span class="stat-value">0</span><span class="stat-label">Novos</span>', html)
    assert counts() == (970, 970)


def test_bad_files_are_refused_with_a_clear_message_and_nothing_written(client, login_as, big):
    login_as(big["staff"])
    r = upload(client, b"PK\x03\x04\x14\x00\x06\x00binary", "compradores.xlsx")
    assert r.status_code == 422
    r = upload(client, b"PK\x03\x04\x14\x00\x06\x00binary")
    assert r.status_code == 422 and "não é um CSV" in r.get_data(as_text=True)
    r = upload(client, (HEADER + "Ana;ana@exemplo.com.br;;;Parque das Águas;Torre A;1\n").encode("utf-16"))
    assert r.status_code == 422 and "não é um CSV" in r.get_data(as_text=True)
    r = upload(client, b"nome;email;unidade\nAna;ana@exemplo.com.br;1\n")
    assert r.status_code == 422
    assert "Faltam colunas obrigatórias no cabeçalho: Empreendimento, Torre." in r.get_data(as_text=True)
    assert counts() == (0, 0)


def test_a_latin1_file_from_excel_keeps_its_accents(client, login_as, big):
    login_as(big["staff"])
    text = HEADER + "João Conceição;joao@exemplo.com.br;;;Parque das Águas;Torre A;1\n"
    r = upload(client, text.encode("cp1252"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Windows-1252" in html and "João Conceição" in html
    assert counts() == (0, 0)  # a preview writes nothing
    commit(client, token_of(r))
    assert db.session.execute(select(User.name).where(User.email == "joao@exemplo.com.br")).scalar() == "João Conceição"


def test_the_template_downloads_with_the_expected_columns(client, login_as, big):
    login_as(big["staff"])
    r = client.get("/personalizacao/compradores/importar/modelo.csv")
    assert r.mimetype == "text/csv" and "modelo-compradores.csv" in r.headers["Content-Disposition"]
    assert r.data.startswith(codecs.BOM_UTF8)
    assert r.data.decode("utf-8-sig").splitlines()[0] == HEADER.strip()


def test_people_already_registered_are_matched_never_duplicated(client, login_as, big):
    login_as(big["staff"])
    first = (HEADER + "Ana Souza;ana@exemplo.com.br;(11) 98888-0001;529.982.247-25;parque-das-aguas;Torre A;1\n"
             "Bruno Lima;bruno@exemplo.com.br;;;Parque das Águas;torre a;2\n")
    commit(client, token_of(upload(client, first.encode())))
    assert counts() == (2, 2)
    again = (HEADER +
             # Ana's CPF with another e-mail: refused
             "Ana Outra;ana.outra@exemplo.com.br;;529.982.247-25;Parque das Águas;Torre A;3\n"
             # Ana's phone on someone else: refused, not merged
             "Carla Dias;carla@exemplo.com.br;(11) 98888-0001;;Parque das Águas;Torre A;4\n"
             # same person (e-mail in capitals, CPF without dots) buying a second unit: linked, not created
             "Ana Souza;ANA@exemplo.com.br;11988880001;52998224725;Parque das Águas;Torre B;1\n"
             # Bruno's CPF was blank: now filled in
             "Bruno Lima;bruno@exemplo.com.br;;111.444.777-35;Parque das Águas;Torre A;2\n")
    r = upload(client, again.encode())
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Este CPF já está cadastrado para outro comprador." in html.split('id="linha-2"')[1].split("</tr>")[0]
    assert "Este telefone já está cadastrado" in html.split('id="linha-3"')[1].split("</tr>")[0]
    assert html.count('class="row-error"') == 2
    fixed = HEADER + "\n".join(again.splitlines()[3:]) + "\n"
    r = upload(client, fixed.encode())
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Altera: CPF" in html
    commit(client, token_of(r))
    assert counts() == (2, 3)
    assert db.session.execute(select(User.cpf).where(User.email == "bruno@exemplo.com.br")).scalar() == "11144477735"


def test_staff_import_only_into_their_developments(client, login_as, big):
    other = make_user("personalization")
    login_as(other)
    r = upload(client, (HEADER + "Ana;ana@exemplo.com.br;;;Parque das Águas;Torre A;1\n").encode())
    assert r.status_code == 422 and "Empreendimento “Parque das Águas” não encontrado." in r.get_data(as_text=True)
    assert counts() == (0, 0)
