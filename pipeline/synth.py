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
    # A unit's mix of outcomes and its fee level stay much the same from year to year
    # (real units' do), so synthetic data does not trip the anomaly check (Y1).
    outcomes: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    fees: dict[str, float] = field(default_factory=dict)


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
        # Most requests come from natural persons, as in real reports; volumes vary by
        # at most a few tens of percent from one year to the next.
        weight = 1.0 if column == "natural_person" else 0.15
        received = int(scale * weight * rng.uniform(0.6, 1.0))
        carried_over = history.carried_forward.get(column, 0)
        carried_forward = int((received + carried_over) * rng.uniform(0.08, 0.16))
        handled = received + carried_over - carried_forward
        # Across a format change some result rows no longer exist: keep the rest of the mix.
        kept = [(r, w) for r, w in history.outcomes.get(column, []) if r in result_rows]
        if kept:
            history.outcomes[column] = kept
        else:
            # 予以公开 is the commonest outcome in real reports; three others vary by unit.
            others = [r for r in result_rows if r != "disclosed"]
            hot = ["disclosed", *rng.sample(others, k=min(3, len(others)))]
            history.outcomes[column] = [(row, rng.randint(1, 10)) for row in hot]
        mix = history.outcomes[column]
        total_weight = sum(w for _, w in mix)
        split = [handled * w // total_weight for _, w in mix]
        split[0] += handled - sum(split)
        values = {"received": received, "carried_over": carried_over, "handled_total": handled,
                  "carried_forward": carried_forward, **{row: v for (row, _), v in zip(mix, split)}}  # fmt: skip
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
                    level = history.fees.setdefault(row.code, rng.randint(0, 50000) / 100)
                    value = f"{level * rng.uniform(0.8, 1.25):.2f}"
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


# Text sections vary from year to year as real ones do (the same text two years
# running is P5's copy-paste).
OVERVIEW_OPENINGS = (
    "{year}年，{name}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，及时准确公开本单位政府信息。",
    "{year}年，{name}按照区委、区政府工作部署，持续深化政务公开，围绕重点领域做好信息发布和政策解读。",
    "{year}年，{name}以提升政务公开质量为重点，健全信息发布审核机制，规范依申请公开办理流程。",
)
PROBLEMS = (
    "一是公开内容的及时性有待提高；二是政策解读形式较为单一。\n下一步将完善信息发布审核流程，丰富解读形式。",
    "一是部分栏目更新不够及时；二是依申请公开答复文书的规范性有待加强。\n下一步将建立栏目更新提醒机制，开展答复文书评查。",
    "一是政策解读的针对性不强；二是工作人员业务能力有待提升。\n下一步将开展政务公开业务培训，推行“图解+视频”等多种解读方式。",
)
OTHER_MATTERS = (
    "本年度未收取政府信息公开信息处理费。",
    "本年度未收取信息处理费。本单位按要求办理人大代表建议和政协提案，并公开办理结果。",
)


def narrative(unit_name: str, year: int) -> dict[str, str]:
    # No figures in the text: tests change figures in the tables, and a text quoting
    # them would then (rightly) disagree (P1). The demo adds quoting texts of its own.
    return {
        "overview": OVERVIEW_OPENINGS[year % 3].format(year=year, name=unit_name)
        + "\n全年通过门户网站主动公开政府信息，依法办理政府信息公开申请。",
        "problems": PROBLEMS[year % 3],
        "other_matters": OTHER_MATTERS[year % 2],
    }


def submission(
    fmt: ReportFormat,
    unit_name: str,
    year: int,
    rng: random.Random,
    history: UnitHistory,
    scale: int = 20,
    *,
    regulations: bool = True,
) -> Cells:
    """One unit's valid cells for `year` in `fmt` (a national-style format).

    `regulations=False`: a county-level unit, which makes no 规章 (its 规章 row is 0, G1)."""
    cells: Cells = {}
    cells.update(proactive(fmt, rng, history))
    if not regulations:
        for key in [k for k in cells if k[1] == "regulations"]:
            cells[key] = "0"
        history.in_force["regulations"] = 0
    cells.update(applications(fmt, rng, history, scale))
    cells.update(review_litigation(fmt, rng))
    texts = narrative(unit_name, year)
    for row in fmt.narrative_rows:
        cells[(NARRATIVE_TABLE, row, NARRATIVE_COLUMN)] = texts.get(row, "无。")
    return cells


def to_csv(cells: Cells, *, unit: str | None = None, year: int | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["table", "row", "column", "value"] + (["unit", "year"] if unit else [])
    writer.writerow(header)
    for (table, row, column), value in cells.items():
        writer.writerow([table, row, column, value] + ([unit, year] if unit else []))
    return buffer.getvalue().encode("utf-8")
