"""The legacy era's rule kinds: indicator owners (L1, L4), shares (L2, L3) and
the relations a catalogue declares. Registered with the rule engine."""

from __future__ import annotations

import pandas as pd

from schemas.base import NARRATIVE_TABLE, Rule
from schemas.frames import zip_columns
from schemas.legacy.catalogue import VALUE_COLUMN, Catalogue, Indicator
from schemas.messages import Message
from schemas.numbers import format_number, format_share, share_value
from schemas.rules.context import RuleContext
from schemas.rules.registry import YearInputs, rule_kind

SHARE_TOLERANCE = 0.5  # points: a submitted share this far from the computed one is flagged
SUM_TOLERANCE = 1.0  # shares of one whole sum to 100 ± 1


def _catalogue(fmt) -> Catalogue:
    return fmt.catalogue


def _indicator_frame(cells: pd.DataFrame) -> pd.DataFrame:
    part = cells[(cells["table"] != NARRATIVE_TABLE) & cells["number"].notna()]
    return part.assign(ref=part["table"] + "." + part["row"])


def _figure(ctx: RuleContext, ind: Indicator, unit: str | None, value: float | None) -> str:
    """“受理群众来电 2275 人次（区长专线办公室，C8）”."""
    where = []
    if unit is not None:
        entry = ctx.entry(unit, ind.table, ind.code, VALUE_COLUMN)
        where = [ctx.unit_names.get(unit, unit)]
        if entry and entry[2]:
            where.append(f"{entry[1]} {entry[2]}".strip() if entry[1] else entry[2])
    shown = "未填" if value is None else format_number(value)
    measure = "%" if ind.kind == "share" else ind.unit
    return f"“{ind.label}”{shown}{measure if value is not None else ''}（{'，'.join(where)}）"


def _owners_text(ctx: RuleContext, owners: tuple[str, ...]) -> str:
    return "、".join(ctx.unit_label(o) for o in owners)


@rule_kind("owner")
def check_owners(cells, fmt, ctx: RuleContext, rules: list[Rule], inputs: YearInputs) -> list[Message]:
    """L1: only an indicator's (or a text's) owners submit it."""
    catalogue = _catalogue(fmt)
    indicators = catalogue.indicators()
    frame = _indicator_frame(cells)
    messages: list[Message] = []
    for rule in rules:
        for unit, table, row in zip_columns(frame, "unit", "table", "row"):
            ind = indicators.get(f"{table}.{row}")
            if ind is not None and unit not in ind.owners:
                messages.append(
                    ctx.message(rule, unit, "owner", (table, row, VALUE_COLUMN), table=fmt.tables[table].title,
                                indicator=ind.label, owners=_owners_text(ctx, ind.owners))
                )  # fmt: skip
        texts = cells[cells["table"] == NARRATIVE_TABLE]
        for unit, row in zip_columns(texts, "unit", "row"):
            item = catalogue.texts.get(row)
            if item is not None and unit not in item.owners:
                messages.append(
                    ctx.message(rule, unit, "owner_text", (NARRATIVE_TABLE, row, "text"), item=item.label,
                                owners=_owners_text(ctx, item.owners))
                )  # fmt: skip
    return messages


@rule_kind("owned_missing")
def check_owned_missing(cells, fmt, ctx: RuleContext, rules: list[Rule], inputs: YearInputs) -> list[Message]:
    """L4: owners submit every indicator they alone own."""
    indicators = _catalogue(fmt).indicators()
    # Every cell handed in counts as submitted, even one N5 rejects (that has its own message).
    submitted = {(u, f"{t}.{r}") for u, t, r, _ in ctx.by_key}
    messages: list[Message] = []
    for rule in rules:
        for unit in dict.fromkeys(cells["unit"]):
            missing = [
                i for i in indicators.values() if i.owners == (unit,) and (unit, i.ref) not in submitted
            ]
            if missing:
                listed = "、".join(f"“{fmt.tables[i.table].title}·{i.label}”" for i in missing)
                messages.append(
                    ctx.message(rule, unit, "owned_missing", None, count=len(missing), listed=listed)
                )
    return messages


def _totals(frame: pd.DataFrame) -> dict[str, float]:
    return frame.groupby("ref")["number"].sum().to_dict()


def _owner_of(ind: Indicator, frame: pd.DataFrame) -> str | None:
    """The unit a district figure comes from, when exactly one unit submitted it."""
    units = frame.loc[frame["ref"] == ind.ref, "unit"].unique()
    return units[0] if len(units) == 1 else None


