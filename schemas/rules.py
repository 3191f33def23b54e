"""The rule engine: a format's rules (data, in schemas/<format>.py) checked with
pandera, each failure turned into a plain-language Chinese message.

Rules are checked on the cells of every unit of a year at once (vectorised):
- structure (N5 cell kinds, N6 known cells / no duplicates) on the tidy cell frame;
- identities (N1-N4 and the legacy catalogue's relations) on wide frames, one
  row per (unit, column) or (unit, row), as pandera dataframe checks;
- cross-year rules (N7, N8) against the previous year's accepted cells;
- blank tables (N9).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from pipeline.ingest.cells import canonical, parse_number
from schemas.base import NARRATIVE_TABLE, ReportFormat, Rule
from schemas.messages import Message


class CellFrame(pa.DataFrameModel):
    """The stored shape of a year's submitted cells (warehouse contract)."""

    unit: Series[str]
    year: Series[int]
    table: Series[str]
    row: Series[str]
    column: Series[str]
    raw: Series[str]
    file: Series[str]
    sheet: Series[str]
    location: Series[str]

    class Config:
        strict = "filter"
        coerce = True


@dataclass
class Checked:
    """Cells with parsed values, and every message the rules produced."""

    cells: pd.DataFrame  # CellFrame + kind, value (canonical text), number (float)
    messages: list[Message]


KIND_TEXT = {
    "count": "不小于 0 的整数",
    "signed": "整数（可为负数，表示减少）",
    "decimal": "不小于 0 的数（最多 4 位小数）",
    "share": "0 到 100 之间的百分数",
    "text": "文字",
}


def _kind_ok(kind: str, number: float, raw_number) -> bool:
    if raw_number is None:
        return False
    if kind == "count":
        return number >= 0 and raw_number == raw_number.to_integral_value()
    if kind == "signed":
        return raw_number == raw_number.to_integral_value()
    if kind == "decimal":
        return number >= 0 and -raw_number.as_tuple().exponent <= 4
    if kind == "share":
        return 0 <= number <= 100
    return True


def _judge(raw: str, kind: str) -> tuple[bool, float, str]:
    """(fits its kind, number, canonical value) of one raw text in a cell of `kind`."""
    if kind not in ("count", "signed", "decimal", "share"):
        return True, float("nan"), raw  # text, or an unknown cell (N6 reports it)
    number = parse_number(raw)
    if number is None:
        return False, float("nan"), raw
    integral = number == number.to_integral_value()
    value = str(int(number)) if kind in ("count", "signed") and integral else canonical(number)
    return _kind_ok(kind, float(number), number), float(number), value


def prepare(cells: pd.DataFrame, fmt: ReportFormat) -> pd.DataFrame:
    """Validate the frame's shape (pandera model) and add kind, ok, number and value."""
    frame = CellFrame.validate(cells).reset_index(drop=True)
    kinds = pd.DataFrame(
        [(t, r, c, k) for (t, r, c), k in fmt.cell_kinds().items()],
        columns=["table", "row", "column", "kind"],
    )
    frame = frame.merge(kinds, on=["table", "row", "column"], how="left", sort=False)
    frame["kind"] = frame["kind"].fillna("").astype("string")
    # Judge each distinct (raw, kind) once: the same few numbers recur everywhere.
    pairs = frame[["raw", "kind"]].drop_duplicates()
    judged = pd.DataFrame(
        [_judge(raw, kind) for raw, kind in zip(pairs["raw"], pairs["kind"])],
        columns=["ok", "number", "value"],
        index=pairs.index,
    )
    judged = pd.concat([pairs, judged], axis=1)
    frame = frame.merge(judged, on=["raw", "kind"], how="left", sort=False)
    frame["ok"] = frame["ok"].astype(bool)
    frame["number"] = frame["number"].astype(float)
    frame["value"] = frame["value"].astype("string")
    return frame


def _structure_schema(fmt: ReportFormat) -> pa.DataFrameSchema:
    kinds = fmt.cell_kinds()
    known = pd.MultiIndex.from_tuples(list(kinds), names=["table", "row", "column"])

    def is_known(df: pd.DataFrame) -> pd.Series:
        return pd.Series(pd.MultiIndex.from_frame(df[["table", "row", "column"]]).isin(known), index=df.index)

    def not_duplicated(df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["unit", "table", "row", "column"], keep="first")

    def kind_ok(df: pd.DataFrame) -> pd.Series:
        return df["ok"] | (df["kind"] == "")

    return pa.DataFrameSchema(
        checks=[
            pa.Check(is_known, name="N6", error="known_cell"),
            pa.Check(not_duplicated, name="N6", error="duplicate_cell"),
            pa.Check(kind_ok, name="N5", error="cell_kind"),
        ]
    )


