"""Synthetic submissions that satisfy every rule of their format.

Used to make the demo district, the benchmarks' inputs and property-based tests.
Deterministic for a given seed. Values carry over from year to year the way a
real unit's do (carried_over = last year's carried_forward; in_force stock and
flow), so cross-year rules hold too.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field

from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat

Cells = dict[tuple[str, str, str], str]


@dataclass
class UnitHistory:
    """What a unit carries from one year into the next."""

    carried_forward: dict[str, int] = field(default_factory=dict)
    in_force: dict[str, int] = field(default_factory=dict)


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


def applications(fmt: ReportFormat, rng: random.Random, history: UnitHistory, scale: int) -> Cells:
    table = fmt.tables["applications"]
    columns = [c.code for c in table.blocks[0].columns if c.code != "total"]
    result_rows = [
        r.code
        for r in table.rows
        if r.code not in ("received", "carried_over", "handled_total", "carried_forward")
    ]
    cells: Cells = {}
    sums: dict[str, int] = {}
    for column in columns:
        # Most requests come from natural persons, as in real reports.
        weight = 1.0 if column == "natural_person" else 0.15
        received = int(rng.randint(0, scale) * weight)
        carried_over = history.carried_forward.get(column, 0)
        carried_forward = rng.randint(0, (received + carried_over) // 5)
        handled = received + carried_over - carried_forward
        # Outcomes concentrate on a few rows.
        hot = rng.sample(result_rows, k=min(4, len(result_rows)))
        split = _split(handled, len(hot), rng)
        values = {"received": received, "carried_over": carried_over, "handled_total": handled,
                  "carried_forward": carried_forward, **dict(zip(hot, split))}  # fmt: skip
        for row, value in values.items():
            if value:
                cells[("applications", row, column)] = str(value)
                sums[row] = sums.get(row, 0) + value
        history.carried_forward[column] = carried_forward
    for row, value in sums.items():
        cells[("applications", row, "total")] = str(value)
    return cells


def review_litigation(fmt: ReportFormat, rng: random.Random) -> Cells:
    cells: Cells = {}
    for row in (r.code for r in fmt.tables["review_litigation"].rows):
        parts = {c: rng.choice([0, 0, 0, 1, 1, 2]) for c in ("upheld", "corrected", "other", "pending")}
        for column, value in parts.items():
            if value:
                cells[("review_litigation", row, column)] = str(value)
        if sum(parts.values()):
            cells[("review_litigation", row, "total")] = str(sum(parts.values()))
    return cells


def proactive(fmt: ReportFormat, rng: random.Random, history: UnitHistory) -> Cells:
    cells: Cells = {}
    table = fmt.tables["proactive"]
    for block in table.blocks:
        for row in block.rows:
            for column in block.row_columns(row):
                code = column.code
                if code in ("issued", "repealed", "in_force"):
                    continue
                if column.kind == "decimal":
                    value = f"{rng.randint(0, 50000) / 100:.2f}"
                elif column.kind == "signed":
                    value = str(rng.randint(-3, 5))
                else:
                    value = str(rng.randint(0, 40))
                cells[("proactive", row.code, code)] = value
            if any(c.code == "in_force" for c in block.columns):
                before = history.in_force.get(row.code, rng.randint(5, 60))
                issued, repealed = rng.randint(0, 6), rng.randint(0, 3)
                repealed = min(repealed, before + issued)
                now = before + issued - repealed
                history.in_force[row.code] = now
                cells.update({("proactive", row.code, "issued"): str(issued),
                              ("proactive", row.code, "repealed"): str(repealed),
                              ("proactive", row.code, "in_force"): str(now)})  # fmt: skip
    return cells


NARRATIVE = {
    "overview": "{year}年，{name}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，"
    "及时准确公开本单位政府信息。\n全年通过门户网站主动公开政府信息，依法办理政府信息公开申请。",
    "problems": "一是公开内容的及时性有待提高；二是政策解读形式较为单一。\n下一步将完善信息发布审核流程，丰富解读形式。",
    "other_matters": "本年度未收取政府信息公开信息处理费。",
}


def submission(
    fmt: ReportFormat, unit_name: str, year: int, rng: random.Random, history: UnitHistory, scale: int = 20
) -> Cells:
    """One unit's valid cells for `year` in `fmt` (a national-style format)."""
    cells: Cells = {}
    cells.update(proactive(fmt, rng, history))
    cells.update(applications(fmt, rng, history, scale))
    cells.update(review_litigation(fmt, rng))
    for row in fmt.narrative_rows:
        cells[(NARRATIVE_TABLE, row, NARRATIVE_COLUMN)] = NARRATIVE.get(row, "无。").format(
            year=year, name=unit_name
        )
    return cells


def to_csv(cells: Cells, *, unit: str | None = None, year: int | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["table", "row", "column", "value"] + (["unit", "year"] if unit else [])
    writer.writerow(header)
    for (table, row, column), value in cells.items():
        writer.writerow([table, row, column, value] + ([unit, year] if unit else []))
    return buffer.getvalue().encode("utf-8")
