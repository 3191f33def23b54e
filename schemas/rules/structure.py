"""N5 and N6: every cell is one the format defines, appears once, and holds what
its column's kind allows. Checked with pandera on the tidy cell frame."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from schemas.base import ReportFormat, Rule
from schemas.messages import Message
from schemas.numbers import parse_number
from schemas.rules.context import KIND_TEXT, RuleContext, failed_rows
from schemas.rules.registry import YearInputs, rule_kind


def _known_schema(fmt: ReportFormat) -> pa.DataFrameSchema:
    known = pd.MultiIndex.from_tuples(list(fmt.cell_kinds()), names=["table", "row", "column"])

    def is_known(df: pd.DataFrame) -> pd.Series:
        return pd.Series(pd.MultiIndex.from_frame(df[["table", "row", "column"]]).isin(known), index=df.index)

    def not_duplicated(df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["unit", "table", "row", "column"], keep="first")

    return pa.DataFrameSchema(
        checks=[pa.Check(is_known, name="known_cell"), pa.Check(not_duplicated, name="duplicate_cell")]
    )


@rule_kind("known_cell")
def check_known(
    frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs
) -> list[Message]:
    cells = inputs.all_cells
    failures = failed_rows(_known_schema(fmt), cells)
    first_seen = cells.drop_duplicates(["unit", "table", "row", "column"], keep="first").set_index(
        ["unit", "table", "row", "column"]
    )["location"]
    messages = []
    for rule in rules:
        for pos in sorted(failures.get("known_cell", ())):
            r = cells.loc[pos]
            messages.append(
                ctx.at(rule, r["unit"], "known_cell", r["file"], r["sheet"], r["location"],
                       table=r["table"], row=r["row"], column=r["column"], format=fmt.code)
            )  # fmt: skip
        for pos in sorted(failures.get("duplicate_cell", ())):
            r = cells.loc[pos]
            first = first_seen.get((r["unit"], r["table"], r["row"], r["column"]), "")
            messages.append(
                ctx.at(rule, r["unit"], "duplicate_cell", r["file"], r["sheet"], r["location"],
                       cell=ctx.cell_label(r["table"], r["row"], r["column"]), first=first)
            )  # fmt: skip
    return messages


@rule_kind("cell_kind")
def check_kinds(
    frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs
) -> list[Message]:
    cells = inputs.all_cells
    schema = pa.DataFrameSchema(checks=[pa.Check(lambda df: df["ok"] | (df["kind"] == ""), name="cell_kind")])
    failures = failed_rows(schema, cells)
    messages = []
    for rule in rules:
        for pos in sorted(failures.get("cell_kind", ())):
            r = cells.loc[pos]
            messages.append(
                ctx.at(rule, r["unit"], "cell_kind", r["file"], r["sheet"], r["location"],
                       cell=ctx.cell_label(r["table"], r["row"], r["column"]), raw=r["raw"],
                       expected=KIND_TEXT[r["kind"]])
            )  # fmt: skip
    return messages


@rule_kind("precision")
def check_precision(
    frame, fmt: ReportFormat, ctx: RuleContext, rules: list[Rule], inputs: YearInputs
) -> list[Message]:
    cells = inputs.all_cells
    if "rounded" not in cells.columns:
        return []
    found = cells[cells["rounded"]]
    messages = []
    for rule in rules:
        for r in found.itertuples(index=False):
            column = fmt.column_of(r.table, r.row, r.column)
            written = -parse_number(r.raw).as_tuple().exponent
            messages.append(
                ctx.at(rule, r.unit, "precision", r.file, r.sheet, r.location,
                       cell=ctx.cell_label(r.table, r.row, r.column), raw=r.raw.strip(), written=written,
                       places=r.places, precision=column.precision or "本栏的精度", value=r.value)
            )  # fmt: skip
    return messages
