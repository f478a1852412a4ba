"""The seed's three standard personalization reports (PDF/CSV through portal.reports), read from
portal.personalize.services.dashboard so the PDF holds the same figures as the dashboard for the same filters.
The filter form is the dashboard's too, and the charts here are drawn in both (with links on the page)."""
from markupsafe import Markup, escape
from wtforms.fields import SelectField

from portal.accounts.scope import scoped
from portal.extensions import db
from portal.personalize.models import Category, Item
from portal.personalize.services import dashboard
from portal.personalize.services.dashboard import STAGE_COLORS, STAGES, Filters
from portal.realestate.models import Development, Tower
from portal.reports.charts import PALETTE, _fit, _fmt, _svg, _text
from portal.reports.forms import ParamsForm
from portal.reports.registry import Column, Report, register
from portal.web import filters

STAFF = ("personalization",)  # admin always may
ONLY_SUBMITTED = ("Só contam personalizações enviadas pelo comprador (inclusive as com contrato enviado ou "
                  "assinado); rascunhos e personalizações reabertas ficam de fora.")


# ---- parameters: the dashboard's filter form too ----------------------------------------------------------------

class PersonalizeParams(ParamsForm):
    development = SelectField("Empreendimento", choices=[], default="")
    tower = SelectField("Torre", choices=[], default="")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        owners = getattr(self, "_owners", {})
        dev = self.development.data or ""
        for name in ("tower", "category", "item"):
            fld = getattr(self, name, None)
            if ok and fld is not None and fld.data and dev and owners.get((name, fld.data)) != dev:
                fld.errors = list(fld.errors) + [f"{fld.label.text} não pertence ao empreendimento escolhido."]
                ok = False
        item, category = getattr(self, "item", None), getattr(self, "category", None)
        if ok and item is not None and category is not None and item.data and category.data \
                and owners.get(("item_category", item.data)) != category.data:
            item.errors = list(item.errors) + ["O item não é da categoria escolhida."]
            ok = False
        return ok


class OptionsParams(PersonalizeParams):
    category = SelectField("Categoria", choices=[], default="")
    item = SelectField("Item", choices=[], default="")


def setup_params(form, user) -> None:
    """Choices from the caller's developments only: an id from elsewhere is 'not a valid choice'."""
    devs = db.session.execute(scoped(user, Development, Development.id, Development.name)
                              .order_by(Development.name)).all()
    several = len(devs) > 1
    names = {str(i): n for i, n in devs}
    form.development.choices = [("", "Todos")] + [(str(i), n) for i, n in devs]
    owners = {}

    def choices(rows, kind, label):
        out = [("", "Todas" if kind in ("tower", "category") else "Todos")]
        for row in rows:
            owners[(kind, str(row.id))] = str(row.development_id)
            out.append((str(row.id), f"{names.get(str(row.development_id), '')} · {label(row)}" if several
                        else label(row)))
        return out

    towers = db.session.execute(scoped(user, Tower).join(Development, Development.id == Tower.development_id)
                                .order_by(Development.name, Tower.name)).scalars().all()
    form.tower.choices = choices(towers, "tower", lambda t: t.name)
    if hasattr(form, "category"):
        cats = db.session.execute(scoped(user, Category).join(Development, Development.id == Category.development_id)
                                  .order_by(Development.name, Category.position, Category.name)).scalars().all()
        form.category.choices = choices(cats, "category", lambda c: c.name)
        cat_names = {c.id: c.name for c in cats}
        items = db.session.execute(scoped(user, Item).join(Category, Category.id == Item.category_id)
                                   .join(Development, Development.id == Item.development_id)
                                   .order_by(Development.name, Category.position, Item.position, Item.name)
                                   ).scalars().all()
        form.item.choices = choices(items, "item", lambda i: f"{cat_names.get(i.category_id, '')}: {i.name}")
        owners.update({("item_category", str(i.id)): str(i.category_id) for i in items})
    form._owners = owners


