"""CSV import for the whole product: upload → preview with per-row errors → commit all or nothing.

A module declares an importer by subclassing `CsvImporter`:

    class UnitImporter(CsvImporter):
        title = "Importar unidades"
        columns = [Column("torre", "Torre", aliases=("bloco",), example="Torre A"), ...]
        template_filename = "modelo-unidades.csv"
        audit_action = "units.imported"

        def clean_row(self, row):   # row: {column name: stripped text}; absent optional columns are missing
            ...                     # raise RowError({"torre": "Informe a torre."}) on bad input
            return key, values      # key: natural key (re-imports match on it); values: {column name: value}
        def current(self, key):     # stored values for the key, to compare (None = a new record)
            ...
        def apply(self, values):    # write one row through the module's services (never commits)
            ...

and wires two views plus the template download, each a one-liner around these helpers:

    upload_view(importer, links)     GET: upload form; POST: preview (stores the file, nothing written)
    commit_view(importer, links)     POST with the stored file's token: re-validates and commits
    template_response(importer)      the downloadable template CSV

The uploaded file, not re-posted row data, is what the commit reads: it is kept under
UPLOAD_DIR/imports/<token>.csv between the two steps and validated again against the database.
"""
import codecs
import csv
import io
import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Hashable

from flask import Response, abort, current_app, flash, redirect, render_template
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField

from portal import normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.extensions import db
from portal.web import csv_export

DELIMITERS = (";", ",")  # ";" first: Excel in pt-BR writes it, since "," is the decimal mark
UPLOAD_MAX_AGE = 24 * 3600
STATUS_LABELS = {"new": "Novo", "updated": "Atualizado", "unchanged": "Sem alteração", "error": "Com erro"}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


# Pure helpers (unit-tested; reused by importers and services for cell values)
def fold(text: str | None) -> str:
    """Case- and accent-insensitive form of a name: 'Área privativa (m²)' → 'area_privativa_m2'."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def decode(data: bytes) -> tuple[str, str]:
    """Bytes → (text, encoding): UTF-8 with or without BOM, else cp1252/Latin-1 as Excel writes."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:  # the few bytes cp1252 leaves undefined
        return data.decode("latin-1"), "ISO-8859-1"


