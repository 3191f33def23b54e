"""Reads a published annual report (an HTML page as portals publish it) into cells.

The year decides the format. Every HTML table's rows are read in order, as one
stream: a block heading (第二十条第（一）项), a header row (信息内容 / 申请人情况 /
行政复议) or a row label says where the reader is; columns are found by their
printed header labels and rows by their printed row labels (labels.py), never by
position. A value is taken as printed ("", "/", "—" included: the rules read
placeholders). What cannot be placed without guessing — a label matching no row
or two, a value cell spanning several columns, a cell printed twice with
different values — is not read and is listed cell by cell with the reason.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

from pipeline.ingest.published.grid import Slot, expand
from pipeline.ingest.published.labels import label_key, looks_like_value, printed, squeeze
from schemas import format_code_for_year, format_for_year
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, Block, ReportFormat, Row, Table

MAX_BYTES = 10 * 1024 * 1024  # a report page with its portal around it is under 1 MB
MAX_TABLE_SLOTS = 20_000  # the three tables of a report fill about 400 grid slots
# Formats that have a printed form; legacy years have per-district indicator lists.
FORM_FORMATS = ("national-2021", "trial-2019")
# Text of a page whose tables were flattened: the form's labels with no table around them.
_FORM_MARKERS = ("本年新收政府信息公开申请数量", "第二十条第（一）项", "结转下年度继续办理")


class PublishedRefused(Exception):
    """The page cannot be read at all; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class Provenance:
    table: int  # HTML <table> index in the page, 1-based
    row: int  # <tr> index in that table, 1-based
    cell: int  # <td>/<th> index in that row, 1-based
    text: str  # the cell as printed

    def where(self) -> str:
        return f"网页第 {self.table} 个表格第 {self.row} 行第 {self.cell} 格"


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


# ---------------------------------------------------------------- parsing


def _parse(data: bytes):
    if len(data) > MAX_BYTES:
        raise PublishedRefused(
            f"网页有 {len(data) / 1024 / 1024:.1f} MB，超过 {MAX_BYTES // 1024 // 1024} MB 的上限，不读取"
        )
    if not data.strip():
        raise PublishedRefused("网页是空的")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise PublishedRefused(
                f"网页既不是 UTF-8 也不是 GB18030 编码（第 {exc.start} 字节处无法解码）"
            ) from None
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)  # lxml refuses str input with an encoding declaration
    try:
        doc = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise PublishedRefused(f"无法解析网页（{exc}）") from None
    for el in doc.xpath("//script|//style|//noscript|//template"):
        el.drop_tree()
    return doc


def _leaf_tables(doc) -> list:
    return [t for t in doc.iter("table") if not t.xpath(".//table")]


# ---------------------------------------------------------------- sections


def _heading_pattern(heading: str) -> re.Pattern:
    """ "五、存在的主要问题及改进情况" -> a line starting with 五, a separator, at most 20
    characters and the title's last four ("改进情况"): bodies word the middle differently
    ("五、政府信息公开工作存在的主要问题及改进情况")."""
    number, _, title = heading.partition("、")
    key = r"\s*".join(map(re.escape, title[-4:]))
    return re.compile(r"^\s*" + re.escape(number) + r"\s*[、.．，,]?[^。；]{0,20}?" + key)


def _lines(root) -> list[str]:
    """The text of `root` outside its tables, one line per block element."""
    root = copy.deepcopy(root)  # tails are edited below
    for table in root.xpath(".//table"):
        tail = table.tail
        table.clear()  # the tables' text is read as cells, not as prose
        table.tail = "\n" + (tail or "")
    for el in root.iter("p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section"):
        el.tail = "\n" + (el.tail or "")
    text = "".join(root.itertext())
    return [line for line in (printed(x) for x in text.split("\n")) if line]


def _sections(root, fmt: ReportFormat) -> dict[str, str]:
    """Section texts by the headings 一–六, found in order; text before 一 is the preamble."""
    lines = _lines(root)
    found: dict[str, list[str]] = {"preamble": []}
    current = "preamble"
    headings = [(s.code, _heading_pattern(s.heading)) for s in fmt.sections]
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


def _article(doc, tables: list):
    """The smallest element holding every table and the headings 一 and 六: the report
    without the portal's navigation and footer."""
    first, last = _heading_pattern("一、总体情况"), _heading_pattern("六、其他需要报告的事项")
    el = tables[0] if tables else doc
    while el is not None:
        text_lines = _lines(el) if el.tag != "table" else []
        if (
            any(first.match(x) for x in text_lines)
            and any(last.match(x) for x in text_lines)
            and all(el is t or el in t.iterancestors() for t in tables)
        ):
            return el
        el = el.getparent()
    return doc


