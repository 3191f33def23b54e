"""The legacy era's report: the coordinating office's narrative template, rendered
in a jinja2 sandbox with the submitted figures and shares computed from them.

The narrative template (``narrative/<year>.txt.j2`` in the home, or where the
catalogue says) is plain text. Lines before the first ``# `` heading are the
preamble; ``# 一、……`` starts a section (the headings must be the catalogue's
``sections``, in order); ``## `` and ``### `` are sub-headings; every other
non-blank line is a paragraph. In it:

- ``{{ hotline.calls }}``: an indicator's district figure (table code, then
  indicator code) as entered, e.g. ``2275`` or ``15618.3156``;
- ``{{ share(hotline.complaints, hotline.calls) }}``: the share of a part in a
  whole computed from the counts (docs/formats.md): ``67%``, ``0.4%``;
- ``{{ staffing.admin_quota | thousands }}``: ``1,591``;
- ``{{ text.hr_story }}``: a text a unit submitted;
- ``{{ year }}``, ``{{ district }}``, ``{{ government }}``.

The office's template is trusted, but it still runs in a SandboxedEnvironment
with StrictUndefined and no loader (no includes, no file access). What units
submit is data: it is inserted as a value, never parsed as template source, and
cannot start a heading. Markdown output escapes all text (the narrative is plain
text, not Markdown) and HTML output autoescapes it; both lose control characters.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from pipeline.home import HomeError
from pipeline.render.layout import Cell, Grid, PlainTable
from pipeline.render.model import (
    Para,
    SectionView,
    district_title,
    district_view,
    unit_report_view,
)
from pipeline.steps.sections import DISTRICT, values_for
from schemas import numbers
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat
from schemas.frames import zip_columns
from schemas.legacy.catalogue import VALUE_COLUMN
from schemas.text import strip_controls

# Marks text that came from a value (figures, unit text): such a line is never a heading.
DATA_MARK = "\ue000"
NOT_SUBMITTED = "—"
STATUS_TEXT = {
    "accepted": "已采用，但没有填写这一项",
    "rejected": "报送未通过审核、已被退回",
    "missing": "尚未报送",
}


class NarrativeError(HomeError):
    """The narrative template cannot be rendered (message in Chinese)."""


# --- shares ---------------------------------------------------------------------


def share_value(part, whole) -> Decimal:
    """part / whole in percent, exact (schemas/numbers.py); a NarrativeError when it cannot be."""
    try:
        return numbers.share_value(part, whole)
    except numbers.NumberError as exc:
        raise NarrativeError(str(exc)) from None


def format_share(part, whole) -> str:
    try:
        return numbers.format_share(part, whole)
    except numbers.NumberError as exc:
        raise NarrativeError(str(exc)) from None


def thousands(value) -> str:
    try:
        return numbers.thousands(value)
    except numbers.NumberError as exc:
        raise NarrativeError(str(exc)) from None


# --- figures as the template sees them ----------------------------------------------


class _Figures:
    """One indicator table's district figures: ``table.indicator`` in the template.

    Attributes start with an underscore, which the sandbox refuses to reach."""

    def __init__(self, code: str, values: dict[str, str], describe):
        self._code = code
        self._values = values
        self._describe = describe

    def __getitem__(self, key: str) -> str:
        if key in self._values:
            return self._values[key]
        raise NarrativeError(self._describe(self._code, key))


def _missing_indicator(catalogue, fmt: ReportFormat, names: dict, state: dict, template: str):
    indicators = catalogue.indicators()

    def describe(table: str, code: str) -> str:
        ind = indicators.get(f"{table}.{code}")
        if ind is None:
            return f"叙述模板 {template} 引用了“{table}.{code}”，但统计指标目录中没有这个指标。请核对模板中的指标代码。"
        owners = "；".join(
            f"{names.get(o, o)}（{o}）{STATUS_TEXT.get(state.get(o, 'missing'), '')}" for o in ind.owners
        )
        return (
            f"叙述模板 {template} 引用了指标“{fmt.tables[table].title}·{ind.label}”（{ind.ref}），"
            f"但没有单位报送这一项。负责报送的单位：{owners}。请该单位补报（确为 0 的请填 0），或修改叙述模板。"
        )

    return describe


def _missing_text(catalogue, names, state, template):
    def describe(_: str, code: str) -> str:
        item = catalogue.texts.get(code)
        if item is None:
            return f"叙述模板 {template} 引用了文字项“{code}”，但统计指标目录中没有这个文字项。"
        owners = "；".join(
            f"{names.get(o, o)}（{o}）{STATUS_TEXT.get(state.get(o, 'missing'), '')}" for o in item.owners
        )
        return f"叙述模板 {template} 引用了文字项“{item.label}”（{code}），但没有单位填写。负责填写的单位：{owners}。"

    return describe


def _mark_data(value) -> str:
    # Controls go first: a lone CR or U+2028 becomes a newline, and so gets its mark too.
    text = strip_controls(str(value)).replace(DATA_MARK, "")
    return DATA_MARK + text.replace("\n", "\n" + DATA_MARK)


def sandbox() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, finalize=_mark_data, keep_trailing_newline=True
    )
    env.filters["thousands"] = thousands
    return env


def _template_line(exc: BaseException) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return getattr(exc, "lineno", None) or line


def render_narrative(source: str, context: dict, *, name: str) -> str:
    """Render the office's template in the sandbox; every failure is a NarrativeError."""
    env = sandbox()
    try:
        return env.from_string(source).render(**context, share=format_share)
    except NarrativeError as exc:
        line = _template_line(exc)
        raise NarrativeError(f"{exc}{f'（模板第 {line} 行）' if line else ''}") from None
    except SecurityError as exc:
        raise NarrativeError(
            f"叙述模板 {name} 第 {_template_line(exc) or '?'} 行试图访问模板不允许访问的内容（{exc}），已拒绝。"
            "叙述模板只能使用指标、占比和文字项。"
        ) from None
    except TemplateSyntaxError as exc:
        raise NarrativeError(f"叙述模板 {name} 第 {exc.lineno} 行语法错误：{exc.message}") from None
    except UndefinedError as exc:
        raise NarrativeError(
            f"叙述模板 {name} 第 {_template_line(exc) or '?'} 行引用了不存在的名称（{exc.message}）。"
            "可用的名称：各指标表代码、text、share、year、district、government。"
        ) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise NarrativeError(
            f"叙述模板 {name} 第 {_template_line(exc) or '?'} 行无法生成：{type(exc).__name__}: {exc}"
        ) from None


