"""The core every published-report reader shares: a table of printed cells -> cells.

A reader (html.py, docx.py, pdf.py) turns each table of its document into a grid
(grid.py: rows of printed cells, spans filled out, each slot saying where it was
printed) and the prose into lines. This module reads the grids as one stream and
the lines into the sections 一–六. The year decides the format. A block heading
(第二十条第（一）项), a header row (信息内容 / 申请人情况 / 行政复议) or a row label
says where the reader is; columns are found by their printed header labels and rows
by their printed row labels (labels.py), never by position. A value is taken as
printed ("", "/", "—", "1,234" included: the rules read placeholders and separators).
What cannot be placed without guessing — a label matching no row or two, a value
cell spanning several columns, a cell printed twice with different values, a cell
holding figures that could be split more than one way ("1 234") — is not read and
is listed cell by cell with the reason.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.ingest.published.grid import Slot
from pipeline.ingest.published.labels import label_key, looks_like_value, squeeze
from schemas import form_formats, format_for_year, has_form
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, Block, ReportFormat, Row, Table

MAX_TABLE_SLOTS = 20_000  # the three tables of a report fill about 400 grid slots
# Two runs of digits with only spaces between them: "1 234" is 1234 or 1 and 234.
_SPLIT_FIGURE = re.compile(r"\d[\d,.]*\s+[\d,.]*\d")
KINDS = {"html": "网页", "docx": "Word 文档", "pdf": "PDF 文件"}


class PublishedRefused(Exception):
    """The page cannot be read at all; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class Place:
    """A printed table: its document kind, its index (in the page or document; in its
    page for a PDF) and its page (PDF only)."""

    kind: str  # "html", "docx", "pdf"
    table: int  # 1-based
    page: int = 0  # 1-based; 0 where the document has no pages


@dataclass(frozen=True)
class Provenance:
    table: int  # table index: in the page (HTML), the document (DOCX) or its page (PDF), 1-based
    row: int  # row in that table, 1-based
    cell: int  # HTML/DOCX: cell index in its row; PDF: grid column; 1-based
    text: str  # the cell as printed
    kind: str = "html"
    page: int = 0  # PDF page, 1-based

    def where(self) -> str:
        if self.kind == "pdf":
            return f"第 {self.page} 页第 {self.table} 个表格第 {self.row} 行第 {self.cell} 列"
        return f"{KINDS[self.kind]}第 {self.table} 个表格第 {self.row} 行第 {self.cell} 格"


@dataclass(frozen=True)
class PublishedCell:
    table: str
    row: str
    column: str
    value: str
    source: Provenance | None = None


@dataclass(frozen=True)
class Unread:
    table: str
    row: str
    column: str
    why: str


