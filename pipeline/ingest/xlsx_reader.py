"""Read a filled-in workbook (see pipeline/workbook/writer.py) into raw cells.

The package is checked first (pipeline/ingest/guards.py). Cells are located by the hidden codes the
template carries; a sheet whose codes were lost is read by its verbatim labels.
A bad file never raises: it comes back as a ParsedFile with problems.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from pipeline.ingest.cells import ParsedFile, cells_frame, excel_value_text
from pipeline.ingest.guards import MAX_COLS, MAX_ROWS, Refused, check_xlsx_package
from pipeline.workbook.marks import (
    COLUMNS_MARK,
    META_SHEET,
    NARRATIVE_SHEET,
    TABLE_MARK,
    WIDE_KEY_SEP,
    WIDE_LINE_MARK,
    expected_titles,
    sheet_name,
)
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat, Table
from schemas.catalogue import FileOrigin
from schemas.messages import Message
from schemas.numbers import parse_number


@dataclass
class _Reading:
    origin: FileOrigin
    problems: list[Message] = field(default_factory=list)
    cells: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def add(self, key: str, sheet: str = "", location: str = "", **facts) -> None:
        self.problems.append(self.origin.problem(key, sheet=sheet, location=location, **facts))

    def emit(self, table: str, row: str, column: str, raw: str, sheet: str, r: int, c: int) -> None:
        self.cells.append((table, row, column, raw, sheet, address(r, c)))


def address(r: int, c: int) -> str:
    """1-based row and 0-based column index -> "C8"."""
    return f"{get_column_letter(c + 1)}{r}"


def read_xlsx(data: bytes, fmt: ReportFormat, origin: FileOrigin) -> ParsedFile:
    """Read a workbook's bytes. The package guards run first (pipeline/ingest/guards.py)."""
    reading = _Reading(origin)
    declared: dict[str, str] = {}
    try:
        formula_sheets = check_xlsx_package(data)
        declared = _read_workbook(data, fmt, reading, formula_sheets)
    except Refused as refused:
        reading.problems.append(origin.problem(refused.key, sheet=refused.sheet, **refused.facts))
    except Exception:  # noqa: BLE001 - openpyxl fails in many ways on a damaged workbook
        reading.add("F5.damaged")
    return ParsedFile(
        cells=cells_frame(reading.cells),
        problems=reading.problems,
        declared_units={declared["unit"]} if declared.get("unit") else set(),
        declared_years={declared["year"]} if declared.get("year") else set(),
    )


# --- reading --------------------------------------------------------------


def _load(data: bytes, *, data_only: bool):
    with warnings.catch_warnings():
        # openpyxl warns about Excel extensions it drops; irrelevant to values.
        warnings.simplefilter("ignore")
        return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)


def _grid(ws, reading: _Reading) -> list[tuple] | None:
    """All rows of a sheet as value tuples (row 1 first), or None when too big."""
    ws.reset_dimensions()  # a stale <dimension> would truncate rows
    rows = []
    for values in ws.iter_rows(min_row=1, values_only=True):
        if len(rows) >= MAX_ROWS or len(values) > MAX_COLS:
            reading.add("F5.range", sheet=ws.title, max_rows=MAX_ROWS, max_cols=MAX_COLS)
            return None
        rows.append(values)
    return rows


def _read_workbook(
    data: bytes, fmt: ReportFormat, reading: _Reading, formula_sheets: set[str]
) -> dict[str, str]:
    wb = _load(data, data_only=True)
    formulas_wb = _load(data, data_only=False) if formula_sheets else None
    try:
        meta = _meta(wb)
        if meta.get("format") and meta["format"] != fmt.code:
            reading.add(
                "F11.other_format", made_for=meta.get("format_name") or meta["format"], expected=fmt.name
            )
        seen: set[str] = set()
        unmarked = _read_marked_sheets(wb, formulas_wb, formula_sheets, fmt, reading, seen)
        _read_unmarked_sheets(unmarked, fmt, reading, seen)
        _report_missing_sheets(fmt, reading, seen)
    finally:
        wb.close()
        if formulas_wb is not None:
            formulas_wb.close()
    return meta


