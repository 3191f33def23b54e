"""The workbook a unit's clerk fills in by hand, laid out as on the official form.

Machine codes live in the workbook invisibly so that reading back survives
inserted rows and columns: a hidden key column holds `#table=<code>` on the
title line, the row code on each data line and `#columns` on a hidden key row
whose cells hold the column codes (or `row|column` for a 'wide' table, whose
single data line carries `*`). A very hidden sheet `_nianbao` holds the unit,
year and format. Everything here is generic over the format's data model.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.tabular import inert_workbook
from pipeline.workbook.marks import (
    COLUMNS_MARK,
    META_SHEET,
    NARRATIVE_SHEET,
    TABLE_MARK,
    WIDE_KEY_SEP,
    WIDE_LINE_MARK,
    sheet_name,
)
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, Block, CellKind, Column, ReportFormat, Row, Table
from schemas.numbers import canonical, parse_number

PREFILL_NOTE = "上年数据预填，可修改"
INSTRUCTIONS = "请只填写白色单元格；空白视为 0。黄色单元格为上年数据预填，可修改。请勿删除或改动表头。"

KEY_COL = 1  # hidden column A
FIRST_COL = 2  # the visible form starts in column B
TITLE_ROWS = 5  # title, table title, identity, instructions, spacer

_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
INPUT_FILL = PatternFill("solid", fgColor="FFFFFF")
LABEL_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
NOT_APPLICABLE_FILL = PatternFill("solid", fgColor="BFBFBF")
PREFILL_FILL = PatternFill("solid", fgColor="FFF2CC")
WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)

NUMBER_FORMATS: dict[CellKind, str] = {
    "count": "0",
    "signed": "0",
    "decimal": "General",
    "share": "General",
    "text": "@",
}
# Excel-side checks as a courtesy to the clerk; the validator is authoritative.
_VALIDATIONS: dict[CellKind, tuple[dict, str]] = {
    "count": ({"type": "whole", "operator": "greaterThanOrEqual", "formula1": "0"}, "请填写不小于 0 的整数"),
    "signed": (
        {"type": "whole", "operator": "between", "formula1": "-999999999", "formula2": "999999999"},
        "请填写整数（减少填负数）",
    ),
    "decimal": (
        {"type": "decimal", "operator": "greaterThanOrEqual", "formula1": "0"},
        "请填写不小于 0 的数，最多 4 位小数",
    ),
    "share": (
        {"type": "decimal", "operator": "between", "formula1": "0", "formula2": "100"},
        "请填写 0 到 100 之间的百分数（不带 % 号）",
    ),
}

Prefill = dict[tuple[str, str, str], str]


def write_template(fmt: ReportFormat, path: Path, **kwargs) -> Path:
    """Write the fill-in workbook (see `template_bytes`) to `path`; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(template_bytes(fmt, **kwargs))
    return path