# ---------------------------------------------------------------- tables


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
        self.formats = [self.own] + [
            format_for_year(y) for y in (2021, 2019) if format_code_for_year(y) != self.own.code
        ]
        self.report = PublishedReport(year, self.own.code)
        self.found: dict[tuple[str, str, str], PublishedCell] = {}
        self.clashes: set[tuple[str, str, str]] = set()
        self.spanned: dict[tuple[str, str, str], Provenance] = {}
        self.ctx = _Context()

    # -- helpers

    def _put(self, table: str, row: str, column: str, slot: Slot, where: int, shared: bool) -> None:
        key = (table, row, column)
        source = Provenance(where, slot.row, slot.cell, slot.text)
        if shared:  # one printed cell across several value columns: whose figure is it?
            self.spanned[key] = source
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

    def _block_row(self, line: list[Slot | None], where: int) -> bool:
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

    def _values(self, line: list[Slot | None], row: str, where: int, rows_of_columns: bool = False) -> None:
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

    def _matrix_row(self, line: list[Slot | None], where: int) -> bool:
        if self.ctx.table != "applications" or not self.ctx.columns:
            return False
        path: list[str] = []
        for s in line[: self.ctx.label_cols]:
            if s and s.text and (not path or path[-1] != label_key(s.text)):
                path.append(label_key(s.text))
        if not path:
            return False
        candidates = []
        for fmt in self.formats:
            for row in fmt.tables["applications"].rows:
                keys = [label_key(p) for p in row.path]
                if keys[-1] == path[-1] and set(keys[:-1]) <= set(path[:-1]) | {label_key(row.path[0])}:
                    candidates.append((fmt, row))
        codes = {row.code for _, row in candidates}
        if len(codes) != 1:
            return False
        own = [c for c in candidates if c[0] is self.ctx.fmt] or candidates
        fmt, row = own[0]
        if not any(f is self.own for f, _ in candidates):
            self._use_format("applications", fmt)
        self._values(line, row.code, where)
        return True

    # -- 表四 (wide)

    def _wide_header(self, grid: list[list[Slot | None]], r: int) -> bool:
        table = self.own.tables["review_litigation"]
        keys = [label_key(s.text) if s else "" for s in grid[r]]
        if label_key(table.rows[0].label) not in keys:
            return False
        header = []
        for line in grid[r:]:
            if any(s and s.text and looks_like_value(s.text) and squeeze(s.text) for s in line):
                break
            header.append(line)
        columns: dict[int, tuple[str, str]] = {}
        width = max(len(line) for line in header)
        for i in range(width):
            path = {label_key(line[i].text) for line in header if i < len(line) and line[i]}
            bottom = next(
                (label_key(line[i].text) for line in reversed(header) if i < len(line) and line[i]), ""
            )
            rows = [row for row in reversed(table.rows) if label_key(row.label) in path]
            cols = [c.code for b in table.blocks for c in b.columns if label_key(c.label) == bottom]
            if rows and len(cols) == 1:
                columns[i] = (rows[0].code, cols[0])
        if len(set(columns.values())) != len(table.cells()):
            return False
        self.ctx = _Context("review_litigation", self.own, table.blocks[0], columns, min(columns))
        return True

    def _wide_row(self, line: list[Slot | None], where: int) -> bool:
        if self.ctx.table != "review_litigation" or not self.ctx.columns:
            return False
        values = [line[i] for i in self.ctx.columns if i < len(line) and line[i]]
        if not values or not all(looks_like_value(s.text) for s in values):
            return False
        self._values(line, "", where, rows_of_columns=True)
        self.ctx = _Context()  # one data row
        return True

    # -- the stream

    def read_grid(self, grid: list[list[Slot | None]], where: int) -> None:
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
        for key in sorted(self.clashes):
            report.unread.append(Unread(*key, "页面中印了不止一次，数字不同"))
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
                elif key not in self.spanned:
                    report.unread.append(Unread(*key, "页面中找不到这一格（表中没有这一行或这一列的标签）"))
            if table_code in report.printed_formats:
                report.notes.append(
                    f"“{fmt.section_heading(table_code)}”的表格按{fmt.name}的表样印制，"
                    f"不是 {self.year} 年度应使用的{self.own.name}；已按印制的表样读取"
                )
        return report


def read_html(data: bytes, year: int) -> PublishedReport:
    """A published report page's cells, sections, provenance, notes and unread cells.

    Raises PublishedRefused when the page cannot be read at all (too large, not HTML,
    no tables, tables flattened to text, a year without a printed form)."""
    code = format_code_for_year(year)
    if code not in FORM_FORMATS:
        raise PublishedRefused(f"{year} 年度使用旧格式，各地指标不同，没有统一表样，不能从网页读取")
    doc = _parse(data)
    tables = _leaf_tables(doc)
    text = squeeze(doc.text_content())
    if not tables:
        if any(squeeze(m) in text for m in _FORM_MARKERS):
            raise PublishedRefused(
                "网页中的统计表已被展平为文字（页面没有 <table> 表格，各格数字连在一起），"
                "无法确定每个数字属于哪一格，拒绝读取；请改用保留表格的网页或原始 Word/PDF 文件"
            )
        raise PublishedRefused("网页中没有年度报告的统计表（没有 <table> 表格，也没有表格的标签）")
    slots = 0
    reader = _Reader(year)
    for index, table in enumerate(doc.iter("table"), start=1):
        if table.xpath(".//table"):
            continue
        grid = expand(table)
        slots += sum(len(line) for line in grid)
        if slots > MAX_TABLE_SLOTS:
            raise PublishedRefused(f"网页中的表格超过 {MAX_TABLE_SLOTS} 个单元格的上限，不读取")
        reader.read_grid(grid, index)
    report = reader.finish()
    report.sections = _sections(_article(doc, tables), format_for_year(year))
    return report