def _read_marked_sheets(
    wb, formulas_wb, formula_sheets: set[str], fmt: ReportFormat, reading: _Reading, seen: set[str]
) -> list[_Sheet]:
    """Read each sheet that carries the template's codes (adding its table to `seen`);
    return the sheets that lost them, to be read by their labels."""
    unmarked = []
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        grid = _grid(ws, reading)
        if grid is None:
            continue
        formulas = set()
        if formulas_wb is not None and ws.title in formula_sheets:
            formulas = _formula_cells(formulas_wb[ws.title])
        sheet = _Sheet(ws.title, grid, formulas)
        table = sheet.marked_table()
        if table is None or not sheet.has_key_rows():
            unmarked.append(sheet)
        elif table == NARRATIVE_TABLE or table in fmt.tables:
            _read_keyed(sheet, fmt, table, reading)
            seen.add(table)
    return unmarked


def _read_unmarked_sheets(
    unmarked: list[_Sheet], fmt: ReportFormat, reading: _Reading, seen: set[str]
) -> None:
    for sheet in unmarked:
        table = _guess_table(sheet, fmt, seen)
        if table is None:
            continue  # unknown sheets (the clerk's own notes) are ignored
        reading.add("F11.by_labels", sheet=sheet.name)
        _read_by_labels(sheet, fmt, table, reading)
        seen.add(table)


def _report_missing_sheets(fmt: ReportFormat, reading: _Reading, seen: set[str]) -> None:
    expected = list(fmt.tables) + ([NARRATIVE_TABLE] if fmt.narrative_rows else [])
    if expected and not seen:  # not the template at all: an error, never "all zeros"
        reading.add("F18.no_tables", expected=expected_titles(fmt))
        return
    for code in expected:
        if code not in seen:
            title = fmt.tables[code].title if code in fmt.tables else NARRATIVE_SHEET
            reading.add("F11.missing_sheet", title=title)


def _meta(wb) -> dict[str, str]:
    if META_SHEET not in wb.sheetnames:
        return {}
    meta = {}
    for values in wb[META_SHEET].iter_rows(min_row=1, max_row=50, max_col=2, values_only=True):
        if len(values) >= 2 and values[0] is not None:
            meta[excel_value_text(values[0])] = excel_value_text(values[1])
    return meta


def _formula_cells(ws) -> set[tuple[int, int]]:
    """(row, 0-based column) of every formula cell in a sheet."""
    ws.reset_dimensions()
    found = set()
    for r, values in enumerate(ws.iter_rows(min_row=1, max_row=MAX_ROWS, values_only=True), start=1):
        for c, v in enumerate(values):
            if isinstance(v, str) and v.startswith("="):
                found.add((r, c))
    return found


@dataclass
class _Sheet:
    name: str
    grid: list[tuple]
    formulas: set[tuple[int, int]]

    def lines(self):
        """(row number, [(column index, text)]) of every non-blank line."""
        for r, values in enumerate(self.grid, start=1):
            cells = [(c, excel_value_text(v)) for c, v in enumerate(values)]
            cells = [(c, t) for c, t in cells if t or (r, c) in self.formulas]
            if cells:
                yield r, cells

    def marker(self) -> tuple[int, int] | None:
        for r, values in enumerate(self.grid[:20], start=1):
            for c, v in enumerate(values[:20]):
                if isinstance(v, str) and v.startswith(TABLE_MARK):
                    return r, c
        return None

    def marked_table(self) -> str | None:
        found = self.marker()
        return None if found is None else self.grid[found[0] - 1][found[1]][len(TABLE_MARK) :]

    def has_key_rows(self) -> bool:
        found = self.marker()
        key_col = found[1] if found else 0
        return any(len(v) > key_col and v[key_col] == COLUMNS_MARK for v in self.grid)

    def value(self, r: int, c: int, reading: _Reading) -> str | None:
        """The text of a cell to emit, or None (blank, or a formula with no result)."""
        values = self.grid[r - 1]
        text = excel_value_text(values[c]) if c < len(values) else ""
        if not text and (r, c) in self.formulas:
            reading.add("F12.no_result", sheet=self.name, location=address(r, c), cell=address(r, c))
            return None
        return text or None


