"""The hidden marks a template carries so that reading survives inserted rows and
columns: shared by the writer (writer.py) and the reader (pipeline/ingest/xlsx_reader.py)."""

from __future__ import annotations

import re

META_SHEET = "_nianbao"
TABLE_MARK = "#table="
COLUMNS_MARK = "#columns"
WIDE_LINE_MARK = "*"
WIDE_KEY_SEP = "|"
NARRATIVE_SHEET = "文字部分"


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (≤31 chars, no []:*?/\\) from a title."""
    base = re.sub(r"[\[\]:*?/\\]", "", title).strip("' ") or "表"
    base = base[:31]
    name, n = base, 2
    while name.casefold() in {t.casefold() for t in taken} or name.casefold() == "history":
        suffix = f"（{n}）"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def expected_titles(fmt) -> str:
    """The tables a file of format `fmt` should hold, named for a person (F18)."""
    titles = [t.title for t in fmt.tables.values()] + ([NARRATIVE_SHEET] if fmt.narrative_rows else [])
    return "、".join(f"「{t}」" for t in titles)
