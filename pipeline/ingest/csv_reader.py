"""Reader for the interchange CSV (docs/interchange-csv.md)."""

from __future__ import annotations

import csv
import io

from pipeline.ingest.cells import ParsedFile, cells_frame, empty_cells
from pipeline.workbook.marks import expected_titles
from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.catalogue import FileOrigin
from schemas.messages import Message

REQUIRED = ("table", "row", "column", "value")
MAX_LINES = 20_000  # an export has a few hundred lines; past this the file is refused (F14)
# Fields as long as the file itself parse; the per-file check then applies the text limit (F14).
csv.field_size_limit(32 * 1024 * 1024)
OPTIONAL = ("unit", "year")


def decode(data: bytes) -> tuple[str | None, str]:
    """Bytes -> (text, encoding name), or (None, why) when no allowed encoding fits.

    UTF-8 (with or without BOM) first: GB18030 decodes almost any byte string,
    so it can only be the fallback.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, "文件是 UTF-16 编码，不受支持"
    if b"\x00" in data:
        return None, "文件含有空字节（NUL），不是文本文件，可能是损坏或二进制文件"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as exc:
        return None, f"文件既不是 UTF-8 也不是 GB18030/GBK 编码（第 {exc.start} 字节处无法解码）"


def read_csv(data: bytes, origin: FileOrigin, year: int, fmt: ReportFormat | None = None) -> ParsedFile:
    """Cells of an interchange CSV; a unit column, where present, must equal `origin.unit`.
    With `fmt`, a file none of whose lines names one of its tables is refused (F18)."""
    text, encoding = decode(data)
    if text is None:
        return ParsedFile(empty_cells(), [origin.problem("F10.encoding", why=encoding)])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return ParsedFile(empty_cells(), [origin.problem("F1.no_content")])
    header = [h.strip().lower() for h in header]
    wrong = _header_problems(header)
    if wrong:
        return ParsedFile(
            empty_cells(), [origin.problem("F11.csv_header", location="第 1 行", problems=wrong)]
        )
    lines = _Lines(origin, year, header)
    if not lines.read(reader):
        return ParsedFile(empty_cells(), lines.problems + [origin.problem("F14.lines", limit=MAX_LINES)])
    return ParsedFile(cells_frame(lines.records), lines.messages(fmt))


def _header_problems(header: list[str]) -> str:
    """What is wrong with the header line (columns missing, unknown or twice), or ""."""
    missing = [c for c in REQUIRED if c not in header]
    extra = [h for h in header if h not in REQUIRED + OPTIONAL]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    parts = []
    if missing:
        parts.append(f"缺少列 {'、'.join(missing)}")
    if extra:
        parts.append(f"多出不认识的列 {'、'.join(extra)}")
    if duplicated:
        parts.append(f"列名重复 {'、'.join(duplicated)}")
    return "；".join(parts)


class _Lines:
    """The data lines of one file: the cells they hold and what is wrong with them."""

    def __init__(self, origin: FileOrigin, year: int, header: list[str]):
        self.origin, self.year = origin, year
        self.index = {name: header.index(name) for name in header}
        self.width = len(header)
        self.records: list[tuple[str, ...]] = []
        self.problems: list[Message] = []
        # Lines naming another unit or year: one message per declared value, not per line
        # (a file exported for another unit has every line so).
        self.foreign: dict[tuple[str, str], list] = {}
        self.tables: set[str] = set()  # named by some line read, blank value or not

    def read(self, reader) -> bool:
        """Every line after the header; False once the file runs past MAX_LINES (F14)."""
        # csv.reader.line_num counts physical lines, so quoted multi-line text
        # still points at the line where its record starts.
        start_line = reader.line_num + 1
        for fields in reader:
            if reader.line_num > MAX_LINES:
                return False
            self._take(fields, f"第 {start_line} 行")
            start_line = reader.line_num + 1
        return True

    def _take(self, fields: list[str], line: str) -> None:
        if not any(f.strip() for f in fields):
            return
        if len(fields) != self.width:
            self.problems.append(
                self.origin.problem("F11.csv_fields", location=line, fields=len(fields), columns=self.width)
            )
            return
        record = {name: fields[i] for name, i in self.index.items()}
        declared = self._declared_elsewhere(record)
        if declared is not None:
            _count(self.foreign, declared, line)
            return
        table, row, column = (record[n].strip() for n in ("table", "row", "column"))
        self.tables.add(table)
        value = record["value"] if table == NARRATIVE_TABLE else record["value"].strip()
        if value != "":
            self.records.append((table, row, column, value, "", line))

    def _declared_elsewhere(self, record: dict[str, str]) -> tuple[str, str] | None:
        """(F8 key, the value declared) for a line naming another unit or year, else None."""
        declared_unit, declared_year = record.get("unit", "").strip(), record.get("year", "").strip()
        if declared_unit and declared_unit != self.origin.unit:
            return "F8.csv_unit", declared_unit
        if declared_year and declared_year != str(self.year):
            return "F8.csv_year", declared_year
        return None

    def messages(self, fmt: ReportFormat | None) -> list[Message]:
        """The lines' problems, then F18 (no table of `fmt` named) and one F8 per declared value."""
        problems = list(self.problems)
        refused = self.foreign or any(p.severity == "ERROR" for p in problems)  # F8, F11 say it better
        if fmt is not None and not refused and not _names_a_table(fmt, self.tables):
            problems.append(self.origin.problem("F18.no_tables", expected=expected_titles(fmt)))
        for (key, declared), (first, count) in self.foreign.items():
            facts = {"owner": self.origin.unit} if key == "F8.csv_unit" else {"year": self.year}
            problems.append(self.origin.problem(key, location=first, declared=declared, lines=count, **facts))
        return problems


def _names_a_table(fmt: ReportFormat, tables: set[str]) -> bool:
    expected = set(fmt.tables) | ({NARRATIVE_TABLE} if fmt.narrative_rows else set())
    return not expected or bool(tables & expected)


def _count(found: dict[tuple[str, str], list], key: tuple[str, str], line: str) -> None:
    """The first line and the number of lines with this problem."""
    entry = found.setdefault(key, [line, 0])
    entry[1] += 1