@dataclass
class PublishedReport:
    year: int
    format_code: str
    cells: list[PublishedCell] = field(default_factory=list)
    # Section code (overview, proactive, …, other_matters) -> its text; "preamble" before 一.
    sections: dict[str, str] = field(default_factory=dict)
    # Table code -> the format its printed form belongs to, where not the year's.
    printed_formats: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """Interchange rows: the table cells, then the narrative rows the format has."""
        out = [(c.table, c.row, c.column, c.value) for c in self.cells]
        fmt = format_for_year(self.year)
        for code in fmt.narrative_rows:
            if self.sections.get(code):
                out.append((NARRATIVE_TABLE, code, NARRATIVE_COLUMN, self.sections[code]))
        return out

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["table", "row", "column", "value"])
        writer.writerows(self.rows())
        return buf.getvalue()

    def provenance_csv(self) -> str:
        """Per cell: where it was read and the text as printed; then the cells not read."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(PROVENANCE_HEADER)
        for c in self.cells:
            s = c.source
            writer.writerow([c.table, c.row, c.column, c.value, "read", s.kind, s.page or "", s.table,
                             s.row, s.cell, s.text, s.where()])  # fmt: skip
        for u in self.unread:
            writer.writerow([u.table, u.row, u.column, "", "unread", "", "", "", "", "", "", u.why])
        return buf.getvalue()


PROVENANCE_HEADER = ["table", "row", "column", "value", "status", "kind", "page", "printed_table",
                     "printed_row", "printed_cell", "printed_text", "where"]  # fmt: skip


def heading_pattern(heading: str) -> re.Pattern:
    """ "五、存在的主要问题及改进情况" -> a line starting with 五, a separator, at most 20
    characters and the title's last four ("改进情况"): bodies word the middle differently
    ("五、政府信息公开工作存在的主要问题及改进情况"); or 五, a separator, at once the
    title's first four and a short rest of the line ("五、存在的主要问题及改进措施": bodies
    word the end differently too). That needs the separator right before the four and the
    line to end within 16 characters: "四是加强政府信息…" is prose."""
    number, _, title = heading.partition("、")
    last = r"\s*".join(map(re.escape, title[-4:]))
    first = r"\s*".join(map(re.escape, title[:4]))
    return re.compile(
        r"^\s*"
        + re.escape(number)
        + r"\s*(?:[、.．，,]?[^。；]{0,20}?"
        + last
        + r"|[、.．，,]\s*"
        + first
        + r"[^。；]{0,16}$)"
    )


def split_sections(lines: Iterable[str], fmt: ReportFormat) -> dict[str, str]:
    """Section texts by the headings 一–六, found in order; text before 一 is the preamble."""
    found: dict[str, list[str]] = {"preamble": []}
    current = "preamble"
    headings = [(s.code, heading_pattern(s.heading)) for s in fmt.sections]
    nxt = 0
    for line in lines:
        if nxt < len(headings):
            code, pattern = headings[nxt]
            m = pattern.match(line)
            if m:
                current, nxt = code, nxt + 1
                found[current] = []
                rest = line[m.end() :].strip()
                if rest:
                    found[current].append(rest)
                continue
        found[current].append(line)
    return {code: "\n".join(text) for code, text in found.items()}


@dataclass
class _Context:
    table: str = ""  # code of the format table being read
    fmt: ReportFormat | None = None
    block: Block | None = None
    # grid column -> (row code or "", column code) for the current header
    columns: dict[int, tuple[str, str]] = field(default_factory=dict)
    label_cols: int = 0  # grid columns before the first value column


class _Reader:
    def __init__(self, year: int):
        self.year = year
        self.own = format_for_year(year)
        self.formats = [self.own] + [f for f in form_formats() if f.code != self.own.code]
        self.report = PublishedReport(year, self.own.code)
        self.found: dict[tuple[str, str, str], PublishedCell] = {}
        self.clashes: set[tuple[str, str, str]] = set()
        self.spanned: dict[tuple[str, str, str], Provenance] = {}
        self.split: dict[tuple[str, str, str], Provenance] = {}
        # Table code -> printed rows with figures whose label names no row: said with the cells not read.
        self.stray: dict[str, list[Provenance]] = {}
        self.ctx = _Context()
        self._rows_cache: list | None = None

    # -- helpers

    def _put(self, table: str, row: str, column: str, slot: Slot, where: Place, shared: bool) -> None:
        key = (table, row, column)
        source = Provenance(where.table, slot.row, slot.cell, slot.text, where.kind, where.page)
        if shared:  # one printed cell across several value columns: whose figure is it?
            self.spanned[key] = source
            return
        if _SPLIT_FIGURE.search(slot.text):  # "1 234": one figure or two? not chosen
            self.split.setdefault(key, source)
            return
        cell = PublishedCell(table, row, column, slot.text, source)
        if key in self.found and self.found[key].value != cell.value:
            self.clashes.add(key)
        self.found.setdefault(key, cell)

    def _use_format(self, table: str, fmt: ReportFormat) -> None:
        if fmt.code != self.own.code:
            self.report.printed_formats[table] = fmt.code

    # -- 表二 (blocks)

    def _block_heading(self, line: list[Slot | None]) -> bool:
        # Compared whole (squeeze, not label_key): the （一）…（九） are what tell blocks apart.
        texts = {squeeze(s.text) for s in line if s}
        for fmt in self.formats:
            for block in fmt.tables["proactive"].blocks:
                if block.heading and squeeze(block.heading) in texts:
                    self.ctx = _Context("proactive", fmt, block)
                    return True
        return False

    def _block_header(self, line: list[Slot | None]) -> bool:
        """A header row of the current 表二 block: 信息内容 + column labels. The block of
        the format whose column labels the row prints."""
        keys = [label_key(s.text) if s else "" for s in line]
        if label_key("信息内容") not in keys:
            return False
        heading = self.ctx.block.heading if self.ctx.block else None
        for fmt in self.formats:
            for block in fmt.tables["proactive"].blocks:
                if heading and block.heading != heading:
                    continue
                labels = {label_key(c.label): c.code for c in block.columns}
                columns = {i: ("", labels[k]) for i, k in enumerate(keys) if k in labels}
                if len(set(columns.values())) == len(block.columns):
                    self.ctx = _Context("proactive", fmt, block, columns, min(columns))
                    self._use_format("proactive", fmt)
                    return True
        return False

    def _block_row(self, line: list[Slot | None], where: Place) -> bool:
        block = self.ctx.block
        if not block or not self.ctx.columns:
            return False
        label = next((s for s in line[: self.ctx.label_cols] if s and s.text), None)
        if not label:
            return False
        rows = self._rows_named(label_key(label.text), block.rows, "proactive")
        if len(rows) != 1:
            return False
        self._values(line, rows[0].code, where)
        return True

    def _rows_named(self, key: str, rows: tuple[Row, ...], table: str) -> list[Row]:
        """Rows whose label is `key`; a row printed with the label another format gives the
        same row code (规范性文件 / 行政规范性文件) is the same row."""
        hit = [r for r in rows if label_key(r.label) == key]
        if hit:
            return hit
        codes = {r.code for r in rows}
        return [
            r
            for fmt in self.formats
            for r in fmt.tables[table].rows
            if r.code in codes and label_key(r.label) == key
        ][:1]

    def _values(self, line: list[Slot | None], row: str, where: Place, rows_of_columns: bool = False) -> None:
        for i, (row_code, column) in self.ctx.columns.items():
            slot = line[i] if i < len(line) else None
            if slot is None:
                continue
            # A header spanning grid columns maps them all to one format column; a value
            # slot is shared only when it covers several different format columns.
            covered = {code for j, code in self.ctx.columns.items() if j < len(line) and line[j] is slot}
            shared = len(covered) > 1
            self._put(self.ctx.table, row_code if rows_of_columns else row, column, slot, where, shared)

    # -- 表三 (matrix)

    def _matrix_header(self, grid: list[list[Slot | None]], r: int) -> bool:
        keys = [label_key(s.text) if s else "" for s in grid[r]]
        if label_key("自然人") not in keys:
            return False
        below = grid[r + 1] if r + 1 < len(grid) else []
        for fmt in self.formats:
            table = fmt.tables["applications"]
            labels = {label_key(c.label): c.code for c in table.blocks[0].columns}
            columns: dict[int, tuple[str, str]] = {}
            for i, key in enumerate(keys):
                names = {key} | ({label_key(below[i].text)} if i < len(below) and below[i] else set())
                codes = {labels[n] for n in names if n in labels}
                if len(codes) == 1:
                    columns[i] = ("", codes.pop())
            if len(set(columns.values())) == len(labels):
                self.ctx = _Context("applications", fmt, table.blocks[0], columns, min(columns))
                return True
        return False

    def _matrix_row(self, line: list[Slot | None], where: Place) -> bool:
        if self.ctx.table != "applications" or not self.ctx.columns:
            return False
        path = self._printed_path(line)
        if not path:
            return False
        candidates = [(fmt, row) for fmt, row, keys in self._application_rows() if _row_fits(keys, path)]
        codes = {row.code for _, row in candidates}
        if not codes:
            self._stray(line, where)
        if len(codes) != 1:
            return False
        own = [c for c in candidates if c[0] is self.ctx.fmt] or candidates
        fmt, row = own[0]
        if not any(f is self.own for f, _ in candidates):
            self._use_format("applications", fmt)
        self._values(line, row.code, where)
        return True

    def _printed_path(self, line: list[Slot | None]) -> list[str]:
        """The label keys printed left of the figures, a label repeated by a merged cell once."""
        path: list[str] = []
        for s in line[: self.ctx.label_cols]:
            if s and s.text and (not path or path[-1] != label_key(s.text)):
                path.append(label_key(s.text))
        return path

    def _application_rows(self) -> list[tuple[ReportFormat, Row, list[str]]]:
        """(format, 表三 row, its label keys) of every form this reader knows, worked out once
        per reader: every printed line of 表三 is matched against all of them."""
        if self._rows_cache is None:
            self._rows_cache = [
                (fmt, row, [label_key(p) for p in row.path])
                for fmt in self.formats
                for row in fmt.tables["applications"].rows
            ]
        return self._rows_cache

    def _stray(self, line: list[Slot | None], where: Place) -> None:
        """A row printing figures under a label no row has (a misprinted label): kept to be
        named beside the cells not read, never matched to the nearest label."""
        values = [line[i] for i in self.ctx.columns if i < len(line) and line[i]]
        label = next((s for s in reversed(line[: self.ctx.label_cols]) if s and s.text), None)
        if label and values and all(looks_like_value(s.text) and squeeze(s.text) for s in values):
            source = Provenance(where.table, label.row, label.cell, label.text, where.kind, where.page)
            self.stray.setdefault(self.ctx.table, []).append(source)

    # -- 表四 (wide)

    def _wide_header(self, grid: list[list[Slot | None]], r: int) -> bool:
        table = self.own.tables["review_litigation"]
        keys = [label_key(s.text) if s else "" for s in grid[r]]
        if label_key(table.rows[0].label) not in keys:
            return False
        header = _header_lines(grid[r:])
        width = max(len(line) for line in header)
        columns: dict[int, tuple[str, str]] = {}
        for i in range(width):
            cell = _wide_column(table, header, i)
            if cell is not None:
                columns[i] = cell
        if len(set(columns.values())) != len(table.cells()):
            return False
        self.ctx = _Context("review_litigation", self.own, table.blocks[0], columns, min(columns))
        return True

    def _wide_row(self, line: list[Slot | None], where: Place) -> bool:
        if self.ctx.table != "review_litigation" or not self.ctx.columns:
            return False
        values = [line[i] for i in self.ctx.columns if i < len(line) and line[i]]
        if not values or not all(looks_like_value(s.text) for s in values):
            return False
        self._values(line, "", where, rows_of_columns=True)
        self.ctx = _Context()  # one data row
        return True

    # -- the stream

    def read_grid(self, grid: list[list[Slot | None]], where: Place) -> None:
        for r, line in enumerate(grid):
            if self._block_heading(line):
                continue
            if self._matrix_header(grid, r) or self._wide_header(grid, r):
                continue
            if self.ctx.table == "proactive" and (self._block_header(line) or self._block_row(line, where)):
                continue
            if self._matrix_row(line, where) or self._wide_row(line, where):
                continue

    def finish(self) -> PublishedReport:
        report = self.report
        for key, source in self.spanned.items():
            if key not in self.found:
                self.report.unread.append(
                    Unread(*key, f"{source.where()}的“{source.text}”跨越几列，不能确定是哪一列的数字")
                )
        for key, source in self.split.items():
            if key not in self.found:
                report.unread.append(
                    Unread(*key, f"{source.where()}的“{source.text}”可以拆成不止一种数字，不猜测")
                )
        for key in sorted(self.clashes):
            report.unread.append(Unread(*key, "文件中印了不止一次，数字不同"))
        for table_code in self.own.tables:
            fmt_code = report.printed_formats.get(table_code, self.own.code)
            fmt = next(f for f in self.formats if f.code == fmt_code)
            table: Table = fmt.tables[table_code]
            for row, column, _ in table.cells():
                key = (table_code, row, column)
                if key in self.clashes:
                    continue
                if key in self.found:
                    report.cells.append(self.found[key])
                elif key not in self.spanned and key not in self.split:
                    why = "文件中找不到这一格（表中没有这一行或这一列的标签）"
                    stray = "；".join(f"{p.where()}的“{p.text}”" for p in self.stray.get(table_code, []))
                    if stray:
                        why += f"；表中有行标签与表样各行都不相同的行，未读取、不猜测它是哪一行：{stray}"
                    report.unread.append(Unread(*key, why))
            if table_code in report.printed_formats:
                report.notes.append(
                    f"“{fmt.section_heading(table_code)}”的表格按{fmt.name}的表样印制，"
                    f"不是 {self.year} 年度应使用的{self.own.name}；已按印制的表样读取"
                )
        return report


def _row_fits(keys: list[str], path: list[str]) -> bool:
    """Whether a printed label path is this row's: the last label is the row's own, and every
    group is printed, or (a table continued on the next page, whose spanning group cells stay
    on the page before) only groups of this row, or part of them (a group cell cut by the page
    prints the start of its label on one page, the rest on the next). The row is taken only
    when one row code fits."""
    if keys[-1] != path[-1]:
        return False
    groups, printed_groups = set(keys[:-1]), set(path[:-1])
    return groups <= printed_groups | {keys[0]} or all(
        any(k.startswith(p) or k.endswith(p) for k in groups) for p in printed_groups
    )


def _header_lines(lines: list[list[Slot | None]]) -> list[list[Slot | None]]:
    """表四's header: the lines from its first down to the first printing a figure."""
    header = []
    for line in lines:
        if any(s and s.text and looks_like_value(s.text) and squeeze(s.text) for s in line):
            break
        header.append(line)
    return header


