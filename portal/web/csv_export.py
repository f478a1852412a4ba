"""The one CSV writer of the product: every export, import template and report file goes through it.

One dialect everywhere, the one Excel in pt-BR opens as columns with accents right: UTF-8 with a BOM,
`;` between cells, CRLF between rows.

Spreadsheet formula injection (OWASP "CSV injection"): a cell whose text starts with `=`, `+`, `-`, `@`,
a tab or a carriage return is run as a formula by Excel/LibreOffice, so text from forms, imports or the
API (`=HYPERLINK(...)`, `@SUM(...)`) could run on the machine of whoever opens the export. Such text
gets a leading `'`, which makes the spreadsheet show it as text. Not escaped, because they are data
that no formula can be spelled in:
- numbers (int, float, Decimal): a negative amount stays a number;
- text that is only a sign followed by digits and `.`/`,` — a negative amount already formatted for
  pt-BR ("-1.234,56") or a phone in E.164 ("+5511987654321").
"""
import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SIGNED_NUMBER = re.compile(r"[+-]\d[\d.,]*")


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not SIGNED_NUMBER.fullmatch(value):
        return "'" + value
    return value


class Writer:
    """csv.writer with the product's dialect whose rows are escaped cell by cell."""

    def __init__(self, fh):
        self._writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")

    def writerow(self, row: Sequence) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Sequence]) -> int:
        count = 0
        for row in rows:
            self.writerow(row)
            count += 1
        return count


def to_bytes(header: Sequence, rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = Writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def write_file(path: str, header: Sequence, rows: Iterable[Sequence]) -> int:
    """Write the file at `path`; the number of rows below the header."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = Writer(fh)
        writer.writerow(header)
        return writer.writerows(rows)


def response(data: bytes, filename: str) -> Response:
    """The download; `no-store` because an export carries personal data that no cache may keep."""
    return Response(data, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
