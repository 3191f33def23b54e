"""Provenance of every district figure: each accepted unit's value, with the file,
its content hash, the sheet and the cell (or CSV line) it was read from."""

from __future__ import annotations

import pandas as pd

from schemas.base import NARRATIVE_TABLE

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
    for (row, column), group in list(part.groupby(["row", "column"], sort=False))[:limit]:
        for r in group.head(3).itertuples(index=False):
            where = "，".join(p for p in (r.sheet, r.location) if p)
            lines.append(
                f"| {row} | {column} | {r.unit} | {r.value} | {r.file} | {where} | {r.sha256[:12]} |"
            )
        if len(group) > 3:
            lines.append(f"| {row} | {column} | …另 {len(group) - 3} 个单位 | | | | |")
    return "\n".join(lines)
