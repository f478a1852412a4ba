"""How a module declares a report.

    from portal.reports.registry import Report, register

    @register
    class LeadsBySource(Report):
        key = "presales.leads_by_source"
        title = "Leads por origem"
        roles = ("manager",)                       # admin always may
        form = LeadsParams                         # a portal.reports.forms.ParamsForm (optional)
        columns = [("name", "Lead", "text"), ("created_at", "Entrada", "date"),
                   ("value_cents", "Valor", "money")]

        def query(self, user, params):             # start from the caller's scope
            return scoped(user, Lead, Lead.name, Lead.created_at, Lead.value_cents)

        def chart(self, rows, params):             # optional: SVG from portal.reports.charts
            return charts.bar_chart(...)

`rows(user, params)` (default: the query's rows as dicts) may be overridden for rows that are not
one query row each; `params` are the form's typed values. Each column's kind decides how a value
is shown (portal.web.filters) and written to CSV.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms.fields import BooleanField, SelectFieldBase, SelectMultipleField

from portal.web import filters

KINDS = ("text", "number", "money", "date", "datetime", "percent", "bool")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    width: str | None = None  # CSS width in the PDF table, e.g. "30%"
    digits: int | None = None  # decimals of number/percent kinds (default: 0 for ints, else 2)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r} (one of {', '.join(KINDS)})")

    @property
    def numeric(self) -> bool:
        return self.kind in ("number", "money", "percent")

    def _digits(self, value) -> int:
        if self.digits is not None:
            return self.digits
        return 0 if isinstance(value, int) else 2

    def display(self, value) -> str:
        """The value as the page and the PDF show it."""
        if value is None or value == "":
            return "—"
        if self.kind == "number":
            return filters.number(value, self._digits(value))
        if self.kind == "money":
            return filters.brl(value)
        if self.kind == "percent":
            return f"{filters.number(value, 1 if self.digits is None else self.digits)} %"
        if self.kind == "date":
            return filters.date_br(value)
        if self.kind == "datetime":
            return filters.datetime_br(value)
        if self.kind == "bool":
            return "Sim" if value else "Não"
        return str(value)

    def csv(self, value) -> str:
        """The value for a CSV cell that Excel pt-BR reads as a number/date, not text."""
        if value is None:
            return ""
        if self.kind == "money":
            return filters.number(value / 100, 2)
        if self.kind == "percent":
            return filters.number(value, 1 if self.digits is None else self.digits)
        if self.kind == "text":
            return str(value)  # portal.web.csv_export escapes what would start a formula
        return self.display(value)


def _column(spec) -> Column:
    return spec if isinstance(spec, Column) else Column(*spec)


class Report:
    """Base class; subclass, set the attributes, decorate with @register."""
    key: str = ""
    title: str = ""
    description: str = ""
    roles: tuple[str, ...] = ()
    form: type | None = None
    columns: list = []
    formats: tuple[str, ...] = ("pdf", "csv")
    template: str = "reports/pdf/table.html"
    landscape: bool = False
    rows_per_page: int = 38  # for the progress estimate while WeasyPrint lays out pages

    def __init__(self):
        self.columns = [_column(c) for c in type(self).columns]

    # ---- what a report declares -------------------------------------------------------------
    def query(self, user, params):
        """A select starting from `scoped(user, Model, ...)`; its rows become dicts."""
        raise NotImplementedError(f"{type(self).__name__} must define query() or rows()")

    def rows(self, user, params):
        for row in _execute(self.query(user, params)).mappings():
            yield dict(row)

    def count(self, user, params) -> int | None:
        """How many rows to expect (for the progress bar); None when unknown."""
        try:
            stmt = self.query(user, params)
        except NotImplementedError:
            return None
        return _execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar()

    def chart(self, rows: list[dict], params) -> Markup | None:
        return None

    def summary(self, rows: list[dict], params) -> list[tuple[str, str]]:
        """Figures shown above the table: [(label, formatted value)]."""
        return [("Linhas", filters.number(len(rows)))]

    def setup_form(self, form, user) -> None:
        """Fill choices that depend on the user (their teams, developments...)."""

    def file_stem(self, params) -> str:
        """The download's name before the date: the title without accents, in-hyphens."""
        plain = unicodedata.normalize("NFKD", self.title).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "relatorio"

    # ---- used by the engine -----------------------------------------------------------------
    def allowed(self, user) -> bool:
        return getattr(user, "role", None) == "admin" or getattr(user, "role", None) in self.roles

    def build_form(self, user, data=None):
        if self.form is None:
            return None
        if data is not None and not hasattr(data, "getlist"):
            data = MultiDict({k: v for k, v in data.items() if v is not None})
        form = self.form(formdata=data)
        self.setup_form(form, user)
        return form

    def clean_params(self, user, data) -> tuple[dict, dict]:
        """(stored, typed) params, or ServiceError with field → message."""
        from portal.errors import ServiceError
        form = self.build_form(user, data if data is not None else {})
        if form is None:
            return {}, {}
        if not form.validate():
            raise ServiceError({name: errors[0] for name, errors in form.errors.items() if errors})
        stored = {}
        for field in form:
            value = _stored_value(field)
            if value not in (None, "", []):
                stored[field.name] = value
        return stored, dict(form.data)

    def describe_params(self, user, stored: dict) -> list[tuple[str, str]]:
        """[(label, shown value)] of the parameters that were given, for the page and the PDF header."""
        form = self.build_form(user, stored or {})
        if form is None:
            return []
        form.validate()
        shown = [(field.label.text, _shown_value(field)) for field in form]
        return [(label, value) for label, value in shown if value != "—"]


def _execute(stmt):
    from portal.extensions import db
    return db.session.execute(stmt)


def _stored_value(field):
    if isinstance(field, BooleanField):
        return "y" if field.data else None
    if isinstance(field, SelectMultipleField):
        return [str(v) for v in field.data or []]
    if isinstance(field, SelectFieldBase):
        return None if field.data is None else str(field.data)
    return field._value()


def _shown_value(field) -> str:
    data = field.data
    if isinstance(field, BooleanField):
        return "Sim" if data else "Não"
    if isinstance(field, SelectFieldBase):
        picked = {str(v) for v in (data if isinstance(data, list) else [data])}
        labels = [str(label) for value, label, *_ in field.iter_choices() if str(value) in picked]
        return ", ".join(labels) or "Todos"
    if isinstance(data, (date, datetime)):
        return filters.date_br(data)
    if isinstance(data, Decimal):
        return filters.number(data, 2)
    return str(data) if data not in (None, "") else "—"


REPORTS: dict[str, Report] = {}


def register(cls):
    """Class decorator: instantiate the report and make it available under `cls.key`."""
    if not cls.key or not cls.title:
        raise ValueError(f"{cls.__name__} needs a key and a title")
    if cls.key in REPORTS and type(REPORTS[cls.key]).__qualname__ != cls.__qualname__:
        raise ValueError(f"report key {cls.key!r} already used by {type(REPORTS[cls.key]).__name__}")
    REPORTS[cls.key] = cls()
    return cls


def get_report(key: str) -> Report | None:
    return REPORTS.get(key)


def available_to(user) -> list[Report]:
    return sorted((r for r in REPORTS.values() if r.allowed(user)), key=lambda r: r.title)
