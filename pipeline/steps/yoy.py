"""Year-over-year: every figure of the official tables beside last year's figure (last
year as every rule reads it: schemas.rules.registry.YearInputs), for the district and
each unit, and wording for the office's text templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from pipeline.home import Home
from pipeline.steps.sections import DISTRICT, all_sections
from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.compare import comparable_cells
from schemas.frames import zip_columns
from schemas.numbers import format_number, to_decimal
from schemas.rules.registry import marked_files, rejected_files, unreadable_cells

YOY_COLUMNS = [
    "scope",
    "table",
    "row",
    "column",
    "value",
    "previous",
    "previous_file",
    "difference",
    "percent",
    "previous_origin",
]
# previous_origin: where last year's figure comes from, when not accepted hand-ins.
REJECTED, PUBLISHED = "rejected", "published"


def percent_change(now, before) -> str:
    """Change in percent to one decimal ("21.6"), "" when last year was 0 (exact: Decimal)."""
    now, before = to_decimal(now), to_decimal(before)
    if before == 0:
        return ""
    value = (now - before) * 100 / before
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class LastYear:
    """Last year as the year-over-year table reads it, the same as the rules do
    (schemas.rules.registry.YearInputs): the district's published sums (accepted units);
    each unit's accepted figures, or, where its submission was rejected, the readable
    figures of its last file (`rejected_files` names it); no unit that handed in nothing."""

    sections: dict[str, pd.DataFrame]
    format: ReportFormat
    rejected_files: dict[str, str]
    unknown: frozenset[tuple[str, str, str, str]] = frozenset()  # (unit, table, row, column) unreadable
    # scope (a unit, or the district) -> the published report its last-year figures were imported from
    published_files: dict[str, str] = field(default_factory=dict)


def year_over_year(
    sections: dict[str, pd.DataFrame], fmt: ReportFormat, last: LastYear | None
) -> pd.DataFrame:
    """One line per (scope, cell) this year, with last year's comparable figure where there is one
    (a blank cell last year is 0; a unit not on record last year, or a figure that could not be
    read, has no previous figure — never 0). `previous_file` names the rejected file a unit's
    previous figures come from ("" for accepted figures)."""
    now = _long(sections)
    if now.empty:
        return pd.DataFrame(columns=YOY_COLUMNS, dtype="string")
    mapping = comparable_cells(fmt, last.format) if last else {}
    before = _long(last.sections if last else {})
    on_record = set(before["scope"])
    if mapping:
        keys = pd.DataFrame(
            [(*k, *v) for k, v in mapping.items()],
            columns=["table", "row", "column", "p_table", "p_row", "p_column"],
        )
        now = now.merge(keys, on=["table", "row", "column"], how="left", sort=False)
        old = before.rename(
            columns={"table": "p_table", "row": "p_row", "column": "p_column", "value": "previous"}
        )
        now = now.merge(old, on=["scope", "p_table", "p_row", "p_column"], how="left", sort=False)
        comparable = now["p_table"].notna() & now["scope"].isin(on_record)
        if last.unknown:
            keys = zip_columns(now, "scope", "p_table", "p_row", "p_column")
            comparable &= pd.Series([k not in last.unknown for k in keys], index=now.index)
        now["previous"] = now["previous"].where(now["previous"].notna(), "0").where(comparable, "")
    else:
        now["previous"] = ""
    rejected = last.rejected_files if last else {}
    published = last.published_files if last else {}
    basis = [
        ("", "") if p == "" else (rejected[s], REJECTED) if s in rejected
        else (published[s], PUBLISHED) if s in published else ("", "")
        for s, p in zip_columns(now, "scope", "previous")
    ]  # fmt: skip
    now["previous_file"] = [file for file, _ in basis]
    now["previous_origin"] = [origin for _, origin in basis]
    has = now["previous"] != ""
    now["difference"] = ""
    now.loc[has, "difference"] = [
        format_number(Decimal(v) - Decimal(p)) for v, p in zip_columns(now.loc[has], "value", "previous")
    ]
    now["percent"] = ""
    now.loc[has, "percent"] = [
        percent_change(v, p) for v, p in zip_columns(now.loc[has], "value", "previous")
    ]
    return now[YOY_COLUMNS].astype("string").reset_index(drop=True)


def _long(sections: dict[str, pd.DataFrame]) -> pd.DataFrame:
    frames = [
        f[["scope", "row", "column", "value"]].assign(table=code)
        for code, f in sections.items()
        if code != NARRATIVE_TABLE and f is not None and len(f)
    ]
    if not frames:
        return pd.DataFrame(columns=["scope", "table", "row", "column", "value"])
    return pd.concat(frames, ignore_index=True)[["scope", "table", "row", "column", "value"]]


def last_year_sections(home: Home, year: int, previous: pd.DataFrame | None, fmt: ReportFormat | None):
    """Last year's sections (district and units) and format from last year's cells as the
    build read them once (`pipeline.steps.rules.previous_year`, kept in the warehouse as
    `last_year`); see `LastYear`."""
    from pipeline.steps.published import district_report
    from pipeline.steps.rules import ACCEPTED_COLUMNS
    from schemas import format_for_year

    report = district_report(home, year - 1)
    if previous is None or fmt is None:
        if report is None:
            return None
        # No unit on record last year: the district's published report alone.
        fmt = format_for_year(year - 1, home.root)
        previous = pd.DataFrame({c: pd.Series(dtype="string") for c in ACCEPTED_COLUMNS}).assign(
            number=pd.Series(dtype=float), rejected_file="", unreadable=False, published_file=""
        )
    marked = previous["rejected_file"].fillna("") != ""
    readable = ~previous["unreadable"].fillna(False).astype(bool)
    sections = all_sections(previous[~marked], fmt)
    if (marked & readable).any():
        for code, frame in all_sections(previous[marked & readable], fmt).items():
            units = frame[frame["scope"] != DISTRICT]
            if len(units):
                sections[code] = pd.concat([sections[code], units], ignore_index=True)
    published = marked_files(previous, "published_file")
    unknown = unreadable_cells(previous)
    if report is not None:
        # The district's own published report is last year's district figures (what was
        # published), in place of the sums of the units on record (pipeline/steps/published.py).
        mine = all_sections(report.cells[report.cells["ok"] & (report.cells["kind"] != "")], fmt)
        for code, frame in mine.items():
            if code in sections:
                kept = sections[code][sections[code]["scope"] != DISTRICT]
                sections[code] = pd.concat([frame[frame["scope"] == DISTRICT], kept], ignore_index=True)
        published[DISTRICT] = report.file
        bad = report.cells[~report.cells["ok"] & (report.cells["kind"] != "")]
        unknown = {k for k in unknown if k[0] != DISTRICT} | set(
            zip_columns(bad, "unit", "table", "row", "column")
        )
    return LastYear(sections, fmt, rejected_files(previous), frozenset(unknown), published)


def read_last_year(home: Home, year: int) -> tuple[pd.DataFrame | None, ReportFormat | None]:
    """Last year's cells and format as this year's validation read them (the warehouse's
    `last_year`, written by the validation step): (None, None) when there is no last year."""
    from pipeline.warehouse import Warehouse
    from schemas import format_for_year

    warehouse = Warehouse.of(home, year)
    if not warehouse.exists("last_year"):
        return None, None
    previous = warehouse.read("last_year")
    previous["unreadable"] = previous["unreadable"].astype(bool)
    return previous, format_for_year(year - 1, home.root)


@dataclass(frozen=True)
class Change:
    """One figure against last year, for the office's templates: ``{{ yoy(...) }}`` prints
    “较上年增加12件、增长21.6%”; its parts are attributes."""

    value: str
    previous: str  # "" when last year has no comparable figure
    unit: str = "件"

    @property
    def available(self) -> bool:
        return self.previous != ""

    @property
    def difference(self) -> str:
        return (
            format_number(abs(to_decimal(self.value) - to_decimal(self.previous))) if self.available else ""
        )

    @property
    def percent(self) -> str:
        if not self.available:
            return ""
        return percent_change(self.value, self.previous).lstrip("-")

    @property
    def direction(self) -> str:
        """增加 / 减少 / 持平."""
        if not self.available:
            return ""
        now, before = to_decimal(self.value), to_decimal(self.previous)
        return "增加" if now > before else "减少" if now < before else "持平"

    def __str__(self) -> str:
        if not self.available:
            return "上年无可比数据"
        if self.direction == "持平":
            return "与上年持平"
        rise = "增长" if self.direction == "增加" else "下降"
        text = f"较上年{self.direction}{self.difference}{self.unit}"
        return f"{text}、{rise}{self.percent}%" if self.percent else text


def changes(frame: pd.DataFrame, scope: str = DISTRICT, default_column: str = "total"):
    """A function for templates: yoy(table, row, column="total", unit="件") -> Change."""
    index = {
        (t, r, c): (v, p)
        for s, t, r, c, v, p in zip_columns(frame, "scope", "table", "row", "column", "value", "previous")
        if s == scope
    }

    def yoy(table: str, row: str, column: str = default_column, unit: str = "件") -> Change:
        value, previous = index.get((table, row, column), ("0", ""))
        return Change(str(value), "" if previous is None or pd.isna(previous) else str(previous), unit)

    return yoy


def district_changes(yoy: pd.DataFrame | None, default_column: str = "total"):
    """The `yoy` function of the district for the office's text templates, read from the
    build's year-over-year table (None: no table, so nothing to compare with)."""
    if yoy is None:
        return None
    return changes(yoy[yoy["scope"] == DISTRICT], default_column=default_column)
