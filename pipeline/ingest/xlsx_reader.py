"""Read a filled-in workbook (see xlsx_template.py) into raw cells.

The package is checked before openpyxl touches it (encryption, old .xls,
macros, zip bombs, damage), because openpyxl would either fail obscurely or
spend unbounded time and memory. Cells are located by the hidden codes the
template carries; a sheet whose codes were lost is read by its verbatim labels.
A bad file never raises: it comes back as a ParsedFile with problems.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from pipeline.ingest.cells import RAW_CELL_COLUMNS, ParsedFile, empty_cells, excel_value_text, parse_number
from pipeline.ingest.xlsx_template import (
    COLUMNS_MARK,
    META_SHEET,
    NARRATIVE_SHEET,
    TABLE_MARK,
    WIDE_KEY_SEP,
    WIDE_LINE_MARK,
    sheet_name,
)
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat, Table
from schemas.messages import Message

# Limits. A filled form is ~30 KB; these leave room for heavy formatting.
MAX_FILE_BYTES = 20 * 1024 * 1024  # on disk (F6)
MAX_UNCOMPRESSED = 50 * 1024 * 1024  # declared total of all zip members (F5)
MAX_RATIO = 100  # uncompressed/compressed, for members above RATIO_MIN_SIZE (F5)
RATIO_MIN_SIZE = 1024 * 1024
MAX_ENTRIES = 500  # an .xlsx has a few dozen parts (F5)
MAX_ROWS = 5000  # per sheet (F5)
MAX_COLS = 200

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

RESAVE = "请用 Excel 或 WPS 打开后“另存为” Excel 工作簿（.xlsx）格式，再重新提交。"


class Refused(Exception):
    """The file cannot be read; carries the message already recorded."""


@dataclass
class _Reading:
    unit: str
    file: str
    problems: list[Message] = field(default_factory=list)
    cells: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def add(self, severity: str, rule: str, text: str, sheet: str = "", location: str = "") -> None:
        self.problems.append(Message(severity, rule, self.unit, self.file, sheet, location, text))

    def refuse(self, rule: str, text: str, sheet: str = "") -> Refused:
        self.add("ERROR", rule, text, sheet)
        return Refused(text)

    def emit(self, table: str, row: str, column: str, raw: str, sheet: str, r: int, c: int) -> None:
        self.cells.append((table, row, column, raw, sheet, address(r, c)))


def address(r: int, c: int) -> str:
    """1-based row and 0-based column index -> "C8"."""
    return f"{get_column_letter(c + 1)}{r}"


def read_xlsx(path: Path, fmt: ReportFormat, *, unit: str, display_name: str) -> ParsedFile:
    reading = _Reading(unit, display_name)
    declared: dict[str, str] = {}
    try:
        formula_sheets = _check_package(Path(path), reading)
        declared = _read_workbook(Path(path), fmt, reading, formula_sheets)
    except Refused:
        pass
    except Exception:  # noqa: BLE001 - a bad file must never crash the pipeline
        reading.add("ERROR", "F5", "文件已损坏，无法读取。" + RESAVE)
    cells = empty_cells()
    if reading.cells:
        cells = pd.DataFrame(reading.cells, columns=RAW_CELL_COLUMNS).astype("string")
    return ParsedFile(
        cells=cells,
        problems=reading.problems,
        declared_units={declared["unit"]} if declared.get("unit") else set(),
        declared_years={declared["year"]} if declared.get("year") else set(),
    )


# --- package guards (before openpyxl) ------------------------------------


def _check_package(path: Path, reading: _Reading) -> set[str]:
    """Refuse unreadable or dangerous files; return names of sheets with formulas."""
    size = path.stat().st_size
    if size == 0:
        raise reading.refuse("F1", "文件是空的（0 字节），可能上传不完整。请重新上传填好的工作簿。")
    if size > MAX_FILE_BYTES:
        raise reading.refuse(
            "F6",
            f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {MAX_FILE_BYTES // 1024 // 1024} MB）。"
            "请删除与报表无关的工作表、图片后另存，再重新提交。",
        )
    with path.open("rb") as fh:
        head = fh.read(8)
        if head == OLE_SIGNATURE:
            if _ENCRYPTED_STREAM in fh.read():
                raise reading.refuse(
                    "F4",
                    "工作簿设置了打开密码（已加密），系统无法读取。请在 Excel 或 WPS 中取消密码"
                    "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后保存，再重新提交。",
                )
            raise reading.refuse("F2", "这是旧版 Excel 97-2003 工作簿（.xls），系统只接受 .xlsx。" + RESAVE)
    if not head.startswith(b"PK"):
        raise reading.refuse(
            "F2", "这不是 Excel 工作簿（.xlsx）文件，可能是其他类型的文件或改过扩展名。" + RESAVE
        )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise reading.refuse(
            "F5", "文件已损坏（可能未完整保存或上传中断），无法打开。请重新保存后再上传。"
        ) from None
    with zf:
        return _check_members(zf, reading)


def _check_members(zf: zipfile.ZipFile, reading: _Reading) -> set[str]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise reading.refuse(
            "F5", f"工作簿内部包含 {len(infos)} 个部件，结构异常（疑似压缩炸弹），系统拒绝读取。" + RESAVE
        )
    total = sum(i.file_size for i in infos)
    bomb = total > MAX_UNCOMPRESSED or any(
        i.file_size > RATIO_MIN_SIZE and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos
    )
    if bomb:
        why = (
            f"解压后约 {total / 1024 / 1024:.0f} MB，远超正常报表"
            if total > MAX_UNCOMPRESSED
            else "含有压缩比异常的内部部件"
        )
        raise reading.refuse(
            "F5", f"工作簿{why}（疑似压缩炸弹），系统拒绝读取。请使用下发的模板填写后重新提交。"
        )
    names = {i.filename for i in infos}
    if any(n.lower().endswith("vbaproject.bin") for n in names) or (
        "[Content_Types].xml" in names and b"macroEnabled" in zf.read("[Content_Types].xml")
    ):
        raise reading.refuse(
            "F3",
            "工作簿含有宏（VBA 代码），为安全起见系统不接受。请“另存为” Excel 工作簿（.xlsx，不含宏）后重新提交。",
        )
    if any(n.lower().startswith("xl/externallinks/") for n in names):
        raise reading.refuse(
            "F13",
            "工作簿引用了其他文件（外部链接），其中的数值可能来自别处且无法核实，系统不接受。"
            "请在 Excel/WPS 中“数据→编辑链接→断开链接”（或把公式改为数值）后另存，再重新提交。",
        )
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        if "xl/workbook.bin" in names:
            raise reading.refuse("F2", "这是 Excel 二进制工作簿（.xlsb），系统只接受 .xlsx。" + RESAVE)
        raise reading.refuse("F2", "这不是 Excel 工作簿（.xlsx）文件。" + RESAVE)
    formula_sheets: set[str] = set()
    for name, part in _sheet_parts(zf).items():
        if part not in names:
            continue
        with zf.open(part) as fh:
            xml = fh.read()
        match = _DIMENSION.search(xml, 0, 4096)
        if match:
            min_col, min_row, max_col, max_row = range_boundaries(match.group(1).decode())
            if (max_row or 0) > MAX_ROWS or (max_col or 0) > MAX_COLS:
                raise reading.refuse(
                    "F5",
                    f"工作表使用范围过大（{max_row} 行 × {max_col} 列，上限 {MAX_ROWS} 行 × {MAX_COLS} 列）。"
                    "请删除与报表无关的工作表或多余内容后另存，再重新提交。",
                    sheet=name,
                )
        if _FORMULA_TAG.search(xml):
            formula_sheets.add(name)
    return formula_sheets


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    targets: dict[str, str] = {}
    if "xl/_rels/workbook.xml.rels" in zf.namelist():
        for rel in ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels")):
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            targets[rel.get("Id", "")] = part
    return {
        s.get("name", ""): targets.get(s.get(_NS_REL, ""), "")
        for s in book.iter()
        if s.tag.endswith("}sheet") or s.tag == "sheet"
    }


# --- reading --------------------------------------------------------------


def _load(path: Path, *, data_only: bool):
    with warnings.catch_warnings():
        # openpyxl warns about Excel extensions it drops; irrelevant to values.
        warnings.simplefilter("ignore")
        # A file object, not a name: archived blobs are named by hash, without
        # the .xlsx extension openpyxl insists on for file names.
        return load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=data_only)


def _grid(ws, reading: _Reading) -> list[tuple] | None:
    """All rows of a sheet as value tuples (row 1 first), or None when too big."""
    ws.reset_dimensions()  # a stale <dimension> would truncate rows
    rows = []
    for values in ws.iter_rows(min_row=1, values_only=True):
        if len(rows) >= MAX_ROWS or len(values) > MAX_COLS:
            reading.add(
                "ERROR",
                "F5",
                f"工作表使用范围过大（超过 {MAX_ROWS} 行或 {MAX_COLS} 列），未读取。请删除多余内容后另存，再重新提交。",
                sheet=ws.title,
            )
            return None
        rows.append(values)
    return rows


def _read_workbook(
    path: Path, fmt: ReportFormat, reading: _Reading, formula_sheets: set[str]
) -> dict[str, str]:
    wb = _load(path, data_only=True)
    formulas_wb = _load(path, data_only=False) if formula_sheets else None
    try:
        meta = _meta(wb)
        if meta.get("format") and meta["format"] != fmt.code:
            reading.add(
                "ERROR",
                "F11",
                f"本工作簿是按「{meta.get('format_name') or meta['format']}」格式生成的，"
                f"而本年度应使用「{fmt.name}」格式。请下载本年度的填报模板重新填写。",
            )
        seen: set[str] = set()
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
        for sheet in unmarked:
            table = _guess_table(sheet, fmt, seen)
            if table is None:
                continue  # unknown sheets (the clerk's own notes) are ignored
            reading.add(
                "WARNING",
                "F11",
                "此工作表缺少模板中隐藏的定位编码（可能复制到了新工作簿或删除了隐藏行列），"
                "已按表头文字读取，请核对读取结果；今后请直接在下发的模板中填写。",
                sheet=sheet.name,
            )
            _read_by_labels(sheet, fmt, table, reading)
            seen.add(table)
        expected = list(fmt.tables) + ([NARRATIVE_TABLE] if fmt.narrative_rows else [])
        for code in expected:
            if code not in seen:
                title = fmt.tables[code].title if code in fmt.tables else NARRATIVE_SHEET
                reading.add(
                    "WARNING",
                    "F11",
                    f"工作簿中没有找到「{title}」工作表，该部分按未填写处理。请使用下发的模板填写。",
                )
    finally:
        wb.close()
        if formulas_wb is not None:
            formulas_wb.close()
    return meta


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
            reading.add(
                "ERROR",
                "F12",
                f"单元格 {address(r, c)} 是公式，但文件中没有保存计算结果。请用 Excel 或 WPS 打开此文件，"
                "等待自动计算完成（或按 F9）后保存，再重新提交。",
                sheet=self.name,
                location=address(r, c),
            )
            return None
        return text or None


def _read_keyed(sheet: _Sheet, fmt: ReportFormat, table: str, reading: _Reading) -> None:
    """Read cells by the hidden key column and key rows."""
    kinds = fmt.cell_kinds()
    key_col = sheet.marker()[1]
    keys: dict[int, str] | None = None
    pairs = _wide_pairs(fmt.tables.get(table))
    for r, cells in sheet.lines():
        values = sheet.grid[r - 1]
        key = excel_value_text(values[key_col]) if key_col < len(values) else ""
        if key == COLUMNS_MARK:
            keys = {c: t for c, t in cells if c != key_col}
            continue
        if keys is None or key.startswith(TABLE_MARK):
            continue  # title area
        first_value_col = min(keys, default=key_col + 1)
        for c, text in cells:
            if c <= key_col or (key and c < first_value_col):
                continue  # codes and row labels
            if not key and not _looks_like_value(values[c]):
                continue  # headings and labels between blocks
            target = None
            if key and c in keys:
                target = pairs.get(keys[c]) if key == WIDE_LINE_MARK else (key, keys[c])
            if target is not None and (table, *target) in kinds:
                value = sheet.value(r, c, reading)
                if value is not None:
                    reading.emit(table, *target, value, sheet.name, r, c)
            elif text:  # an uncalculated formula off the form is harmless
                reading.add(
                    "WARNING",
                    "F11",
                    f"单元格 {address(r, c)} 填有“{_short(text)}”，但这里不是表格中需要填写的位置，未被读取。"
                    "如属报表数据，请填到对应的白色单元格中。",
                    sheet=sheet.name,
                    location=address(r, c),
                )


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


def _wide_by_labels(sheet: _Sheet, table: Table, reading: _Reading) -> None:
    """Each row's own label heads its group of columns; the column labels
    follow in a header line; the data line is the first line below it."""
    lines = list(sheet.lines())
    column_labels = {_norm(c.label) for b in table.blocks for c in b.columns}
    label_line = next(
        (i for i, (_, cells) in enumerate(lines) if sum(_norm(t) in column_labels for _, t in cells) >= 2),
        None,
    )
    if label_line is None or label_line + 1 >= len(lines):
        return
    header_cells = [(c, _norm(t)) for _, cells in lines[:label_line] for c, t in cells]
    label_cells = lines[label_line][1]
    below = lines[label_line + 1 :]
    row_of = sheet.grid
    data_row = next(
        (r for r, cells in below if any(_looks_like_value(row_of[r - 1][c]) for c, _ in cells)), below[0][0]
    )
    start = -1
    for block in table.blocks:
        for row in block.rows:
            found = [c for c, t in header_cells if t == _norm(row.label) and c > start]
            if not found:
                continue
            start = min(found)
            after = start - 1
            for column in block.row_columns(row):
                at = [c for c, t in label_cells if _norm(t) == _norm(column.label) and c > after]
                if not at:
                    break
                after = min(at)
                text = sheet.value(data_row, after, reading)
                if text is not None:
                    reading.emit(table.code, row.code, column.code, text, sheet.name, data_row, after)


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