def sniff_delimiter(text: str) -> str:
    """';' or ',': whichever splits the header line into more fields (ties go to ';')."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])


def parse_decimal(value) -> Decimal:
    """'58,40', '58.40', '1.234,56' or '1,234.56' → Decimal; ValueError otherwise."""
    if isinstance(value, (Decimal, int)):
        return Decimal(value)
    text = str(value or "").strip().replace(" ", "").replace("\xa0", "")
    if "," in text and "." in text:
        thousands, mark = (".", ",") if text.rfind(",") > text.rfind(".") else (",", ".")
        text = text.replace(thousands, "").replace(mark, ".")
    elif "," in text:
        text = text.replace(",", ".")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("Informe um número, como 58,40.") from exc
    if not number.is_finite():
        raise ValueError("Informe um número, como 58,40.")
    return number


# Declarations
@dataclass(frozen=True)
class Column:
    name: str                      # key in the row dict, and the template's header
    label: str                     # shown to people
    required: bool = True          # the header must have it (a blank cell is the importer's call)
    aliases: tuple[str, ...] = ()  # other headers accepted (compared folded)
    example: str = ""
    help: str = ""

    def accepts(self, header: str) -> bool:
        return fold(header) in {fold(self.name), fold(self.label), *(fold(a) for a in self.aliases)}


class RowError(ServiceError):
    """Bad row: `errors` maps column name → message ("" for the row as a whole)."""

    def __init__(self, errors: dict[str, str] | str):
        super().__init__(errors if isinstance(errors, dict) else {"": errors})


class ImportRefused(Exception):
    """The file has errors; nothing was written. `preview` says which."""

    def __init__(self, preview: "Preview"):
        super().__init__("import refused")
        self.preview = preview


@dataclass
class PreviewRow:
    line: int
    cells: dict[str, str]
    key: Hashable = None
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    status: str = "new"

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    def other_errors(self, columns):
        names = {c.name for c in columns}
        return [msg for col, msg in self.errors.items() if col not in names]

    def labelled_errors(self, columns) -> list[tuple[str | None, str]]:
        """Every error of the row with the label of its column (None for the row as a whole), so the preview
        shows why a row fails in one place instead of in a column far to the right."""
        labels = {c.name: c.label for c in columns}
        return [(labels.get(col), msg) for col, msg in self.errors.items()]


@dataclass
class Preview:
    columns: list[Column] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # the file as a whole
    ignored: list[str] = field(default_factory=list)  # headers no column accepts
    encoding: str = ""
    delimiter: str = ""

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_LABELS, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.errors and self.counts["error"] == 0

    @property
    def pending(self) -> int:
        return self.counts["new"] + self.counts["updated"]


class CsvImporter:
    title = "Importar CSV"
    columns: list[Column] = []
    template_filename = "modelo.csv"
    audit_action: str | None = None
    audit_object = None   # the record the import's audit entry is about (e.g. the development)
    max_rows = 5000

    def clean_row(self, row: dict[str, str]) -> tuple[Hashable, dict[str, Any]]:
        raise NotImplementedError

    def current(self, key: Hashable) -> dict[str, Any] | None:
        return None

    def apply(self, values: dict[str, Any]) -> None:
        raise NotImplementedError

    def read(self, data: bytes) -> Preview:
        """Parse and validate every row against the database; writes nothing."""
        preview = Preview()
        if not data.strip():
            preview.errors.append("O arquivo está vazio.")
            return preview
        if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
            preview.errors.append("Este arquivo não é um CSV (parece uma planilha .xlsx). "
                                  "No Excel, use Salvar como → CSV.")
            return preview
        text, preview.encoding = decode(data)
        preview.delimiter = sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=preview.delimiter)
        header = next(reader, [])
        mapping = self._map_header(header, preview)
        if preview.errors:
            return preview
        seen: dict[Hashable, int] = {}
        try:
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if len(preview.rows) >= self.max_rows:
                    preview.errors.append(f"O arquivo passa de {self.max_rows} linhas; divida-o em partes.")
                    break
                row = PreviewRow(line=reader.line_num,
                                 cells={name: cells[i].strip() for i, name in mapping.items() if i < len(cells)})
                self._check_row(row, seen)
                preview.rows.append(row)
        except csv.Error:  # a cell past csv.field_size_limit() (128 KB), usually an unclosed quote
            preview.errors.append(f"Linha {reader.line_num}: um campo passa de "
                                  f"{csv.field_size_limit() // 1024} KB (confira se alguma aspa ficou sem fechar).")
        if not preview.rows and not preview.errors:
            preview.errors.append("O arquivo não tem linhas de dados abaixo do cabeçalho.")
        return preview

    def commit(self, data: bytes) -> Preview:
        """Validate again and write every row in one transaction (committed here), or nothing.

        Raises ImportRefused (after rolling back) when any row is bad, including errors that only
        the services find while writing.
        """
        preview = self.read(data)
        if not preview.ok:
            raise ImportRefused(preview)
        try:
            for row in preview.rows:
                if row.status in ("new", "updated"):
                    try:
                        self.apply(row.values)
                    except ServiceError as exc:
                        row.errors, row.status = dict(exc.errors), "error"
                        raise ImportRefused(preview) from exc
            if preview.pending:
                self.audit(preview.counts)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return preview

    def audit(self, counts: dict[str, int]) -> None:
        if self.audit_action:
            audit(self.audit_action, self.audit_object, created=counts["new"], updated=counts["updated"],
                  unchanged=counts["unchanged"])

    def template_csv(self) -> bytes:
        """Header and one example row, in the exports' dialect so Excel in pt-BR opens it as columns."""
        return csv_export.to_bytes([c.name for c in self.columns], [[c.example for c in self.columns]])

    def _map_header(self, header: list[str], preview: Preview) -> dict[int, str]:
        mapping: dict[int, str] = {}
        for i, name in enumerate(header):
            column = next((c for c in self.columns if c.accepts(name)), None)
            if column is None:
                if name.strip():
                    preview.ignored.append(name.strip())
            elif column.name in mapping.values():
                preview.errors.append(f"A coluna “{column.label}” aparece mais de uma vez no cabeçalho.")
            else:
                mapping[i] = column.name
        missing = [c.label for c in self.columns if c.required and c.name not in mapping.values()]
        if missing:
            preview.errors.append("Faltam colunas obrigatórias no cabeçalho: " + ", ".join(missing) + ".")
        preview.columns = [c for c in self.columns if c.name in mapping.values()]
        return mapping

    def _check_row(self, row: PreviewRow, seen: dict[Hashable, int]) -> None:
        if forbidden := normalize.forbidden_fields(row.cells):  # NUL would reach the database's lookups
            row.errors, row.status = forbidden, "error"
            return
        try:
            row.key, row.values = self.clean_row(dict(row.cells))
        except ServiceError as exc:
            row.errors, row.status = dict(exc.errors), "error"
            return
        if row.key in seen:
            row.errors, row.status = {"": f"Registro repetido: já aparece na linha {seen[row.key]}."}, "error"
            return
        seen[row.key] = row.line
        stored = self.current(row.key)
        if stored is None:
            row.status = "new"
            return
        labels = {c.name: c.label for c in self.columns}
        row.changes = [labels.get(k, k) for k, v in row.values.items() if k in stored and stored[k] != v]
        row.status = "updated" if row.changes else "unchanged"


