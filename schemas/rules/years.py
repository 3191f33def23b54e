"""Rules across years, against last year (as `YearInputs` defines it): carry-over (N7)
and stock and flow (N8). Rows and columns come from the rule, not from code."""

from __future__ import annotations

import pandas as pd

from schemas.base import ReportFormat, Rule
from schemas.messages import Message
from schemas.numbers import format_number
from schemas.rules.context import RuleContext, numbers_of
from schemas.rules.registry import YearInputs, rule_kind


def _sums(cells: pd.DataFrame, table: str, row: str) -> dict[tuple[str, str], float]:
    """(unit, column) -> sum of the numbers in `row` of `table`; a dict, because every
    unit and column is looked up one by one (a Series lookup costs ~100 times more)."""
    part = cells[(cells["table"] == table) & (cells["row"] == row)]
    return part.groupby(["unit", "column"])["number"].sum().to_dict()


def _this_year(frame: pd.DataFrame, table: str, row: str) -> dict[tuple[str, str], float]:
    part = numbers_of(frame, table)
    return part[part["row"] == row].groupby(["unit", "column"])["number"].sum().to_dict()


def _units_on_record(frame: pd.DataFrame, inputs: YearInputs) -> list[str] | None:
    if inputs.previous is None or inputs.previous.empty or inputs.previous_format is None:
        return None
    before = set(inputs.previous["unit"])
    return [u for u in frame["unit"].unique().tolist() if u in before]


# Message of each kind by how last year is on record: a rejected file, or the published
# report the unit's record was imported from (accepted figures: the kind's own message).
BASIS_KEYS = {
    ("carry_over", "rejected"): "carry_over_rejected",
    ("carry_over", "published"): "carry_over_published",
    ("stock_flow", "rejected"): "stock_flow_rejected",
    ("stock_flow", "published"): "stock_flow_published",
}


def basis_key(kind: str, unit: str, rejected: dict, published: dict) -> tuple[str, dict]:
    """The message key of `kind` for `unit`, and the file it names."""
    if unit in rejected:
        return BASIS_KEYS[(kind, "rejected")], {"previous_file": rejected[unit]}
    if unit in published:
        return BASIS_KEYS[(kind, "published")], {"previous_file": published[unit]}
    return kind, {}


@rule_kind("carry_over")
def check_carry_over(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    units = _units_on_record(frame, inputs)
    if units is None:
        return []
    messages: list[Message] = []
    for rule in rules:
        table = fmt.tables[rule.table]
        prev_table = inputs.previous_format.tables.get(rule.table)
        if prev_table is None or not any(r.code == rule.right[0] for r in prev_table.rows):
            continue  # last year's format has nothing carried forward (a legacy catalogue)
        now = _this_year(frame, rule.table, rule.left[0])
        before = _sums(inputs.previous, rule.table, rule.right[0])
        rejected = inputs.rejected_files
        for unit in units:
            for column in dict.fromkeys(c.code for b in table.blocks for c in b.columns):
                if {
                    (unit, rule.table, rule.left[0], column),
                    (unit, rule.table, rule.right[0], column),
                } & inputs.unknown:
                    continue  # a figure that could not be read is unknown, not 0
                a, b = now.get((unit, column), 0.0), before.get((unit, column), 0.0)
                if a != b:
                    anchor = (rule.table, rule.left[0], column)
                    key, extra = basis_key("carry_over", unit, rejected, inputs.published_files)
                    messages.append(
                        ctx.message(rule, unit, key, anchor, cell=ctx.cell_text(unit, *anchor),
                                    previous_row=ctx.row_label(rule.table, rule.right[0]),
                                    previous=format_number(b), **extra)
                    )  # fmt: skip
    return messages


@rule_kind("stock_flow")
def check_stock_flow(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    units = _units_on_record(frame, inputs)
    if units is None:
        return []
    messages: list[Message] = []
    for rule in rules:
        prev_table = inputs.previous_format.tables.get(rule.table)
        if prev_table is None or not any(c.code == rule.stock for b in prev_table.blocks for c in b.columns):
            continue  # the previous year's format has no stock to carry
        rejected = inputs.rejected_files
        for row in rule.left:
            now = _this_year(frame, rule.table, row)
            before = _sums(inputs.previous, rule.table, row)
            for unit in units:
                if any(
                    (unit, rule.table, row, c) in inputs.unknown
                    for c in (rule.stock, rule.inflow, rule.outflow)
                ):
                    continue  # a figure that could not be read is unknown, not 0
                stock_before = before.get((unit, rule.stock), 0.0)
                added, removed = now.get((unit, rule.inflow), 0.0), now.get((unit, rule.outflow), 0.0)
                expected = stock_before + added - removed
                if now.get((unit, rule.stock), 0.0) != expected:
                    anchor = (rule.table, row, rule.stock)
                    key, extra = basis_key("stock_flow", unit, rejected, inputs.published_files)
                    messages.append(
                        ctx.message(rule, unit, key, anchor, cell=ctx.cell_text(unit, *anchor), **extra,
                                    before=format_number(stock_before), added=format_number(added),
                                    removed=format_number(removed), expected=format_number(expected))
                    )  # fmt: skip
    return messages