def _read_keyed(sheet: _Sheet, fmt: ReportFormat, table: str, reading: _Reading) -> None:
    """Read cells by the hidden key column and key rows."""
    _Keyed(sheet, fmt, table, reading).read()


class _Keyed:
    """A sheet read by its hidden codes: a key column naming each line's row, and key
    rows naming the columns below them."""

    def __init__(self, sheet: _Sheet, fmt: ReportFormat, table: str, reading: _Reading):
        self.sheet, self.table, self.reading = sheet, table, reading
        self.kinds = fmt.cell_kinds()
        self.key_col = sheet.marker()[1]
        self.pairs = _wide_pairs(fmt.tables.get(table))
        self.keys: dict[int, str] | None = None  # column index -> column code, from the last key row

    def read(self) -> None:
        for r, cells in self.sheet.lines():
            values = self.sheet.grid[r - 1]
            key = excel_value_text(values[self.key_col]) if self.key_col < len(values) else ""
            if key == COLUMNS_MARK:
                self.keys = {c: t for c, t in cells if c != self.key_col}
            elif self.keys is not None and not key.startswith(TABLE_MARK):  # else the title area
                self._line(r, cells, key, values)

    def _line(self, r: int, cells: list[tuple[int, str]], key: str, values: tuple) -> None:
        first_value_col = min(self.keys, default=self.key_col + 1)
        for c, text in cells:
            if c <= self.key_col or (key and c < first_value_col):
                continue  # codes and row labels
            if not key and not _looks_like_value(values[c]):
                continue  # headings and labels between blocks
            target = self._target(key, c)
            if target is not None and (self.table, *target) in self.kinds:
                value = self.sheet.value(r, c, self.reading)
                if value is not None:
                    self.reading.emit(self.table, *target, value, self.sheet.name, r, c)
            elif text:  # an uncalculated formula off the form is harmless
                self.reading.add(
                    "F11.off_form",
                    sheet=self.sheet.name,
                    location=address(r, c),
                    cell=address(r, c),
                    text=_short(text),
                )

    def _target(self, key: str, c: int) -> tuple[str, str] | None:
        """(row code, column code) of column `c` on a line keyed `key`, or None (off the form)."""
        if not key or c not in self.keys:
            return None
        return self.pairs.get(self.keys[c]) if key == WIDE_LINE_MARK else (key, self.keys[c])


def _wide_pairs(table: Table | None) -> dict[str, tuple[str, str]]:
    if table is None or table.layout != "wide":
        return {}
    return {f"{r}{WIDE_KEY_SEP}{c}": (r, c) for r, c, _ in table.cells()}


def _looks_like_value(value) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and parse_number(value) is not None


