"""Render the district report, each unit's report and the validation report.

Templates live in templates/<format>/ (with shared partials in templates/shared/).
Text from units and from the office's text files is data, never template source:
it is passed in as values. Every value printed has its control characters removed
(the environment's `finalize`); HTML autoescapes, and Markdown templates pass text
through `md_text` (a unit's text, shown literally), `md_office` (the office's own
Markdown, formatting kept but no raw HTML or unsafe links) or `md_inline` (a table cell
or a name inside a sentence); see schemas/text.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipeline.render.layout import html_grids, plain_tables
from pipeline.steps.sections import DISTRICT, values_for
from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.text import escape_markdown, escape_markdown_inline, safe_markdown, strip_controls

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _printable(value: object) -> object:
    """Every printed value, HTML or Markdown, loses its control characters (before autoescape)."""
    if not isinstance(value, str):
        return value
    clean = strip_controls(value)
    if clean == value:
        return value
    return Markup(clean) if isinstance(value, Markup) else clean


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=lambda name: bool(name) and name.endswith((".html.j2", ".html")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        finalize=_printable,
    )
    env.filters["md_text"] = lambda value: escape_markdown(str(value))
    env.filters["md_office"] = lambda value: safe_markdown(str(value))
    env.filters["md_inline"] = lambda value: escape_markdown_inline(str(value))
    return env


def paragraphs(text: str) -> list[str]:
    # After strip_controls every line break is "\n" (a lone CR or U+2028 too).
    return [line.strip() for line in strip_controls(text).split("\n") if line.strip()]


@dataclass
class SectionView:
    code: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    grids: list = field(default_factory=list)
    plain_tables: list = field(default_factory=list)
    # Paragraphs the office wrote (its Markdown is kept) rather than a unit (shown literally).
    office: bool = False


@dataclass
class LazyView:
    """A unit's report view, built only when the report must be rendered again:
    `key` captures everything the view is made from."""

    key: str
    make: Callable[[], ReportView]


@dataclass
class ReportView:
    title: str
    year: int
    government: str
    format_name: str
    record: dict[str, str]
    preamble: list[str]
    sections: list[SectionView]
    coverage: dict | None = None


def section_views(
    fmt: ReportFormat, sections: dict[str, pd.DataFrame], scope: str, texts: dict[str, str], *, office: bool
):
    views = []
    for section in fmt.sections:
        view = SectionView(section.code, section.heading, office=office)
        if section.table:
            table = fmt.tables[section.table]
            values = values_for(sections[section.table], scope)
            view.grids = html_grids(table, values)
            view.plain_tables = plain_tables(table, values)
        else:
            view.paragraphs = paragraphs(texts.get(section.code, ""))
        views.append(view)
    return views


def render_pair(env: Environment, fmt: ReportFormat, view: ReportView) -> tuple[str, str]:
    html = env.get_template(f"{fmt.template_dir}/report.html.j2").render(report=view)
    md = env.get_template(f"{fmt.template_dir}/report.md.j2").render(report=view)
    # Template control lines leave runs of blank lines; Markdown needs at most one.
    return html, re.sub(r"\n{3,}", "\n\n", md).strip() + "\n"


def office_texts(home_root: Path, year: int) -> dict[str, str]:
    """The coordinating office's own text for the district report: texts/<year>/<section>.md."""
    folder = home_root / "texts" / str(year)
    if not folder.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def district_texts(
    env: Environment, fmt: ReportFormat, year: int, texts: dict[str, str], sections, config, home_root=None
) -> dict:
    """Office text where written; otherwise the overview is generated from the figures."""
    out = dict(texts)

    def v(table: str, row: str, column: str) -> str:
        return values_for(sections[table], DISTRICT).get((row, column), "0")

    # --- issue 9 hook: year-over-year values (`yoy`) for the office's text templates ---
    from pipeline.render.review import office_template_context, render_office_texts

    extra = office_template_context(home_root, year, fmt, sections, v)
    out = render_office_texts(out, {**extra, "year": year, "district": config["district"]})
    # --- end of hook ---
    if "overview" not in out and f"{fmt.template_dir}/district_overview.txt.j2" in env.list_templates():
        out["overview"] = env.get_template(f"{fmt.template_dir}/district_overview.txt.j2").render(
            **{"v": v, **extra}, year=year, district=config["district"]
        )
    return out


def publication_record(config: dict, year: int, issuer: str) -> dict[str, str]:
    record = config.get("publication", {}).get(str(year), {})
    return {
        "number": str(record.get("number", "")),
        "date": str(record.get("date", "")),
        "issuer": str(record.get("issuer", issuer)),
        "validity": str(record.get("validity", "")),
    }


def district_title(config: dict, year: int) -> str:
    override = config.get("title")
    if override:
        return str(override).replace("{year}", str(year))
    return f"{config['district']}{year}年政府信息公开工作年度报告"


def build_views(
    fmt: ReportFormat,
    year: int,
    config: dict,
    sections: dict[str, pd.DataFrame],
    status: pd.DataFrame,
    home_root: Path,
) -> tuple[ReportView, dict[str, ReportView | LazyView]]:
    """The district report's view and one view per accepted unit.

    A format whose report the office writes as a narrative (the legacy era,
    `fmt.report_kind == "narrative"`) is built by pipeline/render/legacy.py.
    """
    if fmt.report_kind == "narrative":
        from pipeline.render.legacy import build_views as narrative_views

        return narrative_views(fmt, year, config, sections, status, home_root)
    env = environment()
    written = office_texts(home_root, year)
    preamble = paragraphs(written.get("preamble", "")) or paragraphs(
        env.get_template("shared/preamble.txt.j2").render(fmt=fmt, year=year)
    )
    texts = district_texts(env, fmt, year, written, sections, config, home_root)
    by_status = {s: status[status["status"] == s] for s in ("accepted", "rejected", "missing")}
    coverage = {
        "expected": len(status),
        "accepted": by_status["accepted"]["name"].tolist(),
        "rejected": by_status["rejected"]["name"].tolist(),
        "missing": by_status["missing"]["name"].tolist(),
    }
    district = ReportView(
        title=district_title(config, year),
        year=year,
        government=config["government"],
        format_name=fmt.name,
        record=publication_record(config, year, config["government"]),
        preamble=preamble,
        sections=section_views(fmt, sections, DISTRICT, texts, office=True),
        coverage=coverage,
    )
    narrative = sections[NARRATIVE_TABLE]
    units = {}
    for code, name in zip(by_status["accepted"]["unit"], by_status["accepted"]["name"]):
        unit_texts = {row: text for (row, _), text in values_for(narrative, code).items()}
        inputs = (name, year, preamble, unit_texts, {t: values_for(sections[t], code) for t in fmt.tables})
        units[code] = LazyView(key=repr(inputs), make=partial(unit_view, fmt, sections, code, *inputs[:4]))
    return district, units


def unit_view(fmt, sections, code: str, name: str, year: int, preamble: list[str], texts: dict) -> ReportView:
    return ReportView(
        title=f"{name}{year}年政府信息公开工作年度报告",
        year=year,
        government=name,
        format_name=fmt.name,
        record=publication_record({}, year, name),
        preamble=preamble,
        sections=section_views(fmt, sections, code, texts, office=False),
    )