def template_bytes(
    fmt: ReportFormat,
    *,
    unit_code: str,
    unit_name: str,
    year: int,
    prefill: Prefill | None = None,
    values: Prefill | None = None,
) -> bytes:
    """The fill-in workbook for one unit and year.

    `prefill` cells are marked as pre-filled from last year; `values` are typed
    in as a clerk would (the demo data and benchmarks make filled workbooks).
    """
    prefill = prefill or {}
    values = values or {}
    wb = Workbook()
    wb.remove(wb.active)
    taken = {META_SHEET}
    for table in _tables_in_order(fmt):
        ws = wb.create_sheet(sheet_name(table.title, taken))
        writer = _SheetWriter(ws, table.code, prefill, values)
        writer.title(fmt, table.title, unit_code, unit_name, year, _table_width(table))
        if table.layout == "wide":
            writer.wide(table)
        else:
            writer.grid(table)
        writer.finish()
    if fmt.narrative_rows:
        ws = wb.create_sheet(sheet_name(NARRATIVE_SHEET, taken))
        writer = _SheetWriter(ws, NARRATIVE_TABLE, prefill, values)
        writer.title(fmt, "文字部分（请填写各部分正文）", unit_code, unit_name, year, 8)
        writer.narrative(fmt)
        writer.finish()
    meta = wb.create_sheet(META_SHEET)
    for key, value in (
        ("format", fmt.code),
        ("format_name", fmt.name),
        ("unit", unit_code),
        ("unit_name", unit_name),
        ("year", str(year)),
        ("template_version", "1"),
    ):
        meta.append([key, value])
    meta.sheet_state = "veryHidden"
    # A template never holds formulas: unit names or pre-filled text such as "=cmd|…" stay text.
    inert_workbook(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _tables_in_order(fmt: ReportFormat) -> list[Table]:
    codes = [s.table for s in fmt.sections if s.table in fmt.tables]
    codes += [c for c in fmt.tables if c not in codes]
    return [fmt.tables[c] for c in codes]


def _label_depth(table: Table) -> int:
    return max((len(r.path) for r in table.rows), default=1)


def _table_width(table: Table) -> int:
    if table.layout == "wide":
        return sum(len(b.row_columns(r)) for b in table.blocks for r in b.rows)
    return _label_depth(table) + max((len(b.columns) for b in table.blocks), default=1)


def _spans(count: int, width: int) -> list[int]:
    """Split `width` value columns among `count` columns (the form stretches a
    block with fewer columns across the table's width)."""
    if count == 0:
        return []
    base = max(1, width // count)
    spans = [base] * count
    spans[-1] = max(base, width - base * (count - 1))
    return spans


def _text_lines(text: str, width_chars: float) -> int:
    # CJK characters are about two width units each.
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return max(1, math.ceil(units / max(width_chars, 1)))


class _SheetWriter:
    def __init__(self, ws: Worksheet, table_code: str, prefill: Prefill, values: Prefill):
        self.ws = ws
        self.table_code = table_code
        self.prefill = prefill
        self.values = values
        self.r = TITLE_ROWS + 1
        self.validations: dict[CellKind, DataValidation] = {}
        self.ws.column_dimensions[get_column_letter(KEY_COL)].hidden = True

    # --- generic pieces -------------------------------------------------
    def title(self, fmt: ReportFormat, heading: str, unit_code: str, unit_name: str, year: int, width: int):
        ws = self.ws
        ws.cell(1, KEY_COL, f"{TABLE_MARK}{self.table_code}")
        last = FIRST_COL + max(width, 1) - 1
        lines = [
            (f"{unit_name} {year}年政府信息公开工作年度报告", Font(bold=True, size=14)),
            (heading, Font(bold=True, size=12)),
            (f"单位：{unit_name}（单位代码 {unit_code}）  年度：{year}  格式：{fmt.name}", Font(size=10)),
            (INSTRUCTIONS, Font(size=10, color="C00000")),
        ]
        for i, (text, font) in enumerate(lines, start=1):
            cell = ws.cell(i, FIRST_COL, text)
            cell.font = font
            cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
            if last > FIRST_COL:
                ws.merge_cells(start_row=i, start_column=FIRST_COL, end_row=i, end_column=last)
        ws.row_dimensions[1].height = 24
        ws.row_dimensions[4].height = 30

    def box(
        self, r1: int, c1: int, r2: int, c2: int, text: str, *, fill=HEADER_FILL, bold=True, align=WRAP_CENTER
    ):
        """A bordered (merged) label cell."""
        cell = self.ws.cell(r1, c1, text or None)
        cell.fill, cell.alignment = fill, align
        cell.font = Font(bold=bold)
        for row in self.ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2):
            for c in row:
                c.border = BORDER
        if (r1, c1) != (r2, c2):
            self.ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)

    def key_row(self, keys: Sequence[tuple[int, str]]):
        """The hidden row of column codes for the lines below it."""
        self.ws.cell(self.r, KEY_COL, COLUMNS_MARK)
        for col, key in keys:
            self.ws.cell(self.r, col, key)
        self.ws.row_dimensions[self.r].hidden = True
        self.r += 1

    def input_cell(self, r: int, c: int, span: int, key: tuple[str, str, str], kind: CellKind) -> Cell:
        cell = self.ws.cell(r, c)
        cell.fill, cell.border = INPUT_FILL, BORDER
        cell.protection = Protection(locked=False)
        cell.number_format = NUMBER_FORMATS[kind]
        cell.alignment = Alignment(
            horizontal="left" if kind == "text" else "right",
            vertical="top" if kind == "text" else "center",
            wrap_text=kind == "text",
        )
        if key in self.values:
            cell.value = _typed(self.values[key], kind)
        elif key in self.prefill:
            cell.value = _typed(self.prefill[key], kind)
            cell.fill = PREFILL_FILL
            cell.comment = Comment(PREFILL_NOTE, "nianbao")
        if kind in _VALIDATIONS:
            self._validation(kind).add(cell.coordinate)
        if span > 1:
            self.ws.merge_cells(start_row=r, start_column=c, end_row=r, end_column=c + span - 1)
            # Every cell of a merged input must be unlocked, or Excel refuses to edit it.
            for extra in range(c + 1, c + span):
                merged = self.ws.cell(r, extra)
                merged.border, merged.fill = BORDER, PREFILL_FILL if key in self.prefill else INPUT_FILL
                merged.protection = Protection(locked=False)
        return cell

    def _validation(self, kind: CellKind) -> DataValidation:
        if kind not in self.validations:
            options, message = _VALIDATIONS[kind]
            dv = DataValidation(**options, allow_blank=True, showErrorMessage=True, errorStyle="stop")
            dv.error, dv.errorTitle = message, "填写有误"
            dv.prompt, dv.showInputMessage = message, False
            self.ws.add_data_validation(dv)
            self.validations[kind] = dv
        return self.validations[kind]

    def finish(self):
        ws = self.ws
        ws.protection.sheet = True
        # Let the clerk insert rows/columns and resize them; the reader copes.
        for option in ("insertRows", "insertColumns", "formatColumns", "formatRows", "formatCells"):
            setattr(ws.protection, option, False)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True

    # --- 'blocks' and 'matrix' ------------------------------------------
    def grid(self, table: Table):
        ws, depth = self.ws, _label_depth(table)
        width = max(len(b.columns) for b in table.blocks)
        value_col = FIRST_COL + depth
        last = value_col + width - 1
        for i in range(depth):
            ws.column_dimensions[get_column_letter(FIRST_COL + i)].width = 12
        own = [r.label for r in table.rows if len(r.path) == depth] or [r.label for r in table.rows]
        ws.column_dimensions[get_column_letter(FIRST_COL + depth - 1)].width = min(
            60, max(16, max(len(t) for t in own) * 1.6)
        )
        for i in range(width):
            ws.column_dimensions[get_column_letter(value_col + i)].width = 13 if width > 3 else 18
        for n, block in enumerate(table.blocks):
            if block.heading:
                self.box(self.r, FIRST_COL, self.r, last, block.heading, fill=LABEL_FILL, align=WRAP_LEFT)
                self.r += 1
            first = n == 0
            spans = _spans(len(block.columns), width)
            starts = [value_col + sum(spans[:i]) for i in range(len(spans))]
            self.column_header(
                block.columns,
                starts,
                spans,
                corner=(table.corner if first else "") or block.label_header,
                heading=table.columns_heading if first else "",
                depth=depth,
            )
            self.key_row([(s, c.code) for s, c in zip(starts, block.columns, strict=True)])
            self.row_lines(block, starts, spans, depth)

    def column_header(self, columns, starts, spans, *, corner: str, heading: str, depth: int):
        grouped = any(c.group for c in columns)
        levels = int(bool(heading)) + int(grouped) + 1
        top, bottom = self.r, self.r + levels - 1
        self.box(top, FIRST_COL, bottom, FIRST_COL + depth - 1, corner)
        r = top
        if heading:
            self.box(r, starts[0], r, starts[-1] + spans[-1] - 1, heading)
            r += 1
        i = 0
        while i < len(columns):
            col = columns[i]
            if grouped and col.group:
                j = i
                while j + 1 < len(columns) and columns[j + 1].group == col.group:
                    j += 1
                self.box(r, starts[i], r, starts[j] + spans[j] - 1, col.group)
                for k in range(i, j + 1):
                    self.box(bottom, starts[k], bottom, starts[k] + spans[k] - 1, columns[k].label)
                i = j + 1
            else:
                self.box(r, starts[i], bottom, starts[i] + spans[i] - 1, col.label)
                i += 1
        label_width = self.ws.column_dimensions[get_column_letter(FIRST_COL + depth - 1)].width or 16
        corner_lines = _text_lines(corner, label_width * depth) if corner else 1
        header_lines = max([corner_lines] + [_text_lines(c.label, 12) for c in columns])
        per_row = max(18, 15 * header_lines / levels)
        for rr in range(top, bottom + 1):
            self.ws.row_dimensions[rr].height = per_row
        self.r = bottom + 1

    def row_lines(self, block: Block, starts, spans, depth: int):
        rows = block.rows
        top = self.r
        for n, row in enumerate(rows):
            r = top + n
            self.ws.cell(r, KEY_COL, row.code)
            for level, label in enumerate(row.path):
                c = FIRST_COL + level
                if level == len(row.path) - 1:
                    self.box(
                        r, c, r, FIRST_COL + depth - 1, label, fill=LABEL_FILL, bold=False, align=WRAP_LEFT
                    )
                elif n == 0 or rows[n - 1].path[: level + 1] != row.path[: level + 1]:
                    end = n
                    while end + 1 < len(rows) and _in_group(rows[end + 1], row.path[: level + 1]):
                        end += 1
                    self.box(r, c, top + end, c, label, fill=LABEL_FILL, bold=False)
            wanted = {c.code for c in block.row_columns(row)}
            for col, start, span in zip(block.columns, starts, spans, strict=True):
                if col.code in wanted:
                    self.input_cell(r, start, span, (self.table_code, row.code, col.code), col.kind)
                else:
                    self.box(r, start, r, start + span - 1, "", fill=NOT_APPLICABLE_FILL)
            label_width = self.ws.column_dimensions[get_column_letter(FIRST_COL + depth - 1)].width or 16
            lines = _text_lines(row.label, label_width + 12 * (depth - len(row.path)))
            self.ws.row_dimensions[r].height = max(18, 15 * lines)
        self.r = top + len(rows)

    # --- 'wide' --------------------------------------------------------
    def wide(self, table: Table):
        pairs: list[tuple[Row, Column]] = [
            (r, c) for b in table.blocks for r in b.rows for c in b.row_columns(r)
        ]
        rows = [r for b in table.blocks for r in b.rows]
        # Each row's group of columns, side by side: (first column, last column).
        spans: dict[str, tuple[int, int]] = {}
        col = FIRST_COL
        for row in rows:
            count = sum(1 for r, _ in pairs if r.code == row.code)
            spans[row.code] = (col, col + count - 1)
            col += count
        for c in range(FIRST_COL, col):
            self.ws.column_dimensions[get_column_letter(c)].width = 11
        self.wide_header(rows, pairs, spans, _label_depth(table))
        self.wide_line(pairs)

    def wide_header(self, rows: list[Row], pairs: list[tuple[Row, Column]], spans, depth: int):
        """Each row's label (and its group headings) over its columns' labels."""
        top = self.r
        for n, row in enumerate(rows):
            for level, label in enumerate(row.path):
                prefix = row.path[: level + 1]
                if n and rows[n - 1].path[: level + 1] == prefix:
                    continue  # already written as part of a wider group heading
                end = n
                while end + 1 < len(rows) and rows[end + 1].path[: level + 1] == prefix:
                    end += 1
                bottom = top + (depth - 1 if level == len(row.path) - 1 else level)
                self.box(top + level, spans[row.code][0], bottom, spans[rows[end].code][1], label)
            first = spans[row.code][0]
            for i, (_, c) in enumerate(p for p in pairs if p[0].code == row.code):
                self.box(top + depth, first + i, top + depth, first + i, c.label)
        for rr in range(top, top + depth + 1):
            self.ws.row_dimensions[rr].height = 30
        self.r = top + depth + 1

    def wide_line(self, pairs: list[tuple[Row, Column]]):
        """The key row naming each cell, then the one line of input cells."""
        self.key_row(
            [
                (c, f"{r.code}{WIDE_KEY_SEP}{column.code}")
                for c, (r, column) in enumerate(pairs, start=FIRST_COL)
            ]
        )
        self.ws.cell(self.r, KEY_COL, WIDE_LINE_MARK)
        for c, (r, column) in enumerate(pairs, start=FIRST_COL):
            self.input_cell(self.r, c, 1, (self.table_code, r.code, column.code), column.kind)
        self.ws.row_dimensions[self.r].height = 22
        self.r += 1

    # --- narrative -----------------------------------------------------
    def narrative(self, fmt: ReportFormat):
        width = 8
        for c in range(FIRST_COL, FIRST_COL + width):
            self.ws.column_dimensions[get_column_letter(c)].width = 14
        self.key_row([(FIRST_COL, NARRATIVE_COLUMN)])
        for code in fmt.narrative_rows:
            self.box(
                self.r,
                FIRST_COL,
                self.r,
                FIRST_COL + width - 1,
                fmt.section_heading(code),
                fill=LABEL_FILL,
                align=WRAP_LEFT,
            )
            self.r += 1
            self.ws.cell(self.r, KEY_COL, code)
            self.input_cell(self.r, FIRST_COL, width, (NARRATIVE_TABLE, code, NARRATIVE_COLUMN), "text")
            self.ws.row_dimensions[self.r].height = 220
            self.r += 2


def _in_group(row: Row, prefix: tuple[str, ...]) -> bool:
    """`row` sits under group heading `prefix` (not the row labelled by it)."""
    return len(row.path) > len(prefix) and row.path[: len(prefix)] == prefix


def _typed(raw: str, kind: CellKind):
    """Prefill text as the value a person would have typed."""
    if kind == "text":
        return raw
    number = parse_number(raw)
    if number is None:
        return raw
    text = canonical(number)
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
