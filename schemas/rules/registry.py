"""Rule kinds: each kind of rule is checked by one registered function.

A format's rules are data (`schemas.base.Rule`); `Rule.kind` names which
function checks them. Kinds register themselves (in the style of pandera's
`register_check_method`), so a format that needs a new kind adds a module with
a registered function instead of touching the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from schemas.frames import zip_columns

if TYPE_CHECKING:
    from schemas.base import ReportFormat, Rule
    from schemas.messages import Message
    from schemas.rules.context import RuleContext


# Every kind of rule, declared here only, in the order the engine checks them (the order of
# their messages before sorting); each has one checking function registered with `rule_kind`.
KIND_ORDER = (
    "known_cell",  # N6: the format defines the cell, and it appears once
    "cell_kind",  # N5: a cell holds what its column's kind allows
    "precision",  # N11: a decimal written to more places than its column's, rounded
    "identity",  # sums of cells equal (or bound) each other
    "range",  # cells lie within [low, high]
    "carry_over",  # a row equals last year's row
    "stock_flow",  # stock(Y) == stock(Y-1) + inflow(Y) - outflow(Y)
    "owner",  # L1: only an indicator's owners submit it (legacy catalogue)
    "owned_missing",  # L4: owners submit every indicator they own
    "share_cross_check",  # L2: a submitted share agrees with its counts
    "share_sum",  # L3: shares of one whole sum to 100
    "relation",  # relations a legacy catalogue declares (JH1, …)
    "blank_table",  # N9: a whole table left blank
    "placeholder",  # N10: a count cell holding "—", "无", … read as 0
    "level",  # G1: figures impossible at the home's level of government (规章 at 县级)
    "unhandled",  # Y2: applications received but none handled
    "anomaly",  # Y1: a figure jumps or falls by more than a factor against last year
    "copy_figures",  # P6: every figure identical to last year's
    "prose_figures",  # P1: figures quoted in a unit's text agree with its tables
    "prose_fee",  # P2: section 六 says something about the 信息处理费
    "prose_problems",  # P3: section 五 is not empty or 无
    "prose_length",  # P4: 总体情况 within the office's limit
    "copy_text",  # P5: a text section identical to last year's
)

LEVELS = ("县级", "设区的市", "省级")


@dataclass(frozen=True)
class Settings:
    """What the coordinating office sets for its checks (home.toml; defaults otherwise)."""

    level: str = ""  # 县级 / 设区的市 / 省级; "" = not stated (G1 is not checked)
    anomaly_factor: float = 5.0  # Y1: more than this many times last year's figure, or less than 1/this
    anomaly_minimum: float = 50.0  # Y1: figures below this in both years are left alone
    overview_limit: int = 1000  # P4: characters of 一、总体情况


@dataclass(frozen=True)
class YearInputs:
    """What rules may look at beyond the cells: last year's cells and format, and the
    units that handed in this year.

    Last year means one thing for every rule (N7, N8, P6, Y1) and for the year-over-year
    table (pipeline/steps/yoy.py): a unit's accepted figures; where its last-year
    submission was rejected, the figures of its last file, marked with that file
    (`rejected_file`); where it handed in nothing, no comparison. A figure that could
    not be read (an N5 cell, `unreadable`) is unknown, never 0."""

    previous: pd.DataFrame | None
    previous_format: ReportFormat | None
    units: list[str]
    all_cells: pd.DataFrame  # every cell handed in, valid or not (structure rules read these)
    settings: Settings = Settings()

    @cached_property
    def rejected_files(self) -> dict[str, str]:
        """unit -> last year's file, for units whose last-year figures come from a rejected file."""
        return rejected_files(self.previous)

    @cached_property
    def published_files(self) -> dict[str, str]:
        """unit -> last year's published report, for units whose last-year record was imported from it."""
        return marked_files(self.previous, "published_file")

    @cached_property
    def unknown(self) -> set[tuple[str, str, str, str]]:
        """(unit, table, row, column) of every figure unreadable this year or last year."""
        return unreadable_cells(self.previous) | unreadable_cells(self.all_cells)


def rejected_files(previous: pd.DataFrame | None) -> dict[str, str]:
    return marked_files(previous, "rejected_file")


def marked_files(previous: pd.DataFrame | None, column: str) -> dict[str, str]:
    """unit -> the file named in `column` of last year's cells (rejected_file, published_file)."""
    if previous is None or column not in previous.columns:
        return {}
    marked = previous[previous[column].fillna("") != ""]
    return dict(zip_columns(marked, "unit", column))


def unreadable_cells(cells: pd.DataFrame | None) -> set[tuple[str, str, str, str]]:
    """Figures handed in that could not be read (N5): known to exist, value unknown."""
    if cells is None or cells.empty:
        return set()
    if "unreadable" in cells.columns:
        part = cells[cells["unreadable"].fillna(False).astype(bool)]
    elif "ok" in cells.columns and "kind" in cells.columns:
        part = cells[~cells["ok"] & cells["kind"].isin(["count", "signed", "decimal", "share"])]
    else:
        return set()
    return set(zip_columns(part, "unit", "table", "row", "column"))


def basis_note(inputs: YearInputs, unit: str) -> str:
    """How a message says which last year it compared with ("" for accepted figures)."""
    file = inputs.rejected_files.get(unit)
    if file:
        return f"（上一年度的报送被退回，按其最后报送的文件“{file}”比较）"
    report = inputs.published_files.get(unit)
    return f"（上一年度的数字据已公开年报导入，取自“{report}”）" if report else ""


# frame of valid cells, format, context, the format's rules of this kind, inputs -> messages
Checker = Callable[["pd.DataFrame", "ReportFormat", "RuleContext", list["Rule"], YearInputs], list["Message"]]

CHECKERS: dict[str, Checker] = {}


def rule_kind(kind: str) -> Callable[[Checker], Checker]:
    """Register the function that checks every rule of `kind`."""
    if kind not in KIND_ORDER:
        raise ValueError(f"rule kind {kind!r} is not one of schemas.rules.registry.KIND_ORDER")

    def register(check: Checker) -> Checker:
        if kind in CHECKERS:
            raise ValueError(f"rule kind {kind!r} registered twice")
        CHECKERS[kind] = check
        return check

    return register


def require_kinds(fmt: ReportFormat) -> None:
    """Refuse a format with a kind of rule the engine would never check: one with no
    registered checker, or none in KIND_ORDER (the loop over kinds would pass it by)."""
    kinds = {r.kind for r in fmt.rules}
    unchecked = sorted(kinds - set(CHECKERS))
    unordered = sorted(kinds - set(KIND_ORDER))
    if unchecked or unordered:
        raise LookupError(
            f"format {fmt.code}: rule kinds with no registered checker {unchecked}, "
            f"with no place in schemas.rules.registry.KIND_ORDER {unordered}"
        )