# The file between preview and commit
def _imports_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(data: bytes) -> str:
    folder = _imports_dir()
    cutoff = time.time() - UPLOAD_MAX_AGE
    for old in folder.glob("*.csv"):  # previews nobody confirmed
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.csv"
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return token


def _upload_path(token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    path = _imports_dir() / f"{token}.csv"
    return path if path.is_file() else None


def load_upload(token: str) -> bytes | None:
    path = _upload_path(token)
    return path.read_bytes() if path else None


def discard_upload(token: str) -> None:
    path = _upload_path(token)
    if path:
        path.unlink(missing_ok=True)


# Views
class CsvUploadForm(FlaskForm):
    file = FileField("Arquivo CSV", validators=[FileRequired("Escolha um arquivo CSV."),
                                                FileAllowed(["csv", "txt"], "Envie um arquivo .csv.")])


class CsvCommitForm(FlaskForm):
    token = HiddenField()


@dataclass(frozen=True)
class ImportLinks:
    upload: str    # GET: the form; POST: the preview
    commit: str
    template: str
    done: str      # back to the module's page (after commit, or to give up)


def _render_preview(importer, links, preview, upload_form, token=None):
    commit_form = CsvCommitForm(token=token) if token else None
    status = 200 if preview.ok else 422
    return render_template("components/csv_preview.html", importer=importer, links=links, preview=preview,
                           form=upload_form, commit_form=commit_form), status


def upload_view(importer: CsvImporter, links: ImportLinks):
    form = CsvUploadForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        preview = importer.read(data)
        if preview.errors:
            form.file.errors = list(form.file.errors) + preview.errors
        else:
            token = store_upload(data) if preview.ok and preview.pending else None
            return _render_preview(importer, links, preview, CsvUploadForm(formdata=None), token)
    status = 422 if form.is_submitted() else 200
    return render_template("components/csv_upload.html", importer=importer, links=links, form=form), status


def commit_view(importer: CsvImporter, links: ImportLinks):
    form = CsvCommitForm()
    if not form.validate_on_submit():
        abort(400)
    data = load_upload(form.token.data)
    if data is None:
        flash("O arquivo desta importação não está mais disponível. Envie-o de novo.", "error")
        return redirect(links.upload)
    try:
        preview = importer.commit(data)
    except ImportRefused as exc:
        return _render_preview(importer, links, exc.preview, CsvUploadForm(formdata=None))
    discard_upload(form.token.data)
    c = preview.counts
    flash(f"Importação concluída: {c['new']} novo(s), {c['updated']} atualizado(s), "
          f"{c['unchanged']} sem alteração.", "success")
    return redirect(links.done)


def template_response(importer: CsvImporter) -> Response:
    return csv_export.response(importer.template_csv(), importer.template_filename)
