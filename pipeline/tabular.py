"""Every CSV and XLSX the system writes goes through here: no cell is a live formula.

A spreadsheet program opening a CSV takes a cell that starts with = + - @ (or a
tab, carriage return or line feed before one, or their full-width forms) as a
formula: `=cmd|' /C calc'!A0` runs a program ("CSV injection", OWASP). Unit
names, file names and texts are chosen by people, so each text cell that would
start a formula is written with an apostrophe in front, the convention Excel and
WPS show as plain text. A number is not a formula: "-3" stays "-3".

The apostrophe is reversible (`restore`): a text that already starts with
apostrophes before a formula character gets one more, so the files the build
reads back (the revisions log) give exactly the text that was written.

In an XLSX workbook a text cell is never evaluated; `inert_workbook` makes sure
no cell is stored as a formula and marks formula-like text "quote prefixed", so
that editing the cell in Excel does not turn it into one either. The text itself
stays exact there (the workbook is read back as the unit's data).

JSON outputs (figures.json) keep text exact: JSON is not opened as a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

FORMULA_CHARS = "=+-@\t\r\n＝＋－＠"
_LIVE = re.compile(f"'*[{re.escape(FORMULA_CHARS)}]")
_QUOTED = re.compile(f"'+[{re.escape(FORMULA_CHARS)}]")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_live(text: str) -> bool:
    """Would a spreadsheet program take this text as a formula (or is it one of our
    quoted forms, which need one more apostrophe to stay reversible)?"""
    return bool(_LIVE.match(text)) and not _NUMBER.fullmatch(text)


def neutralise(value: object) -> object:
    """A cell as it may be written: formula-like text quoted; numbers and None unchanged."""
    if isinstance(value, str) and is_live(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The text `neutralise` was given (for a file of ours read back)."""
    return text[1:] if _QUOTED.match(text) else text


def _text_columns(frame) -> list:
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    return [
        name
        for name, column in frame.items()
        if not (is_numeric_dtype(column) or is_bool_dtype(column) or is_datetime64_any_dtype(column))
    ]  # numbers stay numbers


def neutralise_frame(frame):
    """A copy of a DataFrame with every text column's cells neutralised (vectorised:
    an open-data file of 1,000 units has 150,000 lines)."""
    out = frame.copy()
    for name in _text_columns(out):
        column = out[name]
        text = column.astype("string")
        live = text.str.match(_LIVE) & ~text.str.fullmatch(_NUMBER)
        live = live.fillna(False).astype(bool)
        if live.any():
            out[name] = column.where(~live, "'" + text)
    return out


def frame_csv(frame) -> str:
    """A DataFrame as UTF-8 CSV text with a header row, LF line ends, minimal quoting.

    A carriage return inside a text becomes a line feed first, as in the reports:
    with LF line ends the csv module does not quote a field holding a lone CR, and
    a reader would split the line there (and find a formula at the start of the next)."""
    frame = frame.copy()
    for name in _text_columns(frame):
        text = frame[name].astype("string")
        if text.str.contains("\r", regex=False).fillna(False).any():
            frame[name] = frame[name].where(text.isna(), text.str.replace("\r\n?", "\n", regex=True))
    buffer = io.StringIO()
    neutralise_frame(frame).to_csv(buffer, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def rows_csv(header: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    """A download for Excel on Chinese Windows: UTF-8 with BOM, CRLF, every cell quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for row in [header, *rows]:
        writer.writerow(
            [neutralise(v if isinstance(v, (int, float)) else "" if v is None else str(v)) for v in row]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def read_frame(path: Path):
    """A CSV written by `frame_csv`, every cell as the text that was written (no NaN)."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for name in frame.columns:
        frame[name] = frame[name].map(restore)
    return frame


def inert_workbook(wb) -> None:
    """No cell of an openpyxl workbook is stored as a formula (openpyxl stores any
    text starting with "=" as one); formula-like text is quote-prefixed."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                if isinstance(cell.value, str) and is_live(cell.value):
                    cell.quotePrefix = True