class PersonalizeReport(Report):
    roles = STAFF
    form = PersonalizeParams
    landscape = True

    def setup_form(self, form, user):
        setup_params(form, user)

    def count(self, user, params):
        return None


# ---- charts (the page adds links; the PDF draws them plain) -----------------------------------------------------

HIT = 'fill="#1d4ed8" fill-opacity="0"'


def hbar(items: list[tuple], *, title: str, width: int = 360, color: str = PALETTE[0], money: bool = False,
         row_height: int = 30) -> Markup:
    """Horizontal bars: items are (label, value, href or None[, color[, full name for the link]]); readable on a
    phone."""
    label_w = min(230, int(width * 0.46))
    value_w = 92 if money else 40
    plot_w = width - label_w - value_w
    top = max((it[1] or 0 for it in items), default=0) or 1
    body = []
    for i, it in enumerate(items):
        label, value, href = it[0], it[1] or 0, it[2]
        fill = it[3] if len(it) > 3 and it[3] else color
        y = 4 + i * row_height
        mid = y + row_height / 2 + 4
        w = plot_w * value / top
        shown = filters.brl(value) if money else _fmt(value)
        name = it[4] if len(it) > 4 and it[4] else label
        parts = [_text(label_w - 8, mid, _fit(label, label_w - 8), anchor="end"),
                 f'<rect class="bar" x="{label_w}" y="{y + 6}" width="{max(w, 2 if value else 0):.1f}" '
                 f'height="{row_height - 12}" rx="3" fill="{fill}"/>',
                 _text(label_w + w + 6, mid, shown, weight="bold")]
        if href:
            body.append(f'<a class="chart-link" href="{escape(href)}" aria-label="{escape(name)}: {escape(shown)}">'
                        f'<title>{escape(name)}: {escape(shown)}</title>'
                        f'<rect class="hit" x="0" y="{y}" width="{width}" height="{row_height}" {HIT}/>'
                        + "".join(parts) + "</a>")
        else:
            body += parts
    return _svg(width, row_height * len(items) + 8, title, body)


def stage_chart(counts: dict, hrefs: dict | None = None, width: int = 360) -> Markup:
    hrefs = hrefs or {}
    return hbar([(label, counts[key], hrefs.get(key), STAGE_COLORS[key]) for key, label in STAGES.items()],
                title="Unidades por situação", width=width)


TOP_OPTIONS = 12


def options_chart(totals: list[dict], href=None, width: int = 360) -> Markup | None:
    if not totals:
        return None
    # the bar says the option; the link and its tooltip name the item too
    items = [(t["option"], t["units"], href(t) if href else None, None, f"{t['item']}: {t['option']}")
             for t in totals[:TOP_OPTIONS]]
    rest = totals[TOP_OPTIONS:]
    if rest:
        items.append((f"Outras ({len(rest)})", sum(t["units"] for t in rest), None))
    return hbar(items, title="Unidades por opção escolhida", width=width, color=PALETTE[5])


def methods_chart(by_method: list[dict], width: int = 360) -> Markup | None:
    if not by_method:
        return None
    return hbar([(m["label"], m["total_cents"], None) for m in by_method], title="Valor por forma de pagamento",
                width=width, color=PALETTE[1], money=True)


# ---- Opções escolhidas -------------------------------------------------------------------------------------------

@register
class ChosenOptions(PersonalizeReport):
    key = "personalize.options"
    title = "Opções escolhidas"
    description = ("Por empreendimento e torre: quantas unidades escolheram cada opção de cada item e a quantidade "
                   "a comprar (peças ou m²) — a lista para os fornecedores. " + ONLY_SUBMITTED)
    form = OptionsParams
    template = "personalize/reports/options_pdf.html"
    note = ONLY_SUBMITTED
    columns = [
        Column("development", "Empreendimento", width="18%"),
        Column("tower", "Torre", width="9%"),
        Column("category", "Categoria", width="10%"),
        Column("item", "Item", width="17%"),
        Column("option", "Opção", width="22%"),
        Column("units", "Unidades", "number"),
        Column("quantity", "Quantidade", "number"),
        Column("measure", "Medida", width="8%"),
    ]

    def rows(self, user, params):
        f = Filters.from_params(params)
        submitted = dashboard.submitted_unit_count(user, f)
        for row in dashboard.option_rows(user, f):
            yield {**row, "_submitted": submitted}

    def summary(self, rows, params):
        options = [r for r in rows if r["kind"] == "option"]
        return [("Unidades enviadas", filters.number(rows[0]["_submitted"] if rows else 0)),
                ("Opções diferentes", filters.number(len({r["option_id"] for r in options}))),
                ("Itens", filters.number(len({r["item_id"] for r in options})))]

    def chart(self, rows, params):
        return options_chart(dashboard.option_totals(rows), width=640)


