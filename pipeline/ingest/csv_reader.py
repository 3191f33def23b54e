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
    try:
        header = next(reader)
    except StopIteration:
        return ParsedFile(empty_cells(), [origin.problem("F1.no_content")])
    header = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    extra = [h for h in header if h not in REQUIRED + OPTIONAL]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if missing or extra or duplicated:
        parts = []
        if missing:
            parts.append(f"缺少列 {'、'.join(missing)}")
        if extra:
            parts.append(f"多出不认识的列 {'、'.join(extra)}")
        if duplicated:
            parts.append(f"列名重复 {'、'.join(duplicated)}")
        return ParsedFile(
            empty_cells(), [origin.problem("F11.csv_header", location="第 1 行", problems="；".join(parts))]
        )
    index = {name: header.index(name) for name in header}

    records: list[tuple[str, ...]] = []
    problems: list[Message] = []
    # Lines naming another unit or year: one message per declared value, not per line
    # (a file exported for another unit has every line so).
    foreign: dict[tuple[str, str], list] = {}
    tables: set[str] = set()  # named by some line read, blank value or not
    # csv.reader.line_num counts physical lines, so quoted multi-line text
    # still points at the line where its record starts.
    start_line = reader.line_num + 1
    for fields in reader:
        if reader.line_num > MAX_LINES:
            return ParsedFile(empty_cells(), problems + [origin.problem("F14.lines", limit=MAX_LINES)])
        line = f"第 {start_line} 行"
        start_line = reader.line_num + 1
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append(
                origin.problem("F11.csv_fields", location=line, fields=len(fields), columns=len(header))
            )
            continue
        record = {name: fields[i] for name, i in index.items()}
        declared_unit, declared_year = record.get("unit", "").strip(), record.get("year", "").strip()
        if declared_unit and declared_unit != origin.unit:
            _count(foreign, ("F8.csv_unit", declared_unit), line)
            continue
        if declared_year and declared_year != str(year):
            _count(foreign, ("F8.csv_year", declared_year), line)
            continue
        table, row, column = (record[n].strip() for n in ("table", "row", "column"))
        tables.add(table)
        value = record["value"]
        value = value if table == NARRATIVE_TABLE else value.strip()
        if value == "":
            continue
        records.append((table, row, column, value, "", line))

    refused = foreign or any(p.severity == "ERROR" for p in problems)  # F8, F11 say it better
    if fmt is not None and not refused and not _names_a_table(fmt, tables):
        problems.append(origin.problem("F18.no_tables", expected=expected_titles(fmt)))
    for (key, declared), (first, count) in foreign.items():
        facts = {"owner": origin.unit} if key == "F8.csv_unit" else {"year": year}
        problems.append(origin.problem(key, location=first, declared=declared, lines=count, **facts))
    return ParsedFile(cells_frame(records), problems)


def _names_a_table(fmt: ReportFormat, tables: set[str]) -> bool:
    expected = set(fmt.tables) | ({NARRATIVE_TABLE} if fmt.narrative_rows else set())
    return not expected or bool(tables & expected)


def _count(found: dict[tuple[str, str], list], key: tuple[str, str], line: str) -> None:
    """The first line and the number of lines with this problem."""
    entry = found.setdefault(key, [line, 0])
    entry[1] += 1
