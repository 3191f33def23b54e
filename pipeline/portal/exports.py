"""Spreadsheet-bound exports of the portal, safe against formula injection.

A cell that starts with = + - @ (or a tab / carriage return before one) is a
live formula when Excel or WPS opens a CSV (`=cmd|' /C calc'!A0`). Every text
cell written here is prefixed with an apostrophe in that case, the convention
both programs show as plain text (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    """UTF-8 with BOM (Excel on Chinese Windows needs it), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