# ---- Valores contratados -----------------------------------------------------------------------------------------

@register
class ContractedValues(PersonalizeReport):
    key = "personalize.values"
    title = "Valores contratados"
    description = ("Por unidade com personalização enviada: valor contratado, forma de pagamento e parcelas, "
                   "situação do contrato e data da assinatura; totais por torre e por empreendimento.")
    template = "personalize/reports/values_pdf.html"
    columns = [
        Column("development", "Empreendimento", width="16%"),
        Column("tower", "Torre", width="8%"),
        Column("unit", "Unidade", width="15%"),
        Column("buyers", "Compradores", width="17%"),
        Column("total_cents", "Total contratado", "money", width="11%"),
        Column("payment", "Pagamento", width="14%"),
        Column("status", "Contrato", width="11%"),
        Column("signed_at", "Assinado em", "date", width="8%"),
    ]

    def rows(self, user, params):
        yield from dashboard.contracted_rows(user, Filters.from_params(params))

    def summary(self, rows, params):
        t = dashboard.contracted_totals(rows)
        return [("Unidades", filters.number(t["units"])), ("Total contratado", filters.brl(t["total_cents"])),
                ("Assinado", filters.brl(t["signed_cents"])), ("Unidades assinadas", filters.number(t["signed_units"]))]

    def chart(self, rows, params):
        return methods_chart(dashboard.contracted_totals(rows)["by_method"], width=640)


# ---- Andamento da personalização ---------------------------------------------------------------------------------

@register
class PersonalizationProgress(PersonalizeReport):
    key = "personalize.progress"
    title = "Andamento da personalização"
    description = ("Unidades com comprador por situação (não iniciada, rascunho, enviada, contrato enviado, "
                   "assinado), por janela e prazo, e a lista das unidades atrasadas: prazo da janela encerrado sem "
                   "personalização enviada.")
    template = "personalize/reports/progress_pdf.html"
    stages = STAGES
    columns = [
        Column("development", "Empreendimento", width="17%"),
        Column("tower", "Torre", width="10%"),
        Column("unit", "Unidade", width="8%"),
        Column("buyers", "Compradores", width="22%"),
        Column("stage", "Situação", width="12%"),
        Column("window", "Janela", width="12%"),
        Column("deadline", "Prazo", "datetime", width="12%"),
        Column("late", "Atrasada", "bool", width="7%"),
    ]

    def rows(self, user, params):
        for u in dashboard.unit_progress(user, Filters.from_params(params)):
            yield {"development": u.development, "tower": u.tower, "unit": u.number, "buyers": ", ".join(u.buyers),
                   "stage": u.stage_label, "window": u.window.name if u.window else "Sem janela",
                   "deadline": u.deadline, "late": u.late, "_unit": u}

    @staticmethod
    def progress(rows) -> dashboard.Progress:
        return dashboard.summarize([r["_unit"] for r in rows])

    def summary(self, rows, params):
        p = self.progress(rows)
        return [("Unidades em personalização", filters.number(p.total)),
                ("Contratos assinados", filters.number(p.counts["signed"])),
                ("Atrasadas", filters.number(len(p.late)))]

    def chart(self, rows, params):
        return stage_chart(self.progress(rows).counts, width=640) if rows else None


REPORT_KEYS = (ChosenOptions.key, ContractedValues.key, PersonalizationProgress.key)
