"""The tidy cell model every reader produces.

A submission is a set of cells (table, row, column, value), each with where it
came from: file, sheet and cell address for a workbook, "第 N 行" for a CSV line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from schemas.messages import Message

# Columns of a parsed file's cell frame (before unit/year are attached).
RAW_CELL_COLUMNS = ["table", "row", "column", "raw", "sheet", "location"]
# Columns of a submission's cell frame as stored in the warehouse.
CELL_COLUMNS = ["unit", "year", "table", "row", "column", "raw", "file", "sheet", "location"]


@dataclass
class ParsedFile:
    """What a reader returns: raw cells, what the file says about itself, and
    file-level problems (each an ERROR unless stated)."""

    cells: pd.DataFrame  # RAW_CELL_COLUMNS, all strings
    problems: list[Message] = field(default_factory=list)
    declared_units: set[str] = field(default_factory=set)
    declared_years: set[str] = field(default_factory=set)


def empty_cells() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in RAW_CELL_COLUMNS})


def cells_frame(records: list[tuple]) -> pd.DataFrame:
    """A reader's records (RAW_CELL_COLUMNS tuples) as a frame of strings. Built by column
    with the dtype given, a quarter of the cost of from_records + astype per file."""
    if not records:
        return empty_cells()
    return pd.DataFrame(dict(zip(RAW_CELL_COLUMNS, zip(*records))), dtype="string")


def excel_value_text(value: object) -> str:
    """A cell value from openpyxl as the text a person typed: 12.0 -> "12"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip() if not isinstance(value, str) else value.strip()
