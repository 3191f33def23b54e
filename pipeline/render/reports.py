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

from functools import cache, partial
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipeline.home import Home
from pipeline.render.layout import html_grids, plain_tables
from pipeline.render.model import (
    LazyView,
    Para,
    ReportView,
    SectionView,
    district_title,
    district_view,
    unit_report_view,
)
from pipeline.render.skeleton import RenderedTable
from pipeline.render.skeleton import install as install_table_renderers
from pipeline.steps.office_texts import office_template_context, office_texts, render_office_texts
from pipeline.steps.sections import DISTRICT, values_for
from pipeline.steps.yoy import district_changes
from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.frames import zip_columns
from schemas.text import escape_markdown, escape_markdown_inline, safe_markdown, strip_controls

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _printable(value: object) -> object:
    """Every printed value, HTML or Markdown, loses its control characters (before autoescape)."""
    if not isinstance(value, str) or isinstance(value, RenderedTable):
        return value  # a rendered table's text was cleaned when it was made
    clean = strip_controls(value)
    if clean == value:
        return value
    return Markup(clean) if isinstance(value, Markup) else clean


def new_environment() -> Environment:
    """A fresh environment over the project's templates, for code that changes its
    loader or globals (tests); everything else shares `environment()`."""
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
    install_table_renderers(env)
    return env


@cache
def environment() -> Environment:
    """The process's environment: each template is compiled once per process, not once
    per report set (a build renders in four places). Jinja re-reads a template whose
    file changed, so a long-lived process still follows edits."""
    return new_environment()


def paragraphs(text: str) -> list[str]:
    # After strip_controls every line break is "\n" (a lone CR or U+2028 too).
    return [line.strip() for line in strip_controls(text).split("\n") if line.strip()]


def section_views(
    fmt: ReportFormat, sections: dict[str, pd.DataFrame], scope: str, texts: dict[str, str], *, office: bool
):
    views = []
    for section in fmt.sections:
        view = SectionView(section.code, section.heading)
        if section.table:
            table = fmt.tables[section.table]
            values = values_for(sections[section.table], scope)
            view.grids = html_grids(table, values)
            view.plain_tables = plain_tables(table, values)
        else:
            view.items = [Para(text, office=office) for text in paragraphs(texts.get(section.code, ""))]
        views.append(view)
    return views


def district_texts(
    env: Environment, fmt: ReportFormat, year: int, texts: dict[str, str], sections, config, yoy=None
) -> dict:
    """Office text where written; otherwise the overview is generated from the figures."""
    out = dict(texts)

    def v(table: str, row: str, column: str) -> str:
        return values_for(sections[table], DISTRICT).get((row, column), "0")

    # --- issue 9 hook: year-over-year values (`yoy`) for the office's text templates ---
    extra = office_template_context(district_changes(yoy), v)
    out = render_office_texts(out, {**extra, "year": year, "district": config["district"]})
    # --- end of hook ---
    if "overview" not in out and f"{fmt.template_dir}/district_overview.txt.j2" in env.list_templates():
        out["overview"] = env.get_template(f"{fmt.template_dir}/district_overview.txt.j2").render(
            **{"v": v, **extra}, year=year, district=config["district"]
        )
    return out


def build_views(
    fmt: ReportFormat,
    year: int,
    config: dict,
    sections: dict[str, pd.DataFrame],
    status: pd.DataFrame,
    home: Home,
    yoy: pd.DataFrame | None = None,
) -> tuple[ReportView, dict[str, ReportView | LazyView]]:
    """The district report's view and one view per accepted unit; `yoy` is the build's
    year-over-year table (pipeline/steps/yoy.py), None where nothing compares.

    A format whose report the office writes as a narrative (the legacy era,
    `fmt.report_kind == "narrative"`) is built by pipeline/render/legacy.py.
    """
    if fmt.report_kind == "narrative":
        from pipeline.render.legacy import build_views as narrative_views

        return narrative_views(fmt, year, config, sections, status, yoy)
    env = environment()
    written = office_texts(home, year)
    preamble = paragraphs(written.get("preamble", "")) or paragraphs(
        env.get_template("shared/preamble.txt.j2").render(fmt=fmt, year=year)
    )
    texts = district_texts(env, fmt, year, written, sections, config, yoy)
    accepted = status[status["status"] == "accepted"]
    district = district_view(
        config,
        year,
        fmt.name,
        status,
        title=district_title(config, year),
        preamble=[Para(text, office=True) for text in preamble],
        sections=section_views(fmt, sections, DISTRICT, texts, office=True),
    )
    narrative = sections[NARRATIVE_TABLE]
    units = {}
    final = district.record.final
    for code, name in zip_columns(accepted, "unit", "name"):
        unit_texts = {row: text for (row, _), text in values_for(narrative, code).items()}
        figures = {t: values_for(sections[t], code) for t in fmt.tables}
        inputs = (name, year, preamble, unit_texts, final, figures)
        units[code] = LazyView(key=repr(inputs), make=partial(unit_view, fmt, sections, code, *inputs[:5]))
    return district, units


def unit_view(
    fmt, sections, code: str, name: str, year: int, preamble: list[str], texts: dict, final: bool
) -> ReportView:
    # A unit's report has no 文号 of its own here; it is a draft or final with the year.
    return unit_report_view(
        name,
        year,
        fmt.name,
        title=f"{name}{year}年政府信息公开工作年度报告",
        final=final,
        preamble=[Para(text, office=True) for text in preamble],
        sections=section_views(fmt, sections, code, texts, office=False),
    )
