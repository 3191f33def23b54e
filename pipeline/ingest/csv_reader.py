"""Reader for the interchange CSV (spec/interchange-csv.md)."""

from __future__ import annotations

import csv
import io

import pandas as pd

from pipeline.ingest.cells import RAW_CELL_COLUMNS, ParsedFile, empty_cells
from schemas.messages import Message

REQUIRED = ("table", "row", "column", "value")
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


def read_csv(
    data: bytes, *, unit: str, year: int, display_name: str, unit_code: str | None = None
) -> ParsedFile:
    """`unit` labels the messages; the unit column, where present, must equal `unit_code` (default `unit`)."""

    def problem(rule: str, location: str, text: str, severity: str = "ERROR") -> Message:
        return Message(severity, rule, unit, display_name, "", location, text)

    text, encoding = decode(data)
    if text is None:
        return ParsedFile(
            empty_cells(),
            [problem("F10", "", f"{encoding}。请另存为“CSV UTF-8（逗号分隔）”后重新报送。")],
        )

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return ParsedFile(
            empty_cells(), [problem("F1", "", "文件没有内容。请导出完整的报送数据后重新报送。")]
        )
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
            empty_cells(),
            [
                problem(
                    "F11",
                    "第 1 行",
                    "表头不正确："
                    + "；".join(parts)
                    + "。表头应为 table,row,column,value（可另加 unit,year）。",
                )
            ],
        )
    index = {name: header.index(name) for name in header}

    records: list[tuple[str, ...]] = []
    problems: list[Message] = []
    # csv.reader.line_num counts physical lines, so quoted multi-line text
    # still points at the line where its record starts.
    start_line = reader.line_num + 1
    for fields in reader:
        line = f"第 {start_line} 行"
        start_line = reader.line_num + 1
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append(
                problem(
                    "F11",
                    line,
                    f"这一行有 {len(fields)} 个字段，表头有 {len(header)} 列。请检查是否多了或少了逗号。",
                )
            )
            continue
        record = {name: fields[i] for name, i in index.items()}
        declared_unit, declared_year = record.get("unit", "").strip(), record.get("year", "").strip()
        if declared_unit and declared_unit != (unit_code or unit):
            problems.append(
                problem(
                    "F8",
                    line,
                    f"unit 列写的是“{declared_unit}”，但文件报送在单位“{unit_code or unit}”名下。请改正 unit 列或换到正确单位报送。",
                )
            )
            continue
        if declared_year and declared_year != str(year):
            problems.append(
                problem(
                    "F8",
                    line,
                    f"year 列写的是“{declared_year}”，但文件报送的是 {year} 年度。请改正 year 列或报送到正确年度。",
                )
            )
            continue
        table, row, column = (record[n].strip() for n in ("table", "row", "column"))
        value = record["value"]
        value = value if table == "narrative" else value.strip()
        if value == "":
            continue
        records.append((table, row, column, value, "", line))

    cells = (
        pd.DataFrame.from_records(records, columns=RAW_CELL_COLUMNS).astype("string")
        if records
        else empty_cells()
    )
    return ParsedFile(cells, problems)
