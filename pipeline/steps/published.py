"""Last year from the published report (issue 17): the office records a unit's (or the
district's) published report as the unit's figures for a year the home has no data for.

published/<year>/<unit code>/<report>   a unit's report: in the intake it is one more
                                        file of the unit, read by the published-report
                                        readers through the same per-file check as every
                                        door, archived with origin "published"
published/<year>/_district/<report>     the district's own report: last year's district
                                        figures for the year-over-year table of the next
                                        year (pipeline/steps/yoy.py), nothing else

A unit's published report is a file like any hand-in: in a unit's folders the newest
file is in use, so a submission handed in later replaces it. Recording one over a year
in which the unit already handed in files is refused unless `replace` is given: real
data is never silently set aside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.home import Home, write_atomic
from pipeline.ingest.archive import archive_files
from pipeline.steps.inbox import DISTRICT_FOLDER, regular_file_problem, scan_inbox, scan_published

__all__ = [
    "DISTRICT_FOLDER",
    "DistrictReport",
    "PublishedRecordRefused",
    "Recorded",
    "district_report",
    "record_published",
]

SUFFIXES = (".html", ".htm", ".docx", ".pdf")


class PublishedRecordRefused(Exception):
    """The report cannot be recorded; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class Recorded:
    unit: str  # a unit code, or DISTRICT_FOLDER
    year: int
    path: Path  # where it now is in the home
    sha256: str
    cells: int  # figures read
    replaced: tuple[str, ...]  # names of the unit's hand-ins it now stands in front of


def who(home: Home, unit: str | None) -> str:
    return "全区" if not unit else home.registry().label(unit)


def record_published(
    home: Home, year: int, unit: str | None, name: str, data: bytes, *, replace: bool = False
) -> Recorded:
    """Record `data` (the published report named `name`) as `unit`'s record for `year`
    (`unit` None: the district's report). Read first, in full: a report with a cell that
    cannot be read is refused, never recorded with a gap."""
    label = who(home, unit)
    folder = unit or DISTRICT_FOLDER
    if unit is not None:
        _check_unit(home, year, unit, label)
    _check_name_and_year(name, year)
    parsed = _read_in_full(data, folder, label, name, year)
    held = _real_data(home, year, unit)
    if held and not replace:
        raise PublishedRecordRefused(
            f"{label} {year} 年度已有报送的数据（{'、'.join(held[:3])}{' 等' if len(held) > 3 else ''}），"
            "未导入。已公开年报不会悄悄替换已报送的数据；确需以已公开年报为准，请加 --replace"
            "（门户中勾选“替换已报送的数据”），原有文件仍保留在收件箱和存档中"
        )
    [stored] = archive_files(home.archive, [(folder, year, name, data)], origin="published")
    target = _put_in_place(home, year, folder, name, data)
    if unit is not None:
        # The year's inbox folder marks a year with something to build (sensor, portal, carry-over note).
        home.inbox_dir(year).mkdir(parents=True, exist_ok=True)
    figures = int((parsed.cells["table"] != "narrative").sum()) if len(parsed.cells) else 0
    return Recorded(folder, year, target, stored.sha256, figures, tuple(held))


def _check_unit(home: Home, year: int, unit: str, label: str) -> None:
    """A unit of the registry that reports in `year`, or PublishedRecordRefused."""
    found = home.registry().get(unit)
    if found is None:
        raise PublishedRecordRefused(f"单位代码“{unit}”不在单位名册（registry/units.csv）中")
    if not found.active_in(year):
        raise PublishedRecordRefused(f"{label}在 {year} 年度不需报送（见单位名册的起止年度）")


def _check_name_and_year(name: str, year: int) -> None:
    """A safe plain file name of a published report's type, and a year the readers know."""
    from pipeline.ingest.published import PublishedRefused
    from pipeline.ingest.published.core import check_year
    from schemas.names import name_problem

    bad_name = name_problem(name)
    if bad_name or Path(name).name != name:
        raise PublishedRecordRefused(f"文件名“{name}”不能使用：{bad_name or '含有路径'}")
    if Path(name).suffix.lower() not in SUFFIXES:
        raise PublishedRecordRefused(
            f"“{name}”不是已公开年报的文件类型（只接受 {'、'.join(SUFFIXES)}：网页、Word 文档、PDF）"
        )
    try:
        check_year(year)
    except PublishedRefused as exc:
        raise PublishedRecordRefused(str(exc)) from None


def _read_in_full(data: bytes, folder: str, label: str, name: str, year: int):
    """The report's cells, or PublishedRecordRefused naming its first problems."""
    from pipeline.ingest.published_cells import read_published
    from schemas.catalogue import FileOrigin

    parsed = read_published(data, FileOrigin(folder, label, name), year)
    if parsed.problems:
        lines = "；".join(m.text for m in parsed.problems[:5])
        more = f"（另有 {len(parsed.problems) - 5} 处）" if len(parsed.problems) > 5 else ""
        raise PublishedRecordRefused(f"{name} 未导入：{lines}{more}")
    return parsed


def _put_in_place(home: Home, year: int, folder: str, name: str, data: bytes) -> Path:
    """published/<year>/<folder>/<name>, the folder's one report (an older one is removed)."""
    target = home.contained(home.published_dir(year) / folder) / name
    for owner, old in scan_published(home, year):  # one report per unit and year: the new one
        if owner == folder and old.name != name:
            old.unlink()  # its bytes stay in the archive
    write_atomic(target, data)
    os.utime(target)  # the newest file of the unit's folders: it is in use (see intake)
    return target


def _real_data(home: Home, year: int, unit: str | None) -> list[str]:
    """Names of the hand-ins that are real data for (`unit`, `year`); for the district,
    any unit's hand-in or recorded report of the year (then the units' figures are the
    district's, and its own report is not needed to stand for them)."""
    entries = [(u, p) for u, p in scan_inbox(home, year) if u and regular_file_problem(p) is None]
    if unit is None:
        return [f"{u}/{p.name}" for u, p in entries]
    return [p.name for u, p in entries if u == unit]


@dataclass(frozen=True)
class DistrictReport:
    """The district's published report of a year, as last year's district figures."""

    file: str
    cells: pd.DataFrame  # prepared cells (schemas.rules.prepare) of the tables, unit = "district"


def district_report(home: Home, year: int) -> DistrictReport | None:
    """The district's published report recorded for `year` (published/<year>/_district/), read
    through the same reader; None when there is none or it cannot be read in full."""
    found = [p for u, p in scan_published(home, year) if u == DISTRICT_FOLDER]
    if not found:
        return None
    from pipeline.ingest.published_cells import read_published  # the readers: only when there is one
    from pipeline.steps.sections import DISTRICT
    from schemas import format_for_year
    from schemas.base import NARRATIVE_TABLE
    from schemas.catalogue import FileOrigin
    from schemas.rules import prepare

    path = max(found, key=lambda p: (p.stat().st_mtime_ns, p.name))
    try:
        fmt = format_for_year(year, home.root)
        parsed = read_published(path.read_bytes(), FileOrigin(DISTRICT, "全区", path.name), year)
    except (OSError, ValueError, KeyError):
        return None
    if parsed.problems or parsed.cells.empty:
        return None
    cells = parsed.cells[parsed.cells["table"] != NARRATIVE_TABLE].assign(
        unit=DISTRICT, year=year, file=path.name
    )
    return DistrictReport(path.name, prepare(cells, fmt))
