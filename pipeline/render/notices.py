"""The region office's 问题清单 / 整改通知 to one district for one year (issue 18), as DOCX
ready to send: a title, the district and year, a table problem → what to fix → by when,
the issuing office and the date.

Drawn into the project's Word template (templates/shared/report.docx: GB/T 9704 page,
official faces; an office's own copy in <home>/templates/ first) by the report's DOCX
machinery (pipeline/render/docx.py). The deadline is `[region] rectify_days` (default
15) days after the issuing date, which the caller passes in: nothing here reads the
clock, so the same findings give the same bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from docxtpl import DocxTemplate

from pipeline.render.docx import _clean, _paragraph, filled_bytes, grid_xml, style_ids, subdoc, template_path
from pipeline.render.layout import Cell, Grid
from pipeline.render.model import Record
from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.errors import HomeError
from schemas.rectify import SEVERITY_WORDS, fix_text

RECTIFY_DAYS = 15
MAX_RECTIFY_DAYS = 365
# 序号, 问题, 整改要求, 整改期限 (mm): within the 156 mm type area.
WIDTHS = [12, 70, 50, 24]
FINDING_KEYS = ("rule", "severity", "table", "row", "column", "message")


def rectify_days(config: dict) -> int:
    """home.toml `[region] rectify_days`: days a district has to rectify (default 15)."""
    region = config.get("region", {})
    days = region.get("rectify_days", RECTIFY_DAYS) if isinstance(region, dict) else RECTIFY_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RECTIFY_DAYS:
        raise HomeError(
            f"home.toml 的 [region] 中 rectify_days = {days!r} 不正确，应为 1 到 {MAX_RECTIFY_DAYS} 的整数（整改天数）。"
        )
    return days


def rectify_deadline(config: dict, issued: date) -> date:
    """The date a district must have rectified by: `rectify_days` after `issued`."""
    return issued + timedelta(days=rectify_days(config))


def chinese_date(day: date) -> str:
    return Record("", "", date=day.isoformat()).date_text


def where(fmt: ReportFormat | None, finding: dict) -> str:
    """表“…”行“…”列“…” of a finding, in the format's labels (its codes when unknown)."""
    table, row, column = (str(finding.get(k) or "") for k in ("table", "row", "column"))
    if not table:
        return ""
    if table == NARRATIVE_TABLE:  # a text section: named by its heading
        return f"“{fmt.section_heading(row) if fmt is not None else row}”部分"
    t = fmt.tables.get(table) if fmt is not None else None
    rows = {r.code: "".join(r.path) for r in t.rows} if t else {}
    columns = {c.code: c.label for b in t.blocks for c in b.columns} if t else {}
    parts = [f"表“{t.title if t else table}”"]
    if row:
        parts.append(f"行“{rows.get(row, row)}”")
    if column:
        parts.append(f"列“{columns.get(column, column)}”")
    return "".join(parts)


def problem_text(fmt: ReportFormat | None, finding: dict) -> str:
    rule, severity = str(finding.get("rule", "")), str(finding.get("severity", ""))
    message = str(finding.get("message", ""))
    # A stored message's line (Message.render) already opens with its rule: not twice.
    said = message.startswith(f"【{rule}】")
    head = f"【{SEVERITY_WORDS.get(severity, severity)}·{rule}】" if rule and not said else ""
    place = where(fmt, finding)
    if said:  # the line names its unit and file first; the cell follows it
        return f"{message}（{place}）" if place else message
    return f"{head}{place}{'：' if place else ''}{message}"


def ordered(findings: list[dict]) -> list[dict]:
    """Errors before reminders, each in the order found (a stable sort: same input, same list)."""
    for f in findings:
        missing = [k for k in FINDING_KEYS if k not in f]
        if missing:
            raise ValueError(f"finding without {missing}: {f!r}")
    return sorted(findings, key=lambda f: 0 if f["severity"] == "ERROR" else 1)


def _plain(text: str, style_id: str) -> str:
    """A paragraph without the first-line indent (主送机关 starts at the margin)."""
    return (
        f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/><w:ind w:firstLineChars="0" w:firstLine="0"/></w:pPr>'
        f'<w:r><w:t xml:space="preserve">{escape(_clean(text))}</w:t></w:r></w:p>'
    )


def body_xml(rows: list[dict], fmt, district: str, year: int, deadline: date, issuer: str, ids) -> str:
    normal, h1, text_style = ids["Normal"], ids["一级标题"], ids["表格文字"]
    by = chinese_date(deadline)
    out = [_plain(f"{district}：", normal)]
    if not rows:
        out.append(
            _paragraph(f"经审核，你单位{year}年度政府信息公开工作年度报告未发现需要整改的问题。", normal)
        )
        return "".join(out)
    errors = sum(1 for f in rows if f["severity"] == "ERROR")
    out.append(
        _paragraph(
            f"经审核，你单位{year}年度政府信息公开工作年度报告存在以下 {len(rows)} 个问题"
            f"（错误 {errors} 个、提醒 {len(rows) - errors} 个）。请对照问题清单逐项整改，"
            f"于{by}前完成，并将整改情况（更正后的报表或情况说明）报{issuer}。",
            normal,
        )
    )
    out.append(_paragraph("问题清单", h1))
    head = [[Cell(text, header=True) for text in ("序号", "问题", "整改要求", "整改期限")]]
    body = [
        [
            Cell(str(n)),
            Cell(problem_text(fmt, f), cls="label"),
            Cell(fix_text(str(f["rule"]), str(f["severity"])), cls="label"),
            Cell(by),
        ]
        for n, f in enumerate(rows, 1)
    ]
    out.append(grid_xml(Grid(head, body, layout="notice"), text_style, widths=WIDTHS))
    out.append(_paragraph("逾期未整改或整改不到位的，将予以通报。", normal))
    return "".join(out)


def notice_title(district: str, year: int) -> str:
    return f"关于{district}{year}年度政府信息公开工作年度报告问题的整改通知"


def notice_docx(
    fmt: ReportFormat | None,
    *,
    district: str,
    year: int,
    findings: list[dict],
    issued: date,
    deadline: date,
    issuer: str,
    home_root: Path | None = None,
) -> bytes:
    """One district's 整改通知 for `year`: its findings ({rule, severity, table, row, column,
    message}; table/row/column codes of `fmt`, "" for a finding about no cell) as rows,
    errors first; `issuer` (the region's office) signs it on `issued`."""
    tpl = DocxTemplate(template_path("shared", home_root))
    rows = ordered(findings)
    title = notice_title(district, year)
    context = {
        "title": _clean(title),
        "draft_mark": "",
        "draft": False,
        "record": {"number": "", "issuer": _clean(issuer), "date_text": chinese_date(issued), "final": True},
        "body": subdoc(tpl, body_xml(rows, fmt, district, year, deadline, issuer, style_ids(tpl))),
        "year": year,
        "government": _clean(issuer),
    }
    stamp = datetime(issued.year, issued.month, issued.day, tzinfo=UTC)
    return filled_bytes(tpl, context, title=title, author=issuer, stamp=stamp)
