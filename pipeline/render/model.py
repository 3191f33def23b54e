"""The one model of a report that every format produces and every writer reads.

National (2021), trial (2019) and legacy (narrative) reports all become a
`ReportView`: the publication record, the title, sections of paragraphs and
tables (with their merged-header layout from layout.py), an appendix, and,
only when the home asks for it, the list of units left out. Writers
(pipeline/render/writers.py) turn one view into HTML, Markdown, DOCX or PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.render.layout import Grid, PlainTable

if TYPE_CHECKING:  # a view is plain data; the status frame is only read here
    import pandas as pd

DRAFT_MARK = "征求意见稿"


@dataclass
class Para:
    text: str
    kind: str = "p"  # "p", "h3" (（一）…) or "h4" (1.…)
    # The office's own Markdown (kept, made safe) rather than a unit's text (shown literally).
    office: bool = False


@dataclass
class SectionView:
    code: str
    heading: str
    items: list[Para] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    plain_tables: list[PlainTable] = field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        return [p.text for p in self.items]


@dataclass
class Record:
    """The publication record a portal page shows above a report (公开目录的发布信息)."""

    title: str
    issuer: str
    number: str = ""
    date: str = ""
    validity: str = ""
    # Final once the year's record has its 文号 and 发文日期 in home.toml; a draft until then.
    final: bool = False

    @property
    def date_text(self) -> str:
        """发文日期 as an official document prints it: 2025年3月20日."""
        try:
            y, m, d = (int(part) for part in self.date.split("-"))
        except ValueError:
            return self.date
        return f"{y}年{m}月{d}日"

    def rows(self) -> list[list[tuple[str, str]]]:
        """Filled cells only, two to a row, as on a portal page; the title has its own row."""
        cells = [
            (label, value)
            for label, value in (
                ("文　　号", self.number),
                ("发文日期", self.date),
                ("发布机构", self.issuer),
                ("有 效 性", self.validity),
            )
            if value
        ]
        return [cells[i : i + 2] for i in range(0, len(cells), 2)]

    def md_rows(self) -> list[list[str]]:
        """The same as four-column Markdown rows, labels without the spacing used to align them."""
        out = []
        for pair in self.rows():
            cells = [text.replace("　", "").replace(" ", "") if i % 2 == 0 else text for label_value in pair
                     for i, text in enumerate(label_value)]  # fmt: skip
            out.append(cells + [""] * (4 - len(cells)))
        return [*out, ["标题", self.title, "", ""]]


@dataclass
class ReportView:
    kind: str  # "district" or "unit"
    title: str
    year: int
    government: str
    format_name: str
    record: Record
    preamble: list[Para]
    sections: list[SectionView]
    appendix: list[SectionView] = field(default_factory=list)
    appendix_heading: str = "附件：统计指标"
    # Units rejected or missing: in the validation report, here only when home.toml asks.
    coverage: dict | None = None

    @property
    def draft(self) -> bool:
        return not self.record.final

    @property
    def draft_mark(self) -> str:
        return DRAFT_MARK if self.draft else ""

    def tables(self) -> list[tuple[str, Grid]]:
        """Every table with the heading it sits under, in reading order."""
        return [(s.heading, g) for s in [*self.sections, *self.appendix] for g in s.grids]


@dataclass
class LazyView:
    """A unit's report view, built only when the report must be rendered again:
    `key` captures everything the view is made from."""

    key: str
    make: Callable[[], ReportView]


def resolve(view: ReportView | LazyView) -> ReportView:
    return view.make() if isinstance(view, LazyView) else view


def view_key(view: ReportView | LazyView) -> str:
    return view.key if isinstance(view, LazyView) else repr(view)


def publication_record(config: dict, year: int, title: str, issuer: str) -> Record:
    """The year's record from home.toml ([publication.<year>]): final once 文号 and 发文日期 are filled."""
    entry = config.get("publication", {}).get(str(year), {})
    final = bool(str(entry.get("number", "")).strip() and str(entry.get("date", "")).strip())
    return Record(
        title=title,
        issuer=str(entry.get("issuer", issuer)),
        number=str(entry.get("number", "")),
        date=str(entry.get("date", "")),
        validity=str(entry.get("validity", "")),
        final=final,
    )


def district_view(
    config: dict,
    year: int,
    format_name: str,
    status: pd.DataFrame,
    *,
    title: str,
    preamble: list[Para],
    sections: list[SectionView],
    appendix: list[SectionView] | None = None,
) -> ReportView:
    """The district report's view, whichever era wrote its text: the home's government
    issues it, home.toml's [publication.<year>] makes it final, `[publish] coverage`
    adds the units left out."""
    return ReportView(
        kind="district",
        title=title,
        year=year,
        government=config["government"],
        format_name=format_name,
        record=publication_record(config, year, title, config["government"]),
        preamble=preamble,
        sections=sections,
        appendix=appendix or [],
        coverage=coverage(status) if coverage_in_report(config) else None,
    )


def unit_report_view(
    name: str, year: int, format_name: str, *, title: str, final: bool, preamble: list[Para], sections
) -> ReportView:
    """A unit's report view: no 文号 of its own, a draft or final with the district's report."""
    return ReportView(
        kind="unit",
        title=title,
        year=year,
        government=name,
        format_name=format_name,
        record=Record(title=title, issuer=name, final=final),
        preamble=preamble,
        sections=sections,
    )


def coverage_in_report(config: dict) -> bool:
    """home.toml `[publish] coverage = true` puts 附：单位报送情况 into the district report."""
    return bool(config.get("publish", {}).get("coverage", False))


def district_title(config: dict, year: int) -> str:
    override = config.get("title")
    if override:
        return str(override).replace("{year}", str(year))
    return f"{config['district']}{year}年政府信息公开工作年度报告"


def coverage(status: pd.DataFrame) -> dict:
    """附：单位报送情况: how many units were expected, and who is accepted, rejected, missing."""
    by = {s: status[status["status"] == s]["name"].tolist() for s in ("accepted", "rejected", "missing")}
    return {"expected": len(status), **by}
