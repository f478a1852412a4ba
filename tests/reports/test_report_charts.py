"""SVG charts: proportions, pt-BR labels, escaping, no script or style attributes."""
import xml.etree.ElementTree as ET

import pytest

from portal.reports import charts

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg):
    return ET.fromstring(str(svg))


def bars(svg):
    return [r for r in parse(svg).iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]


def test_bar_heights_are_proportional_and_labels_in_pt_br():
    svg = charts.bar_chart(["Corretor", "Gestor", "SDR"], {"Usuários": [1500, 750, 300]}, title="Por perfil")
    heights = [float(b.get("height")) for b in bars(svg)]
    assert heights[0] == 2 * heights[1] and abs(heights[0] - 5 * heights[2]) < 0.2
    texts = [t.text for t in parse(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "1.500" in texts and "750" in texts  # thousands with a dot, as in pt-BR
    assert parse(svg).find("svg:title", NS).text == "Por perfil"


def test_stacked_series_share_the_bar_and_zero_draws_nothing():
    svg = charts.bar_chart(["Bosque", "Ária"], {"Disponível": [6, 0], "Vendida": [2, 4]}, title="Unidades",
                           colors={"Vendida": "#123456"})
    rects = bars(svg)
    assert len(rects) == 3  # the zero is not drawn
    first_avail, first_sold = rects[0], rects[1]
    assert float(first_avail.get("height")) == 3 * float(first_sold.get("height"))
    assert first_sold.get("fill") == "#123456"
    # stacked: the sold part sits right on top of the available part
    assert abs(float(first_sold.get("y")) + float(first_sold.get("height")) - float(first_avail.get("y"))) < 0.2


def test_labels_are_escaped_and_markup_is_plain_svg():
    evil = '<script>alert("x")</script> & "Cia"'
    for svg in (charts.bar_chart([evil], {evil: [3]}, title=evil),
                charts.funnel_chart([(evil, 10), ("Visitas", 4)], title=evil),
                charts.line_chart([evil, "fev"], {evil: [1, 2]}, title=evil)):
        text = str(svg)
        assert "<script" not in text and "&lt;script&gt;" in text
        assert "style=" not in text
        root = parse(svg)  # well-formed XML
        assert root.get("aria-label") == evil  # the escaping round-trips to the original text


def test_funnel_widths_follow_the_first_stage_and_show_conversion():
    svg = charts.funnel_chart([("Leads", 200), ("Visitas", 50), ("Vendas", 10)], title="Funil")
    widths = [float(b.get("width")) for b in bars(svg)]
    assert widths[0] == 4 * widths[1] and abs(widths[1] - 5 * widths[2]) < 0.2
    texts = [t.text for t in parse(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "25,0 %" in texts and "20,0 %" in texts


def test_line_points_climb_with_the_values_and_axis_uses_whole_numbers_for_counts():
    svg = charts.line_chart(["jan", "fev", "mar"], {"Leads": [1, 2, 3]}, title="Tendência")
    line = parse(svg).find("svg:polyline", NS)
    ys = [float(p.split(",")[1]) for p in line.get("points").split()]
    assert ys[0] > ys[1] > ys[2]  # SVG y grows downwards
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2])
    axis = [t.text for t in parse(svg).iter("{http://www.w3.org/2000/svg}text") if t.get("text-anchor") == "end"]
    assert all("," not in label for label in axis)  # no "0,5" ticks for counts


def test_nice_max():
    assert [charts.nice_max(v) for v in (0, 1, 3, 7, 12, 230, 2400)] == [1, 1, 5, 10, 20, 250, 2500]