def _wide_column(table: Table, header: list[list[Slot | None]], i: int) -> tuple[str, str] | None:
    """(row, column) of 表四 printed in column `i` of the header: the row named anywhere above
    it (the innermost when several), the column by the bottom label; None when not one."""
    path = {label_key(line[i].text) for line in header if i < len(line) and line[i]}
    bottom = next((label_key(line[i].text) for line in reversed(header) if i < len(line) and line[i]), "")
    rows = [row for row in reversed(table.rows) if label_key(row.label) in path]
    cols = [c.code for b in table.blocks for c in b.columns if label_key(c.label) == bottom]
    return (rows[0].code, cols[0]) if rows and len(cols) == 1 else None


def check_year(year: int) -> ReportFormat:
    """The year's format, or PublishedRefused for a year without a printed form."""
    if not has_form(year):  # legacy years have per-district indicator lists
        raise PublishedRefused(f"{year} 年度使用旧格式，各地指标不同，没有统一表样，不能从已公开的年报读取")
    return format_for_year(year)


def read_tables(year: int, grids: Iterable[tuple[Place, list[list[Slot | None]]]]) -> PublishedReport:
    """The cells of the printed tables, read as one stream in document order."""
    reader = _Reader(year)
    slots = 0
    for place, grid in grids:
        slots += sum(len(line) for line in grid)
        if slots > MAX_TABLE_SLOTS:
            raise PublishedRefused(
                f"{KINDS[place.kind]}中的表格超过 {MAX_TABLE_SLOTS} 个单元格的上限，不读取"
            )
        reader.read_grid(grid, place)
    return reader.finish()
