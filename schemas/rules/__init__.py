"""The rule engine: a format's rules (data, in the format's module) checked over a
year's cells, each failure turned into a catalogue message.

Rules are checked on the cells of every unit of a year at once (vectorised):
structure (N5, N6) on the tidy cell frame, identities on wide frames as pandera
dataframe checks, cross-year rules against last year's accepted cells, and
whatever kinds a format registers (the legacy catalogue's). Each kind of rule
is one registered function (schemas/rules/registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from schemas.base import NARRATIVE_TABLE, ReportFormat
from schemas.messages import Message
from schemas.rules import insight, prose, structure, tables, years  # noqa: F401 - register the built-in kinds
from schemas.rules.context import CellFrame, RuleContext, prepare
from schemas.rules.registry import CHECKERS, KIND_ORDER, Settings, YearInputs, require_kinds

__all__ = ["CellFrame", "Checked", "RuleContext", "Settings", "check_cells", "KIND_ORDER"]


@dataclass
class Checked:
    """Cells with parsed values, and every message the rules produced."""

    cells: pd.DataFrame  # CellFrame + kind, ok, number, value (canonical text)
    messages: list[Message]


def check_cells(
    cells: pd.DataFrame,
    fmt: ReportFormat,
    *,
    unit_names: dict[str, str] | None = None,
    previous: pd.DataFrame | None = None,
    previous_format: ReportFormat | None = None,
    settings: Settings | None = None,
    kinds: frozenset[str] | None = None,
) -> Checked:
    """Every rule of `fmt` on a year's cells (any number of units); `settings` are the
    office's thresholds (home.toml), defaults without them; `kinds`: only the rules of
    these kinds (default all)."""
    frame = prepare(cells, fmt)
    ctx = RuleContext(fmt, frame, unit_names or {})
    valid = frame[frame["ok"] & (frame["kind"] != "")]
    valid = valid[~valid.duplicated(["unit", "table", "row", "column"], keep="first")]
    inputs = YearInputs(
        previous, previous_format, list(dict.fromkeys(frame["unit"])), frame, settings or Settings()
    )
    require_kinds(fmt)
    messages: list[Message] = []
    for kind in KIND_ORDER:
        rules = fmt.rules_of(kind) if kinds is None or kind in kinds else []
        if rules:
            # Blank tables are about the official tables, not the units' text.
            cells_for_kind = valid[valid["table"] != NARRATIVE_TABLE] if kind == "blank_table" else valid
            messages += CHECKERS[kind](cells_for_kind, fmt, ctx, rules, inputs)
    return Checked(frame, messages)
