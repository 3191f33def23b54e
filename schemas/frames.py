"""Reading a frame's columns as Python values.

pandas 3 keeps text in Arrow arrays: iterating such a column yields one value at a
time through pandas (~0.5 µs each), while `tolist()` converts the whole column at
once (~0.03 µs each). The rules and steps walk tens of thousands of cells per build,
so they read columns through these two helpers. Missing values come out as they do
when iterating (nan, or pd.NA for the "string" dtype).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # light: the code location imports this without pandas
    import pandas as pd


def zip_columns(frame: pd.DataFrame, *columns: str) -> Iterator[tuple]:
    """zip(frame[c1], frame[c2], ...) over Python lists."""
    return zip(*(frame[c].tolist() for c in columns))


def distinct(column: pd.Series) -> list:
    """The column's values in order of first appearance, once each (Series.unique as a list)."""
    return column.unique().tolist()
