"""Provenance of every district figure: each accepted unit's value, with the file,
its content hash, the sheet and the cell (or CSV line) it was read from."""

from __future__ import annotations

import pandas as pd

from schemas.base import NARRATIVE_TABLE
from schemas.frames import zip_columns

PROVENANCE_COLUMNS = [
    "table",
    "row",
    "column",
    "unit",
    "value",
    "number",
    "file",
    "sha256",
    "sheet",
    "location",
]


def provenance(accepted: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """One line per (district cell, contributing unit): the sum of a cell's `value`s is
    the district figure (tables only; text is not summed)."""
    figures = accepted[accepted["table"] != NARRATIVE_TABLE]
    where = cells.drop_duplicates(["unit", "table", "row", "column"], keep="first")[
        ["unit", "table", "row", "column", "file", "sha256", "sheet", "location"]
    ]
    out = figures.merge(where, on=["unit", "table", "row", "column"], how="left", sort=False)
    out = out[PROVENANCE_COLUMNS].fillna({"file": "", "sha256": "", "sheet": "", "location": ""})
    return out.sort_values(["table", "row", "column", "unit"], kind="stable").reset_index(drop=True)


def preview(frame: pd.DataFrame, table: str, limit: int = 5) -> str:
    """Markdown: the first figures of `table` with where each unit's value came from."""
    part = frame[frame["table"] == table]
    if part.empty:
        return "（本表没有已采用的数字）"
    lines = ["| 行 | 列 | 单位 | 值 | 文件 | 位置 | SHA-256 |", "|---|---|---|---|---|---|---|"]
    shown: dict[tuple[str, str], list[tuple]] = {}  # the first `limit` cells, in order
    counts: dict[tuple[str, str], int] = {}
    columns = ("row", "column", "unit", "value", "file", "sheet", "location", "sha256")
    for row, column, *rest in zip_columns(part, *columns):
        key = (row, column)
        if key not in shown and len(shown) == limit:
            continue
        counts[key] = counts.get(key, 0) + 1
        if len(shown.setdefault(key, [])) < 3:
            shown[key].append(rest)
    for (row, column), found in shown.items():
        for unit, value, file, sheet, location, sha256 in found:
            where = "，".join(p for p in (sheet, location) if p)
            lines.append(f"| {row} | {column} | {unit} | {value} | {file} | {where} | {sha256[:12]} |")
        if counts[(row, column)] > 3:
            lines.append(f"| {row} | {column} | …另 {counts[(row, column)] - 3} 个单位 | | | | |")
    return "\n".join(lines)