def _short(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


# --- fallback: verbatim labels ----------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _guess_table(sheet: _Sheet, fmt: ReportFormat, seen: set[str]) -> str | None:
    texts = {_norm(t) for _, cells in list(sheet.lines())[:10] for _, t in cells}
    for table in fmt.tables.values():
        if table.code not in seen and (
            _norm(table.title) in texts or sheet.name == sheet_name(table.title, set())
        ):
            return table.code
    if fmt.narrative_rows and NARRATIVE_TABLE not in seen:
        headings = {_norm(fmt.section_heading(c)) for c in fmt.narrative_rows}
        all_texts = {_norm(t) for _, cells in sheet.lines() for _, t in cells}
        if sheet.name.startswith(NARRATIVE_SHEET) or headings & all_texts:
            return NARRATIVE_TABLE
    return None


def _read_by_labels(sheet: _Sheet, fmt: ReportFormat, table: str, reading: _Reading) -> None:
    if table == NARRATIVE_TABLE:
        _narrative_by_labels(sheet, fmt, reading)
    elif fmt.tables[table].layout == "wide":
        _wide_by_labels(sheet, fmt.tables[table], reading)
    else:
        _grid_by_labels(sheet, fmt.tables[table], reading)


def _grid_by_labels(sheet: _Sheet, table: Table, reading: _Reading) -> None:
    """Rows by their own label (in form order, so repeated labels resolve by
    position); columns by the most recent header cell with their label."""
    rows_by_label: dict[str, list] = {}
    block_of = {}
    for block in table.blocks:
        for row in block.rows:
            rows_by_label.setdefault(_norm(row.label), []).append(row)
            block_of[row.code] = block
    column_labels = {_norm(c.label) for b in table.blocks for c in b.columns}
    used: set[str] = set()
    column_at: dict[str, int] = {}
    for r, cells in sheet.lines():
        hit = None
        for c, text in cells:
            free = [row for row in rows_by_label.get(_norm(text), []) if row.code not in used]
            if free:
                hit = (c, free[0])
        if hit is None:
            for c, text in cells:
                if _norm(text) in column_labels:
                    column_at[_norm(text)] = c
            continue
        label_col, row = hit
        used.add(row.code)
        for column in block_of[row.code].row_columns(row):
            c = column_at.get(_norm(column.label))
            if c is not None and c > label_col:
                text = sheet.value(r, c, reading)
                if text is not None:
                    reading.emit(table.code, row.code, column.code, text, sheet.name, r, c)


@dataclass
class _WideLines:
    """Where a wide table stands on a sheet that lost its codes."""

    headings: list[tuple[int, str]]  # (column, normalised text) of the lines above the column labels
    labels: list[tuple[int, str]]  # (column, text) of the column labels' line
    data_row: int  # the first line below the labels that holds a number


def _wide_by_labels(sheet: _Sheet, table: Table, reading: _Reading) -> None:
    """Each row's own label heads its group of columns; the column labels
    follow in a header line; the data line is the first line below it."""
    found = _wide_lines(sheet, table)
    if found is None:
        return
    start = -1
    for block in table.blocks:
        for row in block.rows:
            heads = [c for c, t in found.headings if t == _norm(row.label) and c > start]
            if heads:
                start = min(heads)
                _wide_row(sheet, table, block, row, found, start, reading)


def _wide_lines(sheet: _Sheet, table: Table) -> _WideLines | None:
    lines = list(sheet.lines())
    column_labels = {_norm(c.label) for b in table.blocks for c in b.columns}
    label_line = next(
        (i for i, (_, cells) in enumerate(lines) if sum(_norm(t) in column_labels for _, t in cells) >= 2),
        None,
    )
    if label_line is None or label_line + 1 >= len(lines):
        return None
    below = lines[label_line + 1 :]
    data_row = next(
        (r for r, cells in below if any(_looks_like_value(sheet.grid[r - 1][c]) for c, _ in cells)),
        below[0][0],
    )
    headings = [(c, _norm(t)) for _, cells in lines[:label_line] for c, t in cells]
    return _WideLines(headings, lines[label_line][1], data_row)


def _wide_row(
    sheet: _Sheet, table: Table, block, row, found: _WideLines, start: int, reading: _Reading
) -> None:
    """A row's cells: its columns' labels in order, from its heading at column `start` on."""
    after = start - 1
    for column in block.row_columns(row):
        at = [c for c, t in found.labels if _norm(t) == _norm(column.label) and c > after]
        if not at:
            break
        after = min(at)
        text = sheet.value(found.data_row, after, reading)
        if text is not None:
            reading.emit(table.code, row.code, column.code, text, sheet.name, found.data_row, after)


def _narrative_by_labels(sheet: _Sheet, fmt: ReportFormat, reading: _Reading) -> None:
    headings = {_norm(fmt.section_heading(c)): c for c in fmt.narrative_rows}
    pending = None
    for r, cells in sheet.lines():
        codes = [headings[_norm(t)] for _, t in cells if _norm(t) in headings]
        if codes:
            pending = codes[0]
        elif pending is not None:
            c = cells[0][0]
            text = sheet.value(r, c, reading)
            if text is not None:
                reading.emit(NARRATIVE_TABLE, pending, NARRATIVE_COLUMN, text, sheet.name, r, c)
            pending = None
