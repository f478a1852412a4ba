"""The shared CSV helper on its own: decoding, separator sniffing, header mapping, row statuses."""
import codecs
from decimal import Decimal

import pytest

from portal.web.csv_import import (Column, CsvImporter, ImportRefused, RowError, decode, fold, load_upload,
                                   parse_decimal, sniff_delimiter, store_upload)


@pytest.mark.parametrize("data, text, encoding", [
    ("Área;Situação\n".encode("utf-8"), "Área;Situação\n", "UTF-8"),
    (codecs.BOM_UTF8 + "Área,Situação\n".encode("utf-8"), "Área,Situação\n", "UTF-8 (BOM)"),
    ("Área;Situação – “ok”\n".encode("cp1252"), "Área;Situação – “ok”\n", "Windows-1252"),
    ("Área;Situação\n".encode("latin-1") + b"\x81", "Área;Situação\n\x81", "ISO-8859-1"),
])
def test_decode_utf8_with_or_without_bom_then_excel_encodings(data, text, encoding):
    assert decode(data) == (text, encoding)


@pytest.mark.parametrize("text, delimiter", [
    ("torre;unidade;area\nA;101;58,40\n", ";"),
    ("torre,unidade,area\nA,101,\"58,40\"\n", ","),
    ("\n\ntorre,unidade\nA;1;2;3\n", ","),               # the header decides, not the data
    ('"Área, m²";unidade\n1;2\n', ";"),                   # a quoted comma is not a separator
    ("torre\nA\n", ";"),
])
def test_sniff_delimiter_reads_the_header(text, delimiter):
    assert sniff_delimiter(text) == delimiter


def test_fold_ignores_case_accents_and_punctuation():
    assert fold("  Área Privativa (m²) ") == "area_privativa_m2"
    assert fold("SITUAÇÃO") == fold("situacao") == "situacao"


@pytest.mark.parametrize("text, value", [("58,40", "58.40"), ("58.4", "58.4"), ("1.234,56", "1234.56"),
                                         ("1,234.56", "1234.56"), ("1.234.567", "1234567"), (" 0 ", "0")])
def test_parse_decimal_accepts_brazilian_and_plain_notation(text, value):
    assert parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "NaN", "Infinity", "1,2,3"])
def test_parse_decimal_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


class PeopleImporter(CsvImporter):
    """A toy importer over a dict, to see the helper's behaviour without any module's rules."""
    columns = [Column("email", "E-mail", aliases=("correio",)), Column("nome", "Nome"),
               Column("idade", "Idade", required=False)]

    def __init__(self, store):
        self.store = store

    def clean_row(self, row):
        if "@" not in row.get("email", ""):
            raise RowError({"email": "E-mail inválido."})
        values = {"email": row["email"].lower(), "nome": row.get("nome", "")}
        if row.get("idade"):
            values["idade"] = int(row["idade"])
        return values["email"], values

    def current(self, key):
        return self.store.get(key)

    def apply(self, values):
        self.store.setdefault(values["email"], {}).update(values)


def test_header_mapping_is_case_and_accent_insensitive_with_aliases_and_reports_unknown_columns():
    preview = PeopleImporter({}).read("CORREIO;nóme;Observação\nana@x.com;Ana;oi\n".encode())
    assert [c.name for c in preview.columns] == ["email", "nome"]
    assert preview.ignored == ["Observação"]
    assert preview.rows[0].cells == {"email": "ana@x.com", "nome": "Ana"}


def test_missing_required_columns_and_empty_files_are_file_errors():
    assert PeopleImporter({}).read(b"email;idade\na@x.com;3\n").errors == [
        "Faltam colunas obrigatórias no cabeçalho: Nome."]
    assert PeopleImporter({}).read(b"  \n").errors == ["O arquivo está vazio."]
    assert PeopleImporter({}).read(b"email;nome\n\n").errors == [
        "O arquivo não tem linhas de dados abaixo do cabeçalho."]
    assert "xlsx" in PeopleImporter({}).read(b"PK\x03\x04rest-of-zip").errors[0]


def test_rows_are_new_updated_unchanged_duplicate_or_bad_with_their_file_line():
    store = {"ana@x.com": {"email": "ana@x.com", "nome": "Ana", "idade": 30},
             "bia@x.com": {"email": "bia@x.com", "nome": "Bia", "idade": 20}}
    text = "email,nome,idade\nana@x.com,Ana,30\n\nBIA@x.com,Bia,21\ncaio@x.com,Caio,\nsem-arroba,X,1\nana@x.com,Ana,30\n"
    preview = PeopleImporter(store).read(text.encode())
    assert [(r.line, r.status) for r in preview.rows] == [
        (2, "unchanged"), (4, "updated"), (5, "new"), (6, "error"), (7, "error")]
    assert preview.rows[1].changes == ["Idade"]
    assert preview.rows[3].errors == {"email": "E-mail inválido."}
    assert preview.rows[4].errors == {"": "Registro repetido: já aparece na linha 2."}
    assert not preview.ok and preview.counts == {"new": 1, "updated": 1, "unchanged": 1, "error": 2}


def test_commit_refuses_a_file_with_any_bad_row_and_applies_nothing():
    store = {}
    with pytest.raises(ImportRefused) as exc:
        PeopleImporter(store).commit(b"email;nome\nana@x.com;Ana\nerrado;Bia\n")
    assert exc.value.preview.counts["error"] == 1
    assert store == {}


def test_commit_applies_only_new_and_updated_rows():
    applied = []
    store = {"ana@x.com": {"email": "ana@x.com", "nome": "Ana"}}

    class Recording(PeopleImporter):
        def apply(self, values):
            applied.append(values["email"])
            super().apply(values)

    preview = Recording(store).commit(b"email;nome\nana@x.com;Ana\nbia@x.com;Bia\n")
    assert applied == ["bia@x.com"] and preview.counts["unchanged"] == 1


def test_template_csv_opens_in_excel_and_reads_back_as_its_own_header():
    importer = PeopleImporter({})
    data = importer.template_csv()
    assert data.startswith(codecs.BOM_UTF8) and data.decode("utf-8-sig").splitlines()[0] == "email;nome;idade"
    assert [c.name for c in importer.read(data).columns] == ["email", "nome", "idade"]


def test_uploads_are_kept_by_random_token_and_bad_tokens_find_nothing(app):
    token = store_upload(b"email;nome\n")
    assert load_upload(token) == b"email;nome\n"
    assert store_upload(b"x") != token
    for bad in ("../../secret_key", "", "short", token + "/x"):
        assert load_upload(bad) is None
