"""Report sections from accepted cells: each unit's values and the district's sums."""

from __future__ import annotations

import weakref
from decimal import Decimal

import pandas as pd

from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.numbers import canonical

SECTION_COLUMNS = ["scope", "row", "column", "value"]
DISTRICT = "district"  # scope of the summed rows; other scopes are unit codes


def table_section(accepted: pd.DataFrame, table: str) -> pd.DataFrame:
    """Per-unit cells of `table` plus the district sums (scope "district").

    Counts are summed as numbers; decimals (amounts in 万元) and shares (the
    legacy era's rates, e.g. 99.97) are summed exactly with Decimal so that the
    printed precision is the precision entered.
    """
    part = accepted[accepted["table"] == table]
    units = part.rename(columns={"unit": "scope"})[SECTION_COLUMNS]
    sums = []
    for (row, column), group in part.groupby(["row", "column"], sort=False):
        if group["kind"].isin(["decimal", "share"]).any():
            total = canonical(sum((Decimal(v) for v in group["value"]), Decimal(0)))
        else:
            total = str(int(group["number"].sum()))
        sums.append((DISTRICT, row, column, total))
    district = pd.DataFrame(sums, columns=SECTION_COLUMNS)
    return pd.concat([district, units], ignore_index=True).astype("string")


def narrative_section(accepted: pd.DataFrame) -> pd.DataFrame:
    part = accepted[accepted["table"] == NARRATIVE_TABLE]
    return part.rename(columns={"unit": "scope"})[SECTION_COLUMNS].reset_index(drop=True).astype("string")


# id(frame) -> (weak reference to it, scope -> values). Reports look up every
# unit's values in the same few section frames: index each frame once, not per unit.
_SCOPE_INDEX: dict[int, tuple[weakref.ref, dict[str, dict[tuple[str, str], str]]]] = {}


def values_for(section: pd.DataFrame, scope: str) -> dict[tuple[str, str], str]:
    """(row, column) -> value of one scope ("district" or a unit code) of a section frame.

    Section frames are not modified after they are made, so their index is cached.
    """
    entry = _SCOPE_INDEX.get(id(section))
    if entry is None or entry[0]() is not section:
        index: dict[str, dict[tuple[str, str], str]] = {}
        for s, r, c, v in zip(section["scope"], section["row"], section["column"], section["value"]):
            index.setdefault(s, {})[(r, c)] = v
        for key in [k for k, (ref, _) in _SCOPE_INDEX.items() if ref() is None]:
            del _SCOPE_INDEX[key]
        entry = _SCOPE_INDEX[id(section)] = (weakref.ref(section), index)
    return dict(entry[1].get(scope, {}))


def all_sections(accepted: pd.DataFrame, fmt: ReportFormat) -> dict[str, pd.DataFrame]:
    """section table code -> section frame, plus "narrative"."""
    sections = {code: table_section(accepted, code) for code in fmt.tables}
    sections[NARRATIVE_TABLE] = narrative_section(accepted)
    return sections
