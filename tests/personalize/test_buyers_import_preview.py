"""The buyers import preview says why a row fails right after its result, naming the column, and shows the row's
values as label: value pairs, so the table fits (at 1280 px the reason used to sit in the last column, out of
sight)."""
import re

from tests.personalize.test_buyers_import import HEADER, big, upload  # noqa: F401 - big is a fixture


def test_each_rows_reason_comes_first_labelled_with_its_column(big, client, login_as):
    login_as(big["staff"])
    data = (HEADER + "Rita Souza;rita@exemplo.com.br;(11) 98765-4321;;Parque das Águas;Torre Z;101\n"
            + "Caio Lima;caio-sem-arroba;;;Parque das Águas;Torre A;101\n").encode()
    page = upload(client, data).get_data(as_text=True)
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", page[page.index('class="table-wrap csv-preview"'):])
    assert headers == ["Linha", "Resultado", "Observações", "Dados da linha"]  # whatever the file's width
    row = page[page.index('id="linha-2"'):page.index('id="linha-3"')]
    notes = row[row.index("csv-notes"):row.index('class="csv-cells"')]  # before the file's values
    assert "<strong>Unidade:</strong> Unidade 101 não encontrada na Torre Z de Parque das Águas." in notes
    row3 = page[page.index('id="linha-3"'):]
    assert "<strong>E-mail:</strong> E-mail inválido." in row3[:row3.index('class="csv-cells"')]
    assert '<div class="csv-bad"><dt>E-mail</dt><dd>caio-sem-arroba</dd></div>' in row3
    assert "<dt>Nome</dt><dd>Caio Lima</dd>" in row3
