"""The per-file check: every door that looks at a file goes through here.

`read_file` is the file's own half: guards, reader, what the file says about
itself, control characters and limits, with any failure inside caught at the
file's boundary. The build calls it once per changed file (cached by content
hash) and then runs the format's rules over every unit at once; `check_file`
runs the same rules over this one file, for `nianbao check`, the portal and the
upload API. Rules are per unit, so both give a file the same messages
(tests/test_check_parity.py holds them to it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from pipeline.ingest.cells import ParsedFile, empty_cells
from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.catalogue import FileOrigin, cap_messages
from schemas.messages import Message, sort_messages
from schemas.text import find_controls, strip_controls

MAX_CELLS = 20_000  # a filled form has a few hundred cells; a legacy catalogue a few hundred more
MAX_TEXT_CHARS = 20_000  # per cell: a long section runs to a few thousand characters


@dataclass
class FileReport:
    """What one file is, read and checked as unit `unit`'s submission for one year."""

    unit: str
    unit_label: str
    file: str
    sha256: str
    cells: pd.DataFrame  # raw cells read (table, row, column, raw, sheet, location)
    messages: list[Message]

    @property
    def valid(self) -> bool:
        return not any(m.severity == "ERROR" for m in self.messages)


def read_file(
    data: bytes, fmt: ReportFormat, origin: FileOrigin, year: int, published: bool = False
) -> ParsedFile:
    """Guards and reader for one file, then what it says about itself (F8), limits
    (F14) and control characters (F17). Never raises: any failure is F15.
    `published`: the file is a published report the office recorded for the unit
    (pipeline/steps/published.py), read by the published-report readers."""
    from pipeline.ingest.read import read_submission

    try:
        if published:
            from pipeline.ingest.published_cells import read_published

            parsed = read_published(data, origin, year)
        else:
            parsed = read_submission(data, fmt=fmt, origin=origin, year=year)
        problems = list(parsed.problems)
        problems += declared_mismatch(origin, year, parsed.declared_units, parsed.declared_years)
        cells, limit_problems = _within_limits(parsed.cells, origin)
        problems += limit_problems
        return ParsedFile(cells, cap_messages(problems), parsed.declared_units, parsed.declared_years)
    except Exception as exc:  # noqa: BLE001 - whatever breaks inside, it is this file's problem
        return ParsedFile(empty_cells(), [origin.problem("F15.unexpected", error=type(exc).__name__)])


def _within_limits(cells: pd.DataFrame, origin: FileOrigin) -> tuple[pd.DataFrame, list[Message]]:
    problems: list[Message] = []
    if len(cells) > MAX_CELLS:
        problems.append(origin.problem("F14.lines", limit=MAX_CELLS))
        return empty_cells(), problems
    if cells.empty:
        return cells, problems
    # Over plain lists: a file has a few hundred cells, and pandas' per-call cost on
    # frames that small was most of a CSV file's read (0.5 of 1.2 ms).
    raws = cells["raw"].tolist()
    too_long = [i for i, raw in enumerate(raws) if len(raw) > MAX_TEXT_CHARS]
    for i in too_long:
        r = cells.iloc[i]
        problems.append(
            origin.problem("F14.text_length", sheet=r["sheet"], location=r["location"], length=len(raws[i]),
                           limit=MAX_TEXT_CHARS)
        )  # fmt: skip
    if too_long:
        cells = cells.drop(index=cells.index[too_long])
        raws = cells["raw"].tolist()
    tables = cells["table"].tolist()
    dirty = {
        i: chars
        for i, (table, raw) in enumerate(zip(tables, raws))
        if table == NARRATIVE_TABLE and (chars := find_controls(raw))
    }
    for i, chars in dirty.items():
        r = cells.iloc[i]
        problems.append(
            origin.problem("F17.controls", sheet=r["sheet"], location=r["location"], cell=r["row"],
                           chars="、".join(chars))
        )  # fmt: skip
    if dirty:
        # Published outputs strip them too (schemas/text.py); what is stored is already clean.
        cells = cells.copy()
        column = cells.columns.get_loc("raw")
        for i in dirty:
            cells.iat[i, column] = strip_controls(raws[i])
    return cells, problems


def declared_mismatch(origin: FileOrigin, year: int, units: set[str], years: set[str]) -> list[Message]:
    """F8 where a workbook names another unit or year than the one it was handed in for."""
    out = []
    if units and units != {origin.unit}:
        out.append(origin.problem("F8.workbook_unit", declared="、".join(sorted(units)), owner=origin.unit))
    if years and years != {str(year)}:
        out.append(origin.problem("F8.workbook_year", declared="、".join(sorted(years)), year=year))
    return out


def unit_problem(registry, unit: str, year: int, origin: FileOrigin) -> Message | None:
    """F7 when `unit` does not report for `year`: such a file is archived, never parsed."""
    if not unit:
        return origin.problem("F7.no_folder", year=year)
    found = registry.get(unit)
    if found is None:
        return origin.problem("F7.not_registered", year=year)
    if not found.active_in(year):
        return origin.problem("F7.inactive", year=year)
    return None


def check_file(data: bytes, name: str, unit: str, year: int, home=None) -> FileReport:
    """Messages for `data`, handed in as `name` by unit `unit` for `year`, as a build
    gives them. Without a home (a national year checked alone) the registry and
    last year's figures are not consulted."""
    from pipeline.steps.rules import check_isolated, home_settings
    from schemas import format_for_year

    registry = home.registry() if home is not None else None
    label = registry.label(unit) if registry is not None else unit
    origin = FileOrigin(unit, label, name)
    sha = hashlib.sha256(data).hexdigest()
    refused = unit_problem(registry, unit, year, origin) if registry is not None else None
    if refused is not None:
        return FileReport(unit, label, name, sha, empty_cells(), [refused])
    fmt = format_for_year(year, home.root if home is not None else None)
    parsed = read_file(data, fmt.for_unit(unit), origin, year)
    messages = list(parsed.problems)
    if not parsed.cells.empty:
        cells = parsed.cells.assign(unit=unit, year=year, file=name)
        previous, previous_format, note = _last_year(home, year, fmt, origin)
        messages += note
        names = registry.names() if registry is not None else {}
        # The office's thresholds, as the build uses them (parity between the doors).
        settings = home_settings(home) if home is not None else None
        # The build's own call: the same rules, caps and F15 for a rule that breaks on this file.
        messages += check_isolated(cells, fmt, names, previous, previous_format, settings).messages
    return FileReport(unit, label, name, sha, parsed.cells, sort_messages(messages))


def _last_year(home, year: int, fmt, origin: FileOrigin):
    """Last year as the build reads it. Where the build would stop (last year damaged or not
    built), a check of one file goes on without N7/N8 and says why, in one WARNING."""
    from pipeline.home import HomeError
    from pipeline.steps.rules import previous_year

    if home is None:
        return None, None, []
    try:
        return (*previous_year(home, year), [])
    except HomeError as exc:
        ids = [r.id for r in fmt.rules if r.kind in ("carry_over", "stock_flow")]
        if not ids:
            return None, None, []
        note = origin.problem("carry_over_skipped", rule=ids[0], severity="WARNING", rules="、".join(ids),
                              why=str(exc).rstrip("。"), previous_year=year - 1)  # fmt: skip
        return None, None, [note]