@rule_kind("share_cross_check")
def check_share_values(cells, fmt, ctx: RuleContext, rules: list[Rule], inputs: YearInputs) -> list[Message]:
    """L2: a submitted share agrees with the share of its counts."""
    indicators = _catalogue(fmt).indicators()
    frame = _indicator_frame(cells)
    totals = _totals(frame)
    messages: list[Message] = []
    for rule in rules:
        for unit, ref, number in zip_columns(frame, "unit", "ref", "number"):
            ind = indicators.get(ref)
            if ind is None or not ind.part or ind.whole not in totals or ind.part not in totals:
                continue
            part, whole = totals[ind.part], totals[ind.whole]
            if whole <= 0:
                continue
            exact = float(share_value(part, whole))
            if abs(number - exact) >= SHARE_TOLERANCE - 1e-9:
                p, w = indicators[ind.part], indicators[ind.whole]
                messages.append(
                    ctx.message(
                        rule, unit, "share_cross_check", (ind.table, ind.code, VALUE_COLUMN),
                        submitted=_figure(ctx, ind, unit, number),
                        part=_figure(ctx, p, _owner_of(p, frame), part),
                        whole=_figure(ctx, w, _owner_of(w, frame), whole),
                        exact=f"{exact:.2f}", printed=format_share(part, whole), gap=f"{abs(number - exact):.2f}",
                    )
                )  # fmt: skip
    return messages


@rule_kind("share_sum")
def check_share_sums(cells, fmt, ctx: RuleContext, rules: list[Rule], inputs: YearInputs) -> list[Message]:
    """L3: shares of one whole sum to 100 ± 1."""
    indicators = _catalogue(fmt).indicators()
    frame = _indicator_frame(cells)
    groups: dict[tuple[str, str, str], list[Indicator]] = {}
    for ind in indicators.values():
        if ind.shares_of:
            groups.setdefault((ind.owners[0], ind.table, ind.shares_of), []).append(ind)
    values = {(u, r): n for u, r, n in zip_columns(frame, "unit", "ref", "number")}
    messages: list[Message] = []
    for rule in rules:
        for (unit, table, whole), members in groups.items():
            got = [(m, values.get((unit, m.ref))) for m in members]
            if all(v is None for _, v in got):
                continue
            total = sum(v or 0.0 for _, v in got)
            if abs(total - 100) > SUM_TOLERANCE + 1e-9:
                listed = " + ".join(_figure(ctx, m, unit, v) for m, v in got)
                messages.append(
                    ctx.message(rule, unit, "share_sum", (table, members[0].code, VALUE_COLUMN), whole=whole,
                                listed=listed, total=format_number(total))
                )  # fmt: skip
    return messages


@rule_kind("relation")
def check_relations(cells, fmt, ctx: RuleContext, rules: list[Rule], inputs: YearInputs) -> list[Message]:
    """The catalogue's relations: per owner unit, or on the district's totals."""
    catalogue = _catalogue(fmt)
    indicators = catalogue.indicators()
    frame = _indicator_frame(cells)
    reporting = set(cells["unit"])
    messages: list[Message] = []
    for relation in catalogue.relations:
        owner_sets = {indicators[r].owners for r in relation.refs}
        if len(owner_sets) == 1:
            scopes = [(u, frame[frame["unit"] == u]) for u in next(iter(owner_sets)) if u in reporting]
        else:
            owners = {o for r in relation.refs for o in indicators[r].owners}
            if not owners <= reporting:
                continue  # someone has not handed in: nothing sound to compare
            first = next(o for o in indicators[relation.refs[0]].owners if o in reporting)
            scopes = [(first, frame)]
        for unit, part in scopes:
            totals = _totals(part)
            if not any(r in totals for r in relation.refs):
                continue
            messages += _relation_messages(relation, unit, totals, part, indicators, ctx)
    return messages


def _relation_messages(relation, unit, totals, part, indicators, ctx: RuleContext) -> list[Message]:
    sums = [
        sum(f * totals.get(ref, 0.0) for f, ref in side) + constant
        for side, constant in zip(relation.sides, relation.constants)
    ]
    tol = relation.rule.tolerance + 1e-9
    holds = all(
        abs(a - b) <= tol if op == "==" else (a <= b + tol if op == "<=" else a + tol >= b)
        for a, b, op in zip(sums, sums[1:], relation.ops)
    )
    if holds:
        return []

    def side_text(side, constant, total) -> str:
        shown = [
            (f"{format_number(f)} × " if f != 1 else "")
            + _figure(ctx, indicators[ref], _owner_of(indicators[ref], part), totals.get(ref))
            for f, ref in side
        ]
        if constant:
            shown.append(format_number(constant))
        return " + ".join(shown) + (f"，合计 {format_number(total)}" if len(shown) > 1 else "")

    words = {"==": "应等于", "<=": "应不大于", ">=": "应不小于"}
    pieces = [side_text(relation.sides[0], relation.constants[0], sums[0])]
    for op, side, constant, total in zip(relation.ops, relation.sides[1:], relation.constants[1:], sums[1:]):
        pieces.append(f"{words[op]} {side_text(side, constant, total)}")
    first = indicators[relation.refs[0]]
    return [
        ctx.message(
            relation.rule, unit, "relation", (first.table, first.code, VALUE_COLUMN), chain="；".join(pieces)
        )
    ]