# --- from rendered text to a view -------------------------------------------------


def parse_rendered(text: str) -> tuple[list[Para], list[tuple[str, list[Para]]]]:
    """Rendered template -> preamble and (heading, items) per section."""
    preamble: list[Para] = []
    sections: list[tuple[str, list[Para]]] = []
    # Unit values lost their controls in _mark_data; this cleans the office's own lines.
    for line in strip_controls(text).split("\n"):
        raw = line.strip()
        clean = raw.replace(DATA_MARK, "").strip()
        if not clean:
            continue
        target = sections[-1][1] if sections else preamble
        if raw.startswith("# "):
            sections.append((clean[2:].strip(), []))
        elif raw.startswith("## "):
            target.append(Para(clean[3:].strip(), "h3"))
        elif raw.startswith("### "):
            target.append(Para(clean[4:].strip(), "h4"))
        else:
            target.append(Para(clean))
    return preamble, sections


def _state(status: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    return dict(zip_columns(status, "unit", "name")), dict(zip_columns(status, "unit", "status"))


def _table_values(fmt: ReportFormat, sections: dict[str, pd.DataFrame], code: str, scope: str) -> dict:
    frame = sections.get(code)
    if frame is None or frame.empty:
        return {}
    return values_for(frame, scope)


def narrative_context(fmt, year, config, sections, status, yoy=None) -> dict:
    catalogue = fmt.catalogue
    names, state = _state(status)
    template = str(catalogue.narrative)
    describe = _missing_indicator(catalogue, fmt, names, state, template)
    context: dict = {"year": year, "district": config["district"], "government": config["government"]}
    for code in fmt.tables:
        values = {row: v for (row, _), v in _table_values(fmt, sections, code, DISTRICT).items()}
        context[code] = _Figures(code, values, describe)
    narrative = sections.get(NARRATIVE_TABLE)
    texts: dict[str, str] = {}
    for code, item in catalogue.texts.items():
        parts = []
        for owner in item.owners:
            if narrative is not None and not narrative.empty and state.get(owner) == "accepted":
                text = values_for(narrative, owner).get((code, NARRATIVE_COLUMN))
                if text:
                    parts.append(text.strip())
        if parts:
            texts[code] = "\n".join(parts)
    context["text"] = _Figures("text", texts, _missing_text(catalogue, names, state, template))
    # --- issue 9 hook: {{ yoy("hotline", "calls") }} -> “较上年增加…”, wording by sign
    # (pipeline/steps/yoy.py). Without the build's table (tests of the template alone) nothing compares.
    if yoy is not None:
        from pipeline.steps.yoy import district_changes

        context["yoy"] = district_changes(yoy, default_column="value")
    return context


def render_district_text(
    fmt, year, config, sections, status, yoy=None
) -> tuple[list[Para], list[SectionView]]:
    catalogue = fmt.catalogue
    path: Path = catalogue.narrative
    if not path.is_file():
        raise NarrativeError(
            f"缺少 {year} 年度的报告叙述模板 {path}。请由政务公开办编写（格式见 pipeline/render/legacy.py 开头的说明）。"
        )
    source = path.read_text(encoding="utf-8")
    context = narrative_context(fmt, year, config, sections, status, yoy)
    preamble, found = parse_rendered(render_narrative(source, context, name=str(path)))
    headings = [h for h, _ in found]
    if headings != list(catalogue.sections):
        raise NarrativeError(
            f"叙述模板 {path} 的各部分标题（“# ”开头的行）应依次为：{'；'.join(catalogue.sections)}。"
            f"实际为：{'；'.join(headings) or '（没有）'}。"
        )
    codes = fmt.report_sections
    return preamble, [SectionView(code, h, items) for code, (h, items) in zip(codes, found)]


def _indicator_section(fmt: ReportFormat, code: str, values: dict) -> SectionView:
    """One table per indicator table: group headings as rows inside it, the unit in a column
    of its own (so a label never carries doubled brackets), the same three columns everywhere."""
    title, items = fmt.catalogue.tables[code]
    header = ["指标", "计量单位", "数值"]
    grid = Grid(head=[[Cell(h, header=True) for h in header]], layout="indicators")
    rows: list[list[str]] = []
    previous_group = None
    for item in items:
        if item.group and item.group != previous_group:
            grid.body.append([Cell(item.group, colspan=3, cls="group")])
            rows.append([item.group, "", ""])
        previous_group = item.group
        unit = "%" if item.kind == "share" else item.unit
        value = values.get((item.code, VALUE_COLUMN), NOT_SUBMITTED)
        indent = 1 if item.group else 0
        grid.body.append([Cell(item.label, cls=f"label indent{indent}"), Cell(unit), Cell(value, cls="num")])
        rows.append(["　" * indent + item.label, unit, value])
    return SectionView(code, title, grids=[grid], plain_tables=[PlainTable("", header, rows)])


def report_title(config: dict, year: int) -> str:
    record = config.get("publication", {}).get(str(year), {})
    return str(record.get("title") or district_title(config, year))


def build_views(fmt, year, config, sections, status, yoy=None):
    """District view from the narrative template; one view per accepted unit with its indicators."""
    catalogue = fmt.catalogue
    preamble, report_sections = render_district_text(fmt, year, config, sections, status, yoy)
    appendix = []
    if catalogue.appendix:
        appendix = [_indicator_section(fmt, c, _table_values(fmt, sections, c, DISTRICT)) for c in fmt.tables]
    district = district_view(
        config,
        year,
        fmt.name,
        status,
        title=report_title(config, year),
        preamble=preamble,
        sections=report_sections,
        appendix=appendix,
    )
    narrative = sections.get(NARRATIVE_TABLE)
    units = {}
    accepted = status[status["status"] == "accepted"]
    for code, name in zip_columns(accepted, "unit", "name"):
        owned = [t for t, (_, items) in catalogue.tables.items() if any(code in i.owners for i in items)]
        unit_sections = [_indicator_section(fmt, t, _table_values(fmt, sections, t, code)) for t in owned]
        if narrative is not None and not narrative.empty:
            for (row, _), text in values_for(narrative, code).items():
                item = catalogue.texts.get(row)
                if item is not None:
                    paras = [Para(line.strip()) for line in strip_controls(text).split("\n") if line.strip()]
                    unit_sections.append(SectionView(row, item.label, paras))
        units[code] = unit_report_view(
            name,
            year,
            fmt.name,
            title=f"{name}{year}年政府信息公开工作统计指标报送情况",
            final=district.record.final,
            preamble=[],
            sections=unit_sections,
        )
    return district, units
