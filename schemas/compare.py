"""Which cells of two years compare (year-over-year, anomalies, copy-paste checks).

Within one format every cell both years define compares with itself; across a
format change only the cells the newer format maps explicitly (ReportFormat.comparable).
"""

from __future__ import annotations

from schemas.base import NARRATIVE_TABLE, ReportFormat

Key = tuple[str, str, str]


def comparable_cells(fmt: ReportFormat, previous: ReportFormat | None) -> dict[Key, Key]:
    """This year's (table, row, column) -> last year's cell with the same meaning (tables only)."""
    if previous is None:
        return {}
    mine = {k: kind for k, kind in fmt.cell_kinds().items() if k[0] != NARRATIVE_TABLE and kind != "text"}
    if previous.code != fmt.code:
        mapping = fmt.comparable.get(previous.code, {})
        theirs = previous.cell_kinds()
        return {k: v for k, v in mapping.items() if k in mine and v in theirs}
    theirs = previous.cell_kinds()
    return {k: k for k in mine if k in theirs}