def _failed_rows(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> dict[int, set[int]]:
    """check number -> positions of failing rows (pandera lazy validation)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures: dict[int, set[int]] = {}
        cases = exc.failure_cases.dropna(subset=["index"])
        for number, index in zip(cases["check_number"], cases["index"]):
            failures.setdefault(int(number), set()).add(int(index))
        return failures
    return {}


class RuleContext:
    """Labels and locations for messages about one format's cells."""

    def __init__(self, fmt: ReportFormat, cells: pd.DataFrame, unit_names: dict[str, str]):
        self.fmt = fmt
        self.unit_names = unit_names
        self._cells = cells
        self._rows_of_unit: dict | None = None
        self._entries: dict[str, dict[tuple[str, str, str], tuple[str, str, str, str]]] = {}
        first = cells.drop_duplicates("unit")
        self.files = dict(zip(first["unit"], first["file"]))

    def entry(self, unit: str, table: str, row: str, column: str) -> tuple[str, str, str, str] | None:
        """(file, sheet, location, value) of a cell. Indexed per unit on demand:
        messages concern few units, and a district has up to 200,000 cells."""
        if unit not in self._entries:
            if self._rows_of_unit is None:
                self._rows_of_unit = self._cells.groupby("unit", sort=False).indices
            part = self._cells.iloc[self._rows_of_unit.get(unit, [])]
            self._entries[unit] = {
                (t, r, c): (f, s, loc, v)
                for t, r, c, f, s, loc, v in zip(
                    part["table"],
                    part["row"],
                    part["column"],
                    part["file"],
                    part["sheet"],
                    part["location"],
                    part["value"],
                )
            }
        return self._entries[unit].get((table, row, column))

    @property
    def by_key(self) -> dict[tuple[str, str, str, str], tuple[str, str, str, str]]:
        """Every cell: (unit, table, row, column) -> (file, sheet, location, value)."""
        for unit in self.files:
            self.entry(unit, "", "", "")
        return {(u, *k): v for u, entries in self._entries.items() for k, v in entries.items()}

    def unit_label(self, unit: str) -> str:
        name = self.unit_names.get(unit)
        return f"{name}（{unit}）" if name else unit

    def row_label(self, table: str, row: str) -> str:
        try:
            return self.fmt.tables[table].row(row).label
        except KeyError:
            return row

    def column_label(self, table: str, column: str) -> str:
        try:
            return self.fmt.tables[table].column(column).label
        except KeyError:
            return column

    def cell_text(self, unit: str, table: str, row: str, column: str) -> str:
        """“本年新收 12（C8）”: label, value as entered (blank = 0), where it is."""
        entry = self.entry(unit, table, row, column)
        value = entry[3] if entry else "0"
        where = f"（{entry[2]}）" if entry and entry[2] else ""
        return f"{self.row_label(table, row)}·{self.column_label(table, column)} {value}{where}"

    def message(self, rule: Rule, unit: str, text: str, anchor: tuple[str, str, str] | None) -> Message:
        entry = self.entry(unit, *anchor) if anchor else None
        file, sheet, location = (
            (entry[0], entry[1], entry[2]) if entry else (self.files.get(unit, ""), "", "")
        )
        return Message(rule.severity, rule.id, self.unit_label(unit), file, sheet, location, text, unit)


def format_number(x: float) -> str:
    """12.0 -> "12"; 35.90 -> "35.9": a figure as a message prints it."""
    return str(int(x)) if float(x).is_integer() else f"{x:.4f}".rstrip("0").rstrip(".")


def check_structure(frame: pd.DataFrame, fmt: ReportFormat, ctx: RuleContext) -> list[Message]:
    failures = _failed_rows(_structure_schema(fmt), frame)
    rules = {r.id: r for r in fmt.rules}

    def at_cell(rule_id: str, r: pd.Series, text: str) -> Message:
        severity = rules[rule_id].severity if rule_id in rules else "ERROR"
        label = ctx.unit_label(r["unit"])
        return Message(severity, rule_id, label, r["file"], r["sheet"], r["location"], text, r["unit"])

    def cell_label(r: pd.Series) -> str:
        return f"{ctx.row_label(r['table'], r['row'])}·{ctx.column_label(r['table'], r['column'])}"

    first_seen = frame.drop_duplicates(["unit", "table", "row", "column"], keep="first").set_index(
        ["unit", "table", "row", "column"]
    )["location"]
    messages = []
    for pos in sorted(failures.get(0, ())):
        r = frame.loc[pos]
        what = f"表“{r['table']}”行“{r['row']}”列“{r['column']}”"
        messages.append(
            at_cell(
                "N6",
                r,
                f"{what}不是 {fmt.code} 格式定义的单元格。请核对代码拼写，或使用本年度的模板重新填写。",
            )
        )
    for pos in sorted(failures.get(1, ())):
        r = frame.loc[pos]
        first = first_seen.get((r["unit"], r["table"], r["row"], r["column"]), "")
        text = f"单元格“{cell_label(r)}”重复填报（第一次在{first}）。每个单元格只能填一次，请删除重复的一处。"
        messages.append(at_cell("N6", r, text))
    for pos in sorted(failures.get(2, ())):
        r = frame.loc[pos]
        text = f"“{cell_label(r)}”填的是“{r['raw']}”，这里应填{KIND_TEXT[r['kind']]}。请改正后重新报送。"
        messages.append(at_cell("N5", r, text))
    return messages


def _numbers(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    part = frame[(frame["table"] == table) & frame["ok"] & frame["number"].notna()]
    return part[["unit", "row", "column", "number"]]


def check_identities(frame: pd.DataFrame, fmt: ReportFormat, ctx: RuleContext) -> list[Message]:
    messages: list[Message] = []
    rules = [r for r in fmt.rules if r.kind == "identity"]
    units = frame["unit"].unique()
    for rule in rules:
        table = fmt.tables[rule.table]
        numbers = _numbers(frame, rule.table)
        # Terms run along `axis`; the rule is checked for each line across it.
        term_key, line_key = ("row", "column") if rule.axis == "rows" else ("column", "row")
        lines = rule.over or tuple(
            dict.fromkeys(c.code for b in table.blocks for c in b.columns)
            if rule.axis == "rows"
            else (r.code for r in table.rows)
        )
        wide = numbers.pivot_table(index=["unit", line_key], columns=term_key, values="number", aggfunc="sum")
        full = pd.MultiIndex.from_product([units, list(lines)], names=["unit", line_key])
        wide = wide.reindex(full).reindex(columns=list(dict.fromkeys(rule.left + rule.right))).fillna(0.0)
        # Units that reported nothing in this table are N9's business, not this rule's.
        reported = set(numbers["unit"])
        wide = wide[wide.index.get_level_values("unit").isin(reported)].reset_index()
        left, right = list(rule.left), list(rule.right)

        def holds(df: pd.DataFrame, left=left, right=right, rule=rule) -> pd.Series:
            lhs, rhs = df[left].sum(axis=1), df[right].sum(axis=1) + rule.constant
            if rule.op == "<=":
                return lhs <= rhs + rule.tolerance
            return (lhs - rhs).abs() <= rule.tolerance + 1e-9

        schema = pa.DataFrameSchema(checks=[pa.Check(holds, name=rule.id, error=rule.description)])
        for pos in sorted(_failed_rows(schema, wide).get(0, ())):
            line = wide.loc[pos]
            unit, at = line["unit"], line[line_key]
            messages.append(_identity_message(rule, ctx, unit, at, line, term_key))
    return messages


def _identity_message(
    rule: Rule, ctx: RuleContext, unit: str, at: str, line: pd.Series, term_key: str
) -> Message:
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
    relation = "应不大于" if rule.op == "<=" else "应等于"
    text = (
        f"“{line_label}”这一{'列' if term_key == 'row' else '行'}：{left_text}，合计 {format_number(left_total)}；"
        f"{relation} {right_text}，合计 {format_number(right_total)}。规则：{rule.description}。请核对这些单元格并改正。"
    )
    return ctx.message(rule, unit, text, key(rule.left[0]) if rule.left else None)


def check_ranges(frame: pd.DataFrame, fmt: ReportFormat, ctx: RuleContext) -> list[Message]:
    messages = []
    for rule in (r for r in fmt.rules if r.kind == "range"):
        numbers = _numbers(frame, rule.table)
        if rule.left:
            numbers = numbers[numbers["row"].isin(rule.left)]
        bad = numbers[
            (numbers["number"] < (rule.low if rule.low is not None else float("-inf")))
            | (numbers["number"] > (rule.high if rule.high is not None else float("inf")))
        ]
        for r in bad.itertuples():
            messages.append(
                ctx.message(
                    rule, r.unit,
                    f"{ctx.cell_text(r.unit, rule.table, r.row, r.column)} 超出范围。规则：{rule.description}。请核对后改正。",
                    (rule.table, r.row, r.column),
                )
            )  # fmt: skip
    return messages


def check_blank_tables(
    frame: pd.DataFrame, fmt: ReportFormat, ctx: RuleContext, units: list[str]
) -> list[Message]:
    rule = next((r for r in fmt.rules if r.kind == "blank_table"), None)
    if rule is None:
        return []
    present = set(zip(frame["unit"], frame["table"]))
    return [
        ctx.message(
            rule, unit,
            f"“{table.title}”整张表未填写，将按“无”（全部为 0）处理。如确有数据，请补填后重新报送。",
            None,
        )
        for unit in units
        for table in fmt.tables.values()
        if (unit, table.code) not in present
    ]  # fmt: skip


def check_previous_year(
    frame: pd.DataFrame,
    fmt: ReportFormat,
    ctx: RuleContext,
    previous: pd.DataFrame | None,
    previous_format: ReportFormat | None,
) -> list[Message]:
    """N7 (carry-over) and N8 (stock and flow) against last year's accepted cells."""
    if previous is None or previous.empty or previous_format is None:
        return []
    messages: list[Message] = []
    prev_units = set(previous["unit"])

    def last_year(table: str, row: str) -> pd.Series:
        part = previous[(previous["table"] == table) & (previous["row"] == row)]
        return part.groupby(["unit", "column"])["number"].sum()

    def this_year(table: str, row: str) -> pd.Series:
        part = _numbers(frame, table)
        return part[part["row"] == row].groupby(["unit", "column"])["number"].sum()

    units = [u for u in frame["unit"].unique() if u in prev_units]
    for rule in fmt.rules:
        if rule.kind == "carry_over":
            table = fmt.tables[rule.table]
            prev_table = previous_format.tables.get(rule.table)
            if prev_table is None or not any(r.code == rule.right[0] for r in prev_table.rows):
                continue  # last year's format has nothing carried forward (a legacy catalogue)
            now, before = this_year(rule.table, rule.left[0]), last_year(rule.table, rule.right[0])
            for unit in units:
                for column in dict.fromkeys(c.code for b in table.blocks for c in b.columns):
                    a, b = now.get((unit, column), 0.0), before.get((unit, column), 0.0)
                    if a != b:
                        text = (
                            f"{ctx.cell_text(unit, rule.table, rule.left[0], column)}，但上一年度报告的"
                            f"“{ctx.row_label(rule.table, rule.right[0])}”为 {format_number(b)}。"
                            f"规则：{rule.description}。请核对；如上年数据有误，请在说明中注明。"
                        )
                        messages.append(ctx.message(rule, unit, text, (rule.table, rule.left[0], column)))
        elif rule.kind == "stock_flow":
            prev_table = previous_format.tables.get(rule.table)
            if prev_table is None or not any(
                c.code == "in_force" for b in prev_table.blocks for c in b.columns
            ):
                continue  # the previous year's format has no stock to carry
            for row in rule.left:
                now = this_year(rule.table, row)
                before = last_year(rule.table, row)
                for unit in units:
                    expected = (
                        before.get((unit, "in_force"), 0.0)
                        + now.get((unit, "issued"), 0.0)
                        - now.get((unit, "repealed"), 0.0)
                    )
                    actual = now.get((unit, "in_force"), 0.0)
                    if actual != expected:
                        text = (
                            f"{ctx.cell_text(unit, rule.table, row, 'in_force')}；上年现行有效 "
                            f"{format_number(before.get((unit, 'in_force'), 0.0))} + 本年制发 "
                            f"{format_number(now.get((unit, 'issued'), 0.0))} − 本年废止 "
                            f"{format_number(now.get((unit, 'repealed'), 0.0))} = {format_number(expected)}。"
                            f"规则：{rule.description}。请核对。"
                        )
                        messages.append(ctx.message(rule, unit, text, (rule.table, row, "in_force")))
    return messages


def check_cells(
    cells: pd.DataFrame,
    fmt: ReportFormat,
    *,
    unit_names: dict[str, str] | None = None,
    previous: pd.DataFrame | None = None,
    previous_format: ReportFormat | None = None,
) -> Checked:
    """Every rule of `fmt` on a year's cells (any number of units)."""
    frame = prepare(cells, fmt)
    ctx = RuleContext(fmt, frame, unit_names or {})
    messages = check_structure(frame, fmt, ctx)
    valid = frame[frame["ok"] & (frame["kind"] != "")]
    valid = valid[~valid.duplicated(["unit", "table", "row", "column"], keep="first")]
    messages += check_identities(valid, fmt, ctx)
    messages += check_ranges(valid, fmt, ctx)
    messages += check_previous_year(valid, fmt, ctx, previous, previous_format)
    # A format may add checks of its own (the legacy era's share cross-checks).
    for extra_check in fmt.extra.get("checks", ()):
        messages += extra_check(valid, fmt, ctx)
    units = list(dict.fromkeys(frame["unit"]))
    messages += check_blank_tables(valid[valid["table"] != NARRATIVE_TABLE], fmt, ctx, units)
    return Checked(frame, messages)
