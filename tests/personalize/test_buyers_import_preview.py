"""The buyers import preview says why a row fails right after its result, naming the column, before the file's
own columns (at 1280 px the reason used to sit in the last column, out of sight)."""
import re

from tests.personalize.test_buyers_import import HEADER, big, upload  # noqa: F401 - big is a fixture


def test_each_rows_reason_comes_first_labelled_with_its_column(big, client, login_as):
    login_as(big["staff"])
    data = (HEADER + "Rita Souza;rita@exemplo.com.br;(11) 98765-4321;;Parque das Águas;Torre Z;101\n"
            + "Caio Lima;caio-sem-arroba;;;Parque das Águas;Torre A;101\n").encode()
    page = upload(client, data).get_data(as_text=True)
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", page[page.index('class="table-wrap csv-preview"'):])
    assert headers[:3] == ["Linha", "Resultado", "Observações"] and headers[3:5] == ["Nome", "E-mail"]
    row = page[page.index('id="linha-2"'):page.index('id="linha-3"')]
    notes = row[row.index("csv-notes"):row.index('data-label="Nome"')]  # before the file's columns
    assert "<strong>Unidade:</strong> Unidade 101 não encontrada na Torre Z de Parque das Águas." in notes
    row3 = page[page.index('id="linha-3"'):]
    assert "<strong>E-mail:</strong> E-mail inválido." in row3[:row3.index('data-label="Nome"')]
    assert re.search(r'<td data-label="E-mail" class="csv-bad">caio-sem-arroba</td>', row3)
