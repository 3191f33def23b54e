"""The cell frame the rules run on, and where each cell came from (for messages)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ReportFormat, Rule
from schemas.catalogue import problem
from schemas.frames import zip_columns
from schemas.messages import Message, unit_label
from schemas.numbers import canonical, parse_number


class CellFrame(pa.DataFrameModel):
    """A year's submitted cells as the rules read them (warehouse table `cells`)."""

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


KIND_TEXT = {
    "count": "不小于 0 的整数",
    "signed": "整数（可为负数，表示减少）",
    "decimal": "不小于 0 的数",
    "share": "0 到 100 之间的百分数",
    "text": "文字",
}


def _kind_ok(kind: str, number: Decimal) -> bool:
    if kind == "count":
        return number >= 0 and number == number.to_integral_value()
    if kind == "signed":
        return number == number.to_integral_value()
    if kind == "decimal":
        return number >= 0
    if kind == "share":
        return 0 <= number <= 100
    return True


# What clerks type for "none" in a figure cell. Read as 0 with a WARNING (N10), not
# refused with N5: the meaning is not in doubt, and rejecting a unit for it helps nobody.
PLACEHOLDERS = frozenset({"—", "——", "－", "-", "−", "–", "/", "／", "无"})


def _judge(raw: str, kind: str, places: int) -> tuple[bool, float, str, bool, bool]:
    """(fits its kind, number, canonical value, placeholder, rounded) of one raw text in a
    cell of `kind`. A decimal written to more than its column's `places` is rounded half up
    to them (N11 says so): real bodies write 万元 to the fen and beyond; that is no reason
    to reject a report."""
    if kind not in ("count", "signed", "decimal", "share"):
        return True, float("nan"), raw, False, False  # text, or an unknown cell (N6 reports it)
    if raw.strip() in PLACEHOLDERS:
        return True, 0.0, "0", True, False
    number = parse_number(raw)
    if number is None:
        return False, float("nan"), raw, False, False
    rounded = False
    if kind == "decimal" and -number.as_tuple().exponent > places:
        # Rounded to its places, written without trailing zeros (1.0000004 -> 1).
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP).normalize()
        if number == number.to_integral_value():
            number = number.quantize(Decimal(1))  # 1E+2 -> 100
        rounded = True
    integral = number == number.to_integral_value()
    value = str(int(number)) if kind in ("count", "signed") and integral else canonical(number)
    return _kind_ok(kind, number), float(number), value, False, rounded


def prepare(cells: pd.DataFrame, fmt: ReportFormat) -> pd.DataFrame:
    """Validate the frame's shape (pandera model) and add kind, ok, number, value and rounded."""
    frame = CellFrame.validate(cells).reset_index(drop=True)
    places = fmt.cell_places()
    kinds = pd.DataFrame(
        [(t, r, c, k, places.get((t, r, c), 0)) for (t, r, c), k in fmt.cell_kinds().items()],
        columns=["table", "row", "column", "kind", "places"],
    )
    frame = frame.merge(kinds, on=["table", "row", "column"], how="left", sort=False)
    frame["kind"] = frame["kind"].fillna("").astype("string")
    frame["places"] = frame["places"].fillna(0).astype(int)
    # Judge each distinct (raw, kind, places) once: the same few numbers recur everywhere.
    keys = ["raw", "kind", "places"]
    triples = frame[keys].drop_duplicates()
    judged = pd.DataFrame(
        [_judge(raw, kind, n) for raw, kind, n in zip_columns(triples, "raw", "kind", "places")],
        columns=["ok", "number", "value", "placeholder", "rounded"],
        index=triples.index,
    )
    judged = pd.concat([triples, judged], axis=1)
    frame = frame.merge(judged, on=keys, how="left", sort=False)
    frame["ok"] = frame["ok"].astype(bool)
    frame["placeholder"] = frame["placeholder"].astype(bool)
    frame["rounded"] = frame["rounded"].astype(bool)
    frame["number"] = frame["number"].astype(float)
    frame["value"] = frame["value"].astype("string")
    return frame


def failed_rows(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> dict[str, set[int]]:
    """check name -> positions of failing rows (pandera lazy validation)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures: dict[str, set[int]] = {}
        cases = exc.failure_cases.dropna(subset=["index"])
        for name, index in zip_columns(cases, "check", "index"):
            failures.setdefault(str(name), set()).add(int(index))
        return failures
    return {}


def numbers_of(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    part = frame[(frame["table"] == table) & frame["ok"] & frame["number"].notna()]
    return part[["unit", "row", "column", "number"]]


class RuleContext:
    """Labels and locations for messages about one format's cells."""

    def __init__(self, fmt: ReportFormat, cells: pd.DataFrame, unit_names: dict[str, str]):
        self.fmt = fmt
        self.unit_names = unit_names
        self._cells = cells
        self._rows_of_unit: dict | None = None
        self._entries: dict[str, dict[tuple[str, str, str], tuple[str, str, str, str]]] = {}
        first = cells.drop_duplicates("unit")
        self.files = dict(zip_columns(first, "unit", "file"))

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
        return unit_label(unit, self.unit_names.get(unit))

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

    def cell_label(self, table: str, row: str, column: str) -> str:
        return f"{self.row_label(table, row)}·{self.column_label(table, column)}"

    def cell_text(self, unit: str, table: str, row: str, column: str) -> str:
        """“本年新收 12（C8）”: label, value as entered (blank = 0), where it is."""
        entry = self.entry(unit, table, row, column)
        value = entry[3] if entry else "0"
        where = f"（{entry[2]}）" if entry and entry[2] else ""
        return f"{self.cell_label(table, row, column)} {value}{where}"

    def message(
        self, rule: Rule, unit: str, key: str, anchor: tuple[str, str, str] | None, **facts
    ) -> Message:
        """The catalogue's message `key` for `rule`, placed at the anchor cell
        (table, row, column) or, without one, at the unit's file."""
        entry = self.entry(unit, *anchor) if anchor else None
        file, sheet, location = (
            (entry[0], entry[1], entry[2]) if entry else (self.files.get(unit, ""), "", "")
        )
        return self.at(rule, unit, key, file, sheet, location, **facts)

    def at(self, rule: Rule, unit: str, key: str, file: str, sheet: str, location: str, **facts) -> Message:
        return problem(
            key,
            rule=rule.id,
            severity=rule.severity,
            unit=unit,
            unit_label=self.unit_label(unit),
            file=file,
            sheet=sheet,
            location=location,
            description=rule.description,
            **facts,
        )
