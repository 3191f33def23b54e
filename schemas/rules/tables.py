"""Rules within one year's tables: identities (N1–N4), ranges, blank tables (N9)."""

from __future__ import annotations

from functools import partial

import pandas as pd
import pandera.pandas as pa

from schemas.base import ReportFormat, Rule
from schemas.frames import zip_columns
from schemas.messages import Message
from schemas.numbers import format_number
from schemas.rules.context import RuleContext, failed_rows, numbers_of
from schemas.rules.registry import YearInputs, rule_kind


@rule_kind("identity")
def check_identities(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    """Each rule checked for each line across its axis, as pandera dataframe checks. Rules
    on the same table, axis and lines share one wide frame and one validation."""
    units = frame["unit"].unique().tolist()
    refused = _refused_cells(inputs.all_cells)
    found: dict[str, list[Message]] = {rule.id: [] for rule in rules}
    groups: dict[tuple, list[Rule]] = {}
    for rule in rules:
        groups.setdefault((rule.table, rule.axis, _lines(fmt, rule)), []).append(rule)
    numbers = {table: numbers_of(frame, table) for table in dict.fromkeys(r.table for r in rules)}
    for (table, axis, lines), group in groups.items():
        # Terms run along `axis`; the rule is checked for each line across it.
        term_key, line_key = ("row", "column") if axis == "rows" else ("column", "row")
        part = numbers[table]
        terms = list(dict.fromkeys(t for rule in group for t in (*rule.left, *rule.right)))
        # groupby + unstack is pivot_table(aggfunc="sum") without its per-call overhead.
        wide = part.groupby(["unit", line_key, term_key], sort=False)["number"].sum().unstack(term_key)
        full = pd.MultiIndex.from_product([units, list(lines)], names=["unit", line_key])
        wide = wide.reindex(full).reindex(columns=terms).fillna(0.0)
        # Units that reported nothing in this table are N9's business, not these rules'.
        reported = set(part["unit"].tolist())
        wide = wide[wide.index.get_level_values("unit").isin(reported)].reset_index()
        checks = []
        for rule in group:
            # A line using a cell N5 refused cannot be checked: say so, rather than report
            # a second, derived failure computed as if the cell were 0.
            unchecked = _refused_terms(refused, rule, term_key, line_key, set(lines))
            found[rule.id] += _unchecked_messages(rule, ctx, unchecked, term_key)
            blocked = [(u, at) in unchecked for u, at in zip_columns(wide, "unit", line_key)]
            checks.append(pa.Check(partial(_holds, rule, pd.Series(blocked, index=wide.index, dtype=bool)),
                                   name=rule.id))  # fmt: skip
        failed = failed_rows(pa.DataFrameSchema(checks=checks), wide)
        for rule in group:
            for pos in sorted(failed.get(rule.id, ())):
                line = wide.loc[pos]
                found[rule.id].append(
                    _identity_message(rule, ctx, line["unit"], line[line_key], line, term_key)
                )
    return [m for rule in rules for m in found[rule.id]]


def _lines(fmt: ReportFormat, rule: Rule) -> tuple[str, ...]:
    """The lines a rule is checked on: its `over`, else every column (rows rules) or row."""
    table = fmt.tables[rule.table]
    if rule.over:
        return tuple(rule.over)
    if rule.axis == "rows":
        return tuple(dict.fromkeys(c.code for b in table.blocks for c in b.columns))
    return tuple(r.code for r in table.rows)


def _holds(rule: Rule, blocked: pd.Series, df: pd.DataFrame) -> pd.Series:
    """The rule holds on each line (a blocked line, one using a refused cell, is not judged)."""
    lhs, rhs = df[list(rule.left)].sum(axis=1), df[list(rule.right)].sum(axis=1) + rule.constant
    if rule.op == "<=":
        return (lhs <= rhs + rule.tolerance) | blocked
    return ((lhs - rhs).abs() <= rule.tolerance + 1e-9) | blocked


def _unchecked_messages(rule: Rule, ctx: RuleContext, unchecked: dict, term_key: str) -> list[Message]:
    messages = []
    for (unit, at), cells in unchecked.items():
        for term, raw, file, sheet, location in cells:
            anchor = (rule.table, term, at) if term_key == "row" else (rule.table, at, term)
            messages.append(
                ctx.at(rule, unit, "identity_unchecked", file, sheet, location,
                       line=ctx.column_label(rule.table, at) if term_key == "row" else ctx.row_label(rule.table, at),
                       axis="列" if term_key == "row" else "行", cell=ctx.cell_label(*anchor), raw=raw)
            )  # fmt: skip
    return messages


def _refused_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The numeric cells N5 refused (usually none), found once for every identity rule."""
    if "ok" not in cells.columns:
        return cells.iloc[0:0]
    return cells[~cells["ok"] & (cells["kind"] != "") & (cells["kind"] != "text")]


def _refused_terms(refused: pd.DataFrame, rule: Rule, term_key: str, line_key: str, lines: set[str]) -> dict:
    """(unit, line) -> [(term, raw, file, sheet, location)] of the rule's cells N5 refused."""
    if refused.empty:
        return {}
    terms = set(rule.left) | set(rule.right)
    bad = refused[refused["table"] == rule.table]
    bad = bad[bad[term_key].isin(terms) & bad[line_key].isin(lines)]
    found: dict[tuple[str, str], list] = {}
    for r in bad.itertuples(index=False):
        row = r._asdict()
        found.setdefault((row["unit"], row[line_key]), []).append(
            (row[term_key], row["raw"], row["file"], row["sheet"], row["location"])
        )
    return found


def _identity_message(rule: Rule, ctx: RuleContext, unit: str, at: str, line: pd.Series, term_key: str):
    def key(term: str) -> tuple[str, str, str]:
        return (rule.table, term, at) if term_key == "row" else (rule.table, at, term)

    def side(terms: tuple[str, ...]) -> tuple[str, float]:
        total = float(sum(line[t] for t in terms))
        shown = [ctx.cell_text(unit, *key(t)) for t in terms if line[t] != 0 or len(terms) <= 4]
        hidden = len(terms) - len(shown)
        text = " + ".join(shown) if shown else "0"
        if hidden:
            text += f"（其余 {hidden} 项为空或 0）"
        return text, total

    left_text, left_total = side(rule.left)
    right_text, right_total = side(rule.right)
    right_total += rule.constant
    if rule.constant:
        right_text = (
            f"{right_text} + {format_number(rule.constant)}" if rule.right else format_number(rule.constant)
        )
    line_label = ctx.column_label(rule.table, at) if term_key == "row" else ctx.row_label(rule.table, at)
    return ctx.message(
        rule, unit, "identity", key(rule.left[0]) if rule.left else None,
        line=line_label, axis="列" if term_key == "row" else "行",
        left=left_text, left_total=format_number(left_total),
        relation="应不大于" if rule.op == "<=" else "应等于",
        right=right_text, right_total=format_number(right_total),
    )  # fmt: skip


@rule_kind("range")
def check_ranges(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    messages = []
    for rule in rules:
        numbers = numbers_of(frame, rule.table)
        if rule.left:
            numbers = numbers[numbers["row"].isin(rule.left)]
        bad = numbers[
            (numbers["number"] < (rule.low if rule.low is not None else float("-inf")))
            | (numbers["number"] > (rule.high if rule.high is not None else float("inf")))
        ]
        for r in bad.itertuples():
            anchor = (rule.table, r.row, r.column)
            messages.append(ctx.message(rule, r.unit, "range", anchor, cell=ctx.cell_text(r.unit, *anchor)))
    return messages


@rule_kind("blank_table")
def check_blank_tables(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    present = set(zip_columns(frame, "unit", "table"))
    return [
        ctx.message(rule, unit, "blank_table", None, title=table.title)
        for rule in rules
        for unit in inputs.units
        for table in fmt.tables.values()
        if (unit, table.code) not in present
    ]
