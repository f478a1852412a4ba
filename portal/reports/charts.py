"""Small server-side SVG charts: bars (stacked when several series), a horizontal funnel and a
line/trend. Presentation attributes only (no script, no style attributes), labels escaped, numbers
in pt-BR. The same markup is inlined in the page and in the PDF (WeasyPrint renders inline SVG).
"""
import math

from markupsafe import Markup, escape

from portal.web.filters import number

PALETTE = ("#1d4ed8", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d")
FONT = "DejaVu Sans, Arial, sans-serif"
INK, MUTED, GRID = "#111827", "#6b7280", "#e5e7eb"


def _fmt(value) -> str:
    return number(value, 0 if float(value).is_integer() else 1)


def _text(x, y, content, size=11, anchor="start", fill=INK, weight=None) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{bold}>'
            f'{escape(content)}</text>')


def _fit(label: str, width: float, size: float = 11) -> str:
    """Cut a label to what fits in `width` px (DejaVu Sans averages ~0.6 em per character)."""
    room = max(int(width / (size * 0.6)), 3)
    label = str(label)
    return label if len(label) <= room else label[:room - 1] + "…"


def _svg(width, height, title, body: list[str]) -> Markup:
    # A chart whose bars are links is a group of links, not an image: role="img" makes every descendant
    # presentational, so its links would be interactive content nested in a non-interactive image (axe:
    # nested-interactive) and screen readers would not reach them.
    role = "group" if any(part.startswith("<a ") for part in body) else "img"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="{role}" aria-label="{escape(title)}" font-family="{FONT}">'
        f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def with_links(svg: Markup, links: list[str]) -> Markup:
    """Append link elements (`<a ...>`) on top of a chart made here, which then becomes a group of links."""
    if not links:
        return svg
    return Markup(str(svg).replace(' role="img" ', ' role="group" ', 1).replace("</svg>", "".join(links) + "</svg>"))


def nice_max(value: float) -> float:
    """The smallest 1/2/2.5/5 × 10ⁿ at or above `value` (axis top)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _ticks(top_value: float, integers: bool) -> int:
    """How many intervals the axis gets: 4 or 5, fewer when counts would need fractions."""
    for ticks in (4, 5, 2, 1):
        if not integers or float(top_value / ticks).is_integer():
            return ticks
    return 1


def _axis(left, top, plot_w, plot_h, top_value, integers=False) -> list[str]:
    parts, ticks = [], _ticks(top_value, integers)
    for i in range(ticks + 1):
        value = top_value * i / ticks
        y = top + plot_h - plot_h * i / ticks
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y + 4, _fmt(value), size=10, anchor="end", fill=MUTED))
    return parts


def _colors(names, colors) -> list[str]:
    colors = colors or {}
    return [colors.get(name) or PALETTE[i % len(PALETTE)] for i, name in enumerate(names)]


def _integers(values) -> bool:
    return all(float(v).is_integer() for v in values if v is not None)


def _legend(names, colors, x, y) -> list[str]:
    parts = []
    for name, color in zip(names, colors):
        parts.append(f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(_text(x + 14, y, name, size=10, fill=MUTED))
        x += 28 + len(str(name)) * 6
    return parts


def bar_chart(labels: list[str], series: dict[str, list[float]], *, title: str, width: int = 640,
              height: int = 260, colors: dict[str, str] | None = None) -> Markup:
    """Vertical bars, one per label; several series are stacked, with a legend."""
    names = list(series)
    fills = _colors(names, colors)
    totals = [sum(series[n][i] or 0 for n in names) for i in range(len(labels))]
    top_value = nice_max(max(totals, default=0))
    left, top, bottom = 48, 24 if len(names) > 1 else 12, 36
    plot_w, plot_h = width - left - 12, height - top - bottom
    body = _axis(left, top, plot_w, plot_h, top_value, _integers(totals))
    if len(names) > 1:
        body += _legend(names, fills, left, 12)
    slot = plot_w / max(len(labels), 1)
    bar_w = min(slot * 0.7, 56)
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        base = top + plot_h
        for s, name in enumerate(names):
            value = series[name][i] or 0
            h = plot_h * value / top_value
            base -= h
            if value:
                body.append(f'<rect class="bar" x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                            f'fill="{fills[s]}"><title>{escape(label)} · {escape(name)}: '
                            f'{_fmt(value)}</title></rect>')
        body.append(_text(x + bar_w / 2, base - 4, _fmt(totals[i]), size=10, anchor="middle", weight="bold"))
        body.append(_text(x + bar_w / 2, top + plot_h + 16, _fit(label, slot), size=10, anchor="middle",
                          fill=MUTED))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    return _svg(width, height, title, body)


def funnel_chart(stages: list[tuple[str, float]], *, title: str, width: int = 640, row_height: int = 34) -> Markup:
    """Horizontal funnel: centred bars as wide as each stage's share of the first, and the
    conversion from the previous stage on the right."""
    label_w, rate_w = 150, 110
    plot_w = width - label_w - rate_w
    height = row_height * len(stages) + 8
    first = max((v for _, v in stages[:1]), default=0) or max((v for _, v in stages), default=0) or 1
    body = []
    for i, (label, value) in enumerate(stages):
        y = 4 + i * row_height
        w = max(plot_w * (value or 0) / first, 2)
        x = label_w + (plot_w - w) / 2
        mid = y + row_height / 2 + 4
        body.append(f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_height - 6}" rx="3" '
                    f'fill="{PALETTE[0]}" fill-opacity="{1 - 0.1 * min(i, 5):.1f}"/>')
        body.append(_text(label_w - 8, mid, _fit(label, label_w - 8), anchor="end"))
        if w >= 60:  # the figure fits inside the bar
            body.append(_text(label_w + plot_w / 2, mid, _fmt(value or 0), anchor="middle", fill="#fff", weight="bold"))
        else:
            body.append(_text(x + w + 6, mid, _fmt(value or 0), weight="bold"))
        if i:
            prev = stages[i - 1][1] or 0
            rate = f"{number(100 * (value or 0) / prev, 1)} %" if prev else "—"
            body.append(_text(width - rate_w + 8, mid, rate, size=10, fill=MUTED))
    return _svg(width, height, title, body)


def line_chart(labels: list[str], series: dict[str, list[float]], *, title: str, width: int = 640,
               height: int = 240, colors: dict[str, str] | None = None) -> Markup:
    """A trend: one line per series over the labels (e.g. months), points marked."""
    names = list(series)
    fills = _colors(names, colors)
    values = [v for n in names for v in series[n] if v is not None]
    top_value = nice_max(max(values, default=0))
    left, top, bottom = 48, 24 if len(names) > 1 else 12, 36
    plot_w, plot_h = width - left - 16, height - top - bottom
    body = _axis(left, top, plot_w, plot_h, top_value, _integers(values))
    if len(names) > 1:
        body += _legend(names, fills, left, 12)
    step = plot_w / max(len(labels) - 1, 1)
    every = max(1, math.ceil(len(labels) * 60 / plot_w))  # thin out labels that would overlap
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(_text(left + step * i, top + plot_h + 16, _fit(label, step * every), size=10,
                              anchor="middle", fill=MUTED))
    for s, name in enumerate(names):
        color = fills[s]
        points = [(left + step * i, top + plot_h - plot_h * v / top_value)
                  for i, v in enumerate(series[name]) if v is not None]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline class="line" points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in points]
    return _svg(width, height, title, body)
