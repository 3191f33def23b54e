"""Rules that look past one year's identities: placeholders read as 0 (N10), figures
copied from last year (P6), anomalies against last year (Y1), applications received
but none handled (Y2), and figures impossible at the home's level of government (G1).
Thresholds come from the office (home.toml, `Settings`)."""

from __future__ import annotations

import pandas as pd

from schemas.base import NARRATIVE_TABLE, ReportFormat, Rule
from schemas.compare import comparable_cells
from schemas.frames import zip_columns
from schemas.messages import Message
from schemas.numbers import format_number
from schemas.rules.context import RuleContext
from schemas.rules.registry import YearInputs, basis_note, rule_kind


@rule_kind("placeholder")
def check_placeholders(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    cells = inputs.all_cells
    if "placeholder" not in cells.columns:
        return []
    found = cells[cells["placeholder"]]
    return [
        ctx.at(rule, r.unit, "placeholder", r.file, r.sheet, r.location,
               cell=ctx.cell_label(r.table, r.row, r.column), raw=r.raw.strip())
        for rule in rules
        for r in found.itertuples(index=False)
    ]  # fmt: skip


def _by_unit(cells: pd.DataFrame) -> dict[str, dict[tuple[str, str, str], float]]:
    part = cells[(cells["table"] != NARRATIVE_TABLE) & cells["number"].notna()]
    out: dict[str, dict[tuple[str, str, str], float]] = {}
    for u, t, r, c, n in zip_columns(part, "unit", "table", "row", "column", "number"):
        out.setdefault(u, {})[(t, r, c)] = float(n)
    return out


_PAIRS: dict[int, tuple] = {}


def _pairs(frame, fmt: ReportFormat, inputs: YearInputs):
    """unit -> [(cell, this year, last year)] over the cells comparable with last year
    (computed once per check_cells run: P6 and Y1 both read it)."""
    if inputs.previous is None or inputs.previous.empty or inputs.previous_format is None:
        return {}
    cached = _PAIRS.get(id(inputs))
    if cached is not None and cached[0] is inputs:
        return cached[1]
    _PAIRS.clear()
    pairs = _compute_pairs(frame, fmt, inputs)
    _PAIRS[id(inputs)] = (inputs, pairs)
    return pairs


def _compute_pairs(frame, fmt: ReportFormat, inputs: YearInputs):
    """A blank cell is 0 where its table has figures; an unreadable one is unknown and left out."""
    mapping = comparable_cells(fmt, inputs.previous_format)
    now, before = _by_unit(frame), _by_unit(inputs.previous)
    unknown = inputs.unknown
    return {
        unit: [
            (k, values.get(k, 0.0), before[unit].get(old, 0.0))
            for k, old in mapping.items()
            if (unit, *k) not in unknown and (unit, *old) not in unknown
        ]
        for unit, values in now.items()
        if unit in before
    }


MIN_COPIED = 10  # fewer non-zero figures than this can match by chance


@rule_kind("copy_figures")
def check_copy_figures(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    messages = []
    year = int(frame["year"].iloc[0]) if len(frame) else 0
    for unit, pairs in _pairs(frame, fmt, inputs).items():
        nonzero = [(k, a, b) for k, a, b in pairs if a or b]
        if len(nonzero) < MIN_COPIED or any(a != b for _, a, b in nonzero):
            continue
        examples = "、".join(f"“{ctx.cell_label(*k)}”{format_number(a)}" for k, a, _ in nonzero[:3])
        for rule in rules:
            messages.append(
                ctx.message(rule, unit, "copy_figures", None, count=len(nonzero), previous_year=year - 1,
                            examples=examples, basis=basis_note(inputs, unit))
            )  # fmt: skip
    return messages


@rule_kind("anomaly")
def check_anomalies(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    factor, minimum = inputs.settings.anomaly_factor, inputs.settings.anomaly_minimum
    kinds = fmt.cell_kinds()
    messages: list[Message] = []
    for unit, pairs in _pairs(frame, fmt, inputs).items():
        for key, now, before in pairs:
            if kinds.get(key) not in ("count", "decimal") or max(now, before) < minimum:
                continue
            if before == 0:
                change = f"由 0 增至 {format_number(now)}"
            elif now == 0:
                change = f"由 {format_number(before)} 降至 0"
            elif now / before > factor:
                change = f"是上一年度的 {now / before:.1f} 倍"
            elif before / now > factor:
                change = f"只有上一年度的 1/{before / now:.1f}"
            else:
                continue
            for rule in rules:
                messages.append(
                    ctx.message(rule, unit, "anomaly", key, cell=ctx.cell_text(unit, *key),
                                previous=format_number(before), change=change, basis=basis_note(inputs, unit),
                                factor=format_number(factor), minimum=format_number(minimum))
                )  # fmt: skip
    return messages


@rule_kind("unhandled")
def check_unhandled(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    """Y2: the rule's rows `left` (received, carried over) of its table are not all 0 in
    column `over[0]` while row `right[0]` (handled) is 0."""
    messages = []
    for rule in rules:
        if rule.table not in fmt.tables:
            continue
        (received, carried_over), handled, column = rule.left, rule.right[0], rule.over[0]
        totals = frame[(frame["table"] == rule.table) & (frame["column"] == column)]
        for unit, cells in _by_unit(totals).items():
            v = {row: n for (_, row, _), n in cells.items()}  # this table and column only
            if v.get(received, 0.0) + v.get(carried_over, 0.0) > 0 and v.get(handled, 0.0) == 0:
                messages.append(
                    ctx.message(rule, unit, "unhandled", (rule.table, handled, column),
                                column=ctx.column_label(rule.table, column),
                                received=format_number(v.get(received, 0.0)),
                                carried_over=format_number(v.get(carried_over, 0.0)))
                )  # fmt: skip
    return messages


# Levels of government that cannot make 规章 (《立法法》: only provinces, cities divided into
# districts and State Council departments can): a level rule's rows must be 0 there.
NO_REGULATIONS_AT = ("县级",)


@rule_kind("level")
def check_level(frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs):
    level = inputs.settings.level
    if level not in NO_REGULATIONS_AT:
        return []
    nonzero = frame[frame["number"].fillna(0) != 0]
    return [
        ctx.message(rule, r.unit, "level", (rule.table, r.row, r.column),
                    cell=ctx.cell_text(r.unit, rule.table, r.row, r.column), level=level)
        for rule in rules
        for r in nonzero[(nonzero["table"] == rule.table) & nonzero["row"].isin(rule.left)].itertuples(index=False)
    ]  # fmt: skip
