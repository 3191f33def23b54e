"""The office's review page (reports/<year>/review.html): year-over-year comparison
tables, trend charts of the main figures over every year on record (inline SVG
drawn here, with a text table beside each), the office text's checks, the revisions
log, and each district figure's provenance. (The office's text templates get their
year-over-year values from pipeline/steps/office_texts.py.)"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from markupsafe import escape

from pipeline.home import Home
from pipeline.steps.sections import DISTRICT
from schemas.base import ReportFormat

# --- trend charts ---------------------------------------------------------------------

# (title, [(label, [(table, row, column), …] summed)]) — cells missing in a year's format are gaps.
TRENDS = (
    ("政府信息公开申请", [
        ("本年新收", [("applications", "received", "total")]),
        ("办结", [("applications", "handled_total", "total")]),
        ("结转下年度", [("applications", "carried_forward", "total")]),
    ]),
    ("办理结果", [
        ("予以公开", [("applications", "disclosed", "total")]),
        ("部分公开", [("applications", "partially_disclosed", "total")]),
        ("无法提供", [("applications", r, "total") for r in
                     ("unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear")]),
    ]),
    ("行政复议和行政诉讼", [
        ("行政复议", [("review_litigation", "review", "total")]),
        ("行政诉讼", [("review_litigation", "litigation_direct", "total"),
                     ("review_litigation", "litigation_after_review", "total")]),
    ]),
    ("现行有效文件", [
        ("行政规范性文件", [("proactive", "normative_documents", "in_force")]),
        ("规章", [("proactive", "regulations", "in_force")]),
    ]),
)  # fmt: skip


def trend_series(home: Home, year: int) -> tuple[list[int], dict]:
    """Years on record up to `year` and, per chart, per line, the district figure of each year."""
    from schemas import format_for_year

    years, figures = [], []
    for y in range(year - 30, year + 1):
        accepted_path = home.warehouse_dir(y) / "accepted.parquet"
        if not accepted_path.exists():
            continue
        try:
            fmt = format_for_year(y, home.root)
        except Exception:  # noqa: BLE001 - a legacy year without its catalogue: no trend
            continue
        accepted = pd.read_parquet(accepted_path, columns=["table", "row", "column", "number"])
        sums = accepted.groupby(["table", "row", "column"])["number"].sum().to_dict()
        years.append(y)
        figures.append((fmt.cell_kinds(), sums))
    series = {}
    for title, lines in TRENDS:
        series[title] = {}
        for label, cells in lines:
            values = []
            for kinds, sums in figures:
                if all(c in kinds for c in cells):
                    values.append(sum(sums.get(c, 0.0) for c in cells))
                else:
                    values.append(None)
            if any(v is not None for v in values):
                series[title][label] = values
    return years, series


CHART_WIDTH, CHART_HEIGHT = 640, 280
PLOT = (56, 60, 624, 250)  # left, top, right, bottom of the plotting area
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from `low` (or below) to `high` (or above), about `count` of them."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step)
    ticks = []
    n = first
    while not ticks or ticks[-1] < high:
        ticks.append(n * step)
        n += 1
    return ticks


def _number(value: float) -> str:
    return f"{value:g}"


def chart_svg(title: str, years: list[int], lines: dict[str, list]) -> str:
    """One line chart as inline SVG, drawn here from numbers without a plotting library:
    text stays text (the browser's CJK fonts draw it, every label escaped), the same
    markup from the same figures. A line joins the years that have its figure; each
    point carries its year and value as a tooltip; the legend sits above the plot."""
    left, top, right, bottom = PLOT
    values = [v for vals in lines.values() for v in vals if v is not None]
    ticks = nice_ticks(min(values, default=0.0), max(values, default=0.0))
    first, last = min(years), max(years)
    pad = 24  # the first and last year off the frame

    def x(year: int) -> float:
        if last == first:
            return (left + right) / 2
        return round(left + pad + (year - first) / (last - first) * (right - left - 2 * pad), 1)

    def y(value: float) -> float:
        return round(bottom - (value - ticks[0]) / (ticks[-1] - ticks[0]) * (bottom - top), 1)

    label = escape(f"{title}趋势图（数据见下表）")
    out = [
        f'<svg role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" '
        f'height="{CHART_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" font-size="11">',
        f'<text x="{CHART_WIDTH / 2:g}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        '<g stroke="#d0d0d0" stroke-width="1">',
    ]
    out += [f'<line x1="{left}" y1="{y(t)}" x2="{right}" y2="{y(t)}"/>' for t in ticks]
    out += [f'<line x1="{x(yr)}" y1="{top}" x2="{x(yr)}" y2="{bottom}"/>' for yr in years]
    out.append("</g>")
    out.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="#333"/>'
    )
    out += [f'<text x="{left - 6}" y="{y(t) + 4}" text-anchor="end">{_number(t)}</text>' for t in ticks]
    out += [f'<text x="{x(yr)}" y="{bottom + 16}" text-anchor="middle">{yr}</text>' for yr in years]
    legend_x = left
    for n, (name, vals) in enumerate(lines.items()):
        color = COLORS[n % len(COLORS)]
        points = [(yr, v) for yr, v in zip(years, vals) if v is not None]
        out.append(f'<g class="line" fill="{color}" stroke="{color}">')
        out.append(f'<line x1="{legend_x}" y1="44" x2="{legend_x + 20}" y2="44" stroke-width="2"/>')
        out.append(f'<circle cx="{legend_x + 10}" cy="44" r="3"/>')
        out.append(f'<text x="{legend_x + 26}" y="48" stroke="none" fill="#222">{escape(name)}</text>')
        legend_x += 40 + 13 * len(name)
        if len(points) > 1:
            path = " ".join(f"{x(yr)},{y(v)}" for yr, v in points)
            out.append(f'<polyline points="{path}" fill="none" stroke-width="2"/>')
        for yr, v in points:
            tip = escape(f"{yr} 年 {name}：{_number(v)}")
            out.append(f'<circle cx="{x(yr)}" cy="{y(v)}" r="3.5"><title>{tip}</title></circle>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


# --- the page ---------------------------------------------------------------------------


MAX_BREAKDOWN = 30  # units listed per district figure on the page


def previous_basis(file: str, origin: str) -> str:
    """Where last year's figures of a scope come from, when not accepted hand-ins."""
    if origin == "published":
        return f"上年数字据已公开年报导入，取自“{file}”"
    return f"上年报送被退回，上年数字取自其最后报送的文件“{file}”"


def _format_pct(p: str) -> str:
    if not p:
        return ""
    return f"+{p}%" if not p.startswith("-") else f"{p}%"


# The main figures shown per unit: (table, row, column, heading).
MAIN_FIGURES = (
    ("applications", "received", "total", "本年新收申请"),
    ("applications", "handled_total", "total", "办结"),
    ("review_litigation", "review", "total", "行政复议"),
    ("proactive", "normative_documents", "in_force", "现行有效规范性文件"),
)


def review_view(
    fmt: ReportFormat,
    year: int,
    config: dict,
    yoy: pd.DataFrame,
    provenance: pd.DataFrame,
    names: dict[str, str],
    office_messages: list,
    revisions: pd.DataFrame,
    trends: tuple[list[int], dict],
    anomalies: list,
) -> dict:
    district = yoy[yoy["scope"] == DISTRICT]
    imported = district[district["previous_origin"] == "published"]["previous_file"]
    district_basis = previous_basis(imported.iloc[0], "published") if len(imported) else ""
    return {
        "district": config["district"], "year": year, "format_name": fmt.name,
        "tables": _district_tables(fmt, district), "main_labels": [m[3] for m in MAIN_FIGURES],
        "units": _unit_lines(yoy, names), "breakdown": _breakdown(fmt, provenance, names),
        "charts": _charts(*trends), "office_messages": office_messages,
        "revisions": revisions.to_dict(orient="records"), "anomalies": anomalies, "district_basis": district_basis,
    }  # fmt: skip


def _district_tables(fmt: ReportFormat, district: pd.DataFrame) -> list[dict]:
    """Per table of the format, the district's year-over-year line of each figure it has."""
    index = {(t, r, c): row for t, r, c, row in zip(district["table"], district["row"], district["column"],
                                                    district.itertuples(index=False))}  # fmt: skip
    tables = []
    for code, table in fmt.tables.items():
        lines = []
        for r, c, _col in table.cells():
            figure = index.get((code, r, c))
            if figure is None:
                continue
            lines.append({
                "anchor": f"p-{code}-{r}-{c}", "row": "·".join(table.row(r).path), "column": table.column(c).label,
                "value": figure.value, "previous": figure.previous or "—", "difference": figure.difference or "",
                "percent": _format_pct(figure.percent or ""),
            })  # fmt: skip
        tables.append({"title": table.title, "lines": lines})
    return tables


def _unit_lines(yoy: pd.DataFrame, names: dict[str, str]) -> list[dict]:
    """Each unit's main figures with last year's and the change, and where last year's come from."""
    # The units' lines of the main figures only, selected by column before any row is
    # read in Python (a district of 1,000 units has 150,000 lines).
    in_main = pd.Series(False, index=yoy.index)
    for t, r, c in {(t, r, c) for t, r, c, _ in MAIN_FIGURES}:
        in_main |= (yoy["table"] == t) & (yoy["row"] == r) & (yoy["column"] == c)
    units_part = yoy[in_main & (yoy["scope"] != DISTRICT)]
    yoy_columns = ["scope", "table", "row", "column", "value", "previous", "percent", "previous_file",
                   "previous_origin"]  # fmt: skip
    by_unit: dict[str, dict] = {}
    basis: dict[str, str] = {}
    for unit, t, r, c, value, previous, pct, file, origin in zip(
        *(units_part[n].tolist() for n in yoy_columns)
    ):
        by_unit.setdefault(unit, {})[(t, r, c)] = (value, previous or "—", _format_pct(pct or ""))
        if file:
            basis[unit] = previous_basis(file, origin)
    return [
        {"code": u, "name": names.get(u, u), "basis": basis.get(u, ""),
         "cells": [by_unit[u].get((t, r, c), ("0", "—", "")) for t, r, c, _ in MAIN_FIGURES]}
        for u in sorted(by_unit)
    ]  # fmt: skip


# The provenance columns a breakdown line reads: the figure, then the unit's contribution.
BREAKDOWN_COLUMNS = ["table", "row", "column", "unit", "value", "file", "sheet", "location", "sha256",
                     "number"]  # fmt: skip


def _breakdown(fmt: ReportFormat, provenance: pd.DataFrame, names: dict[str, str]) -> list[dict]:
    """Per district figure, the units' contributions, largest first."""
    nonzero = provenance[pd.to_numeric(provenance["number"], errors="coerce").fillna(0) != 0]
    # The largest contributions of each figure; the rest are counted (a district of 1,000
    # units would make a page of 100,000 lines). Every line is in provenance.parquet.
    nonzero = nonzero.sort_values(["table", "row", "column", "number"], ascending=[True, True, True, False],
                                  kind="stable")  # fmt: skip
    # One pass over plain tuples: a pandas group per figure cost a second at 1,000 units.
    by_figure: dict[tuple[str, str, str], list[tuple]] = {}
    for line in zip(*(nonzero[name].tolist() for name in BREAKDOWN_COLUMNS)):
        by_figure.setdefault(line[:3], []).append(line[3:])
    return [_figure_breakdown(fmt, figure, lines, names) for figure, lines in by_figure.items()]


def _figure_breakdown(fmt: ReportFormat, figure: tuple[str, str, str], lines: list[tuple], names) -> dict:
    t, r, c = figure
    shown = lines[:MAX_BREAKDOWN]
    table = fmt.tables.get(t)
    label = (
        f"{table.title}·{'·'.join(table.row(r).path)}·{table.column(c).label}" if table else f"{t}·{r}·{c}"
    )
    return {
        "anchor": f"p-{t}-{r}-{c}", "label": label,
        "units": [{"name": names.get(unit, unit), "code": unit, "value": value, "file": file,
                   "where": "，".join(p for p in (sheet, location) if p), "sha": sha[:12]}
                  for unit, value, file, sheet, location, sha, _ in shown],
        "more": len(lines) - len(shown),
        "more_total": f"{sum(line[-1] for line in lines[MAX_BREAKDOWN:]):g}",
    }  # fmt: skip


def _charts(years: list[int], series: dict) -> list[dict]:
    # A trend needs two years: with one year on record the table says it all.
    return [
        {"title": title, "svg": chart_svg(title, years, lines) if len(years) >= 2 else "", "years": years,
         "lines": [{"label": k, "values": ["—" if v is None else f"{v:g}" for v in vals]} for k, vals in lines.items()]}
        for title, lines in series.items() if lines and years
    ]  # fmt: skip


def write_review(out: Path, view: dict) -> Path:
    from markupsafe import Markup

    from pipeline.home import write_atomic
    from pipeline.render.reports import environment

    for chart in view["charts"]:
        chart["svg"] = Markup(chart["svg"])  # made by chart_svg, every text in it escaped
    html = environment().get_template("shared/review.html.j2").render(**view)
    path = out / "review.html"
    data = html.encode("utf-8")
    if not (path.exists() and path.read_bytes() == data):
        write_atomic(path, data)
    return path
