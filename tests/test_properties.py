"""Property-based tests (hypothesis): a random valid submission passes every
rule; break exactly one rule and exactly that rule is reported, pointing at
the broken cell where the rule is about one cell.

Submissions come from pipeline/synth.py (any seed, scale and year 2020-2025,
so both national-2021 and trial-2019, and the cross-format year 2021), with
last year's accepted figures on record, so the cross-year rules N7/N8 are live.
They go through the same function as `nianbao check`, as an interchange CSV.
"""

from __future__ import annotations

import csv
import io
import random

import pandas as pd
import pytest
from conftest import write_home
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.home import write_parquet
from pipeline.steps.check import check_file
from pipeline.synth import UnitHistory, submission
from schemas import format_for_year

UNIT = "U"
Line = tuple[tuple[str, str, str], str]

APPLICATION_FIXED = ("received", "carried_over", "handled_total", "carried_forward")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = write_home(tmp_path_factory.mktemp("prop") / "home", [(UNIT, "测试单位")], first_year=2018)
    # The breakers add up to 50 applications to units of any size: a real jump, which
    # the anomaly check (Y1, tests/test_insight_rules.py) would rightly report too.
    # These properties are about N1-N9, so the office's Y1 threshold is set out of reach.
    with open(home.root / "home.toml", "a", encoding="utf-8") as f:
        f.write("\n[checks]\nanomaly_minimum = 1e12\n")
    return home


@st.composite
def valid_submissions(draw):
    year = draw(st.integers(2020, 2025))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.integers(1, 300))
    rng, history = random.Random(seed), UnitHistory()
    previous = submission(format_for_year(year - 1), "测试单位", year - 1, rng, history, scale)
    fmt = format_for_year(year)
    cells = submission(fmt, "测试单位", year, rng, history, scale)
    # synth leaves zero cells blank; a table with nothing at all would be "not
    # reported" (N9). A unit with nothing to report writes one explicit 0.
    for table in fmt.tables.values():
        if not any(key[0] == table.code for key in cells):
            cells[(table.code, table.rows[0].code, "total")] = "0"
    return year, previous, list(cells.items())


def csv_of(lines: list[Line]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value"])
    for (table, row, column), value in lines:
        writer.writerow([table, row, column, value])
    return buffer.getvalue().encode("utf-8")


def line_starts(lines: list[Line]) -> list[int]:
    """The physical line each CSV record starts on (narrative text spans lines)."""
    starts, line = [], 2
    for _, v in lines:
        starts.append(line)
        line += 1 + v.count("\n")
    return starts


def put_previous(home, year: int, previous: dict) -> None:
    kinds = format_for_year(year - 1).cell_kinds()
    rows = [
        (UNIT, t, r, c, v, float(v) if kinds[(t, r, c)] != "text" else float("nan"), kinds[(t, r, c)])
        for (t, r, c), v in previous.items()
    ]
    frame = pd.DataFrame(rows, columns=["unit", "table", "row", "column", "value", "number", "kind"])
    write_parquet(frame, home.warehouse_dir(year - 1) / "accepted.parquet")


def check(home, tmp_path, year: int, lines: list[Line]):
    path = tmp_path / "u.csv"
    path.write_bytes(csv_of(lines))
    return check_file(path.read_bytes(), path.name, UNIT, year, home).messages


def value(lines: list[Line], key) -> int:
    return next((int(v) for k, v in lines if k == key), 0)


def set_value(lines: list[Line], key, new: int) -> list[Line]:
    """Change a cell (adding it when blank)."""
    if any(k == key for k, _ in lines):
        return [(k, str(new) if k == key else v) for k, v in lines]
    return [*lines, (key, str(new))]


def add(lines: list[Line], key, delta: int) -> list[Line]:
    return set_value(lines, key, value(lines, key) + delta)


def part_columns(fmt) -> list[str]:
    return [c.code for c in fmt.tables["applications"].blocks[0].columns if c.code != "total"]


def result_rows(fmt) -> list[str]:
    return [r.code for r in fmt.tables["applications"].rows if r.code not in APPLICATION_FIXED]


# --- one breaker per rule: (lines, fmt, data) -> (lines, rule, the cell it concerns or None) ---


def break_n1(lines, fmt, data):
    column = data.draw(st.sampled_from(part_columns(fmt)))
    k = data.draw(st.integers(1, 50))
    for col in (column, "total"):  # the row identity N3 keeps holding
        lines = add(lines, ("applications", "carried_forward", col), k)
    return lines, "N1", None


def break_n2(lines, fmt, data):
    column = data.draw(st.sampled_from(part_columns(fmt)))
    row = data.draw(st.sampled_from(result_rows(fmt)))
    k = data.draw(st.integers(1, 50))
    for col in (column, "total"):
        lines = add(lines, ("applications", row, col), k)
    return lines, "N2", None


def break_n3(lines, fmt, data):
    # Move k between the totals of two result rows: column sums (N1, N2) still hold.
    rows = result_rows(fmt)
    givers = [r for r in rows if value(lines, ("applications", r, "total")) > 0]
    assume(givers)
    giver = data.draw(st.sampled_from(givers))
    taker = data.draw(st.sampled_from([r for r in rows if r != giver]))
    k = data.draw(st.integers(1, value(lines, ("applications", giver, "total"))))
    lines = add(lines, ("applications", giver, "total"), -k)
    return add(lines, ("applications", taker, "total"), k), "N3", None


def break_n4(lines, fmt, data):
    row = data.draw(st.sampled_from([r.code for r in fmt.tables["review_litigation"].rows]))
    key = ("review_litigation", row, "total")
    k = data.draw(st.integers(1, 9))
    assume(value(lines, key) > 0 or any(k_[0] == "review_litigation" for k_, _ in lines))
    return add(lines, key, k), "N4", key


def break_n5(lines, fmt, data):
    kinds = fmt.cell_kinds()
    # Cells outside every identity (a bad value is dropped, which must not look like another rule).
    candidates = [
        k for k, _ in lines if k[0] == "proactive" and k[2] not in ("issued", "repealed", "in_force")
    ]
    key = data.draw(st.sampled_from(candidates))
    bad = {
        "count": ["-1", "2.5", "约十件", "12件", "1e3"],
        "signed": ["2.5", "约十件", "+-3"],
        "decimal": ["-0.5", "一百", "1.2.3", "12.5万"],  # more places than the fen is N11, not N5
    }[kinds[key]]
    replacement = data.draw(st.sampled_from(bad))
    return [(k, replacement if k == key else v) for k, v in lines], "N5", key


def break_n6(lines, fmt, data):
    choice = data.draw(st.sampled_from(["unknown table", "unknown row", "unknown column", "duplicate"]))
    if choice == "duplicate":
        key, v = data.draw(st.sampled_from([(k, v) for k, v in lines if k[0] != "narrative"]))
        return [*lines, (key, v)], "N6", key
    key = {
        "unknown table": ("statistics", "received", "total"),
        "unknown row": ("applications", "recieved", "total"),
        "unknown column": ("review_litigation", "review", "sum"),
    }[choice]
    return [*lines, (key, "1")], "N6", key


def break_n7(lines, fmt, data):
    # carried_over no longer equals last year's carried_forward; N1-N3 still hold.
    column = data.draw(st.sampled_from(part_columns(fmt)))
    row = data.draw(st.sampled_from(result_rows(fmt)))
    k = data.draw(st.integers(1, 50))
    for col in (column, "total"):
        for r in ("carried_over", "handled_total", row):
            lines = add(lines, ("applications", r, col), k)
    return lines, "N7", ("applications", "carried_over", column)


def break_n8(lines, fmt, data):
    assume(any(r.kind == "stock_flow" for r in fmt.rules))
    row = data.draw(st.sampled_from(["regulations", "normative_documents"]))
    key = ("proactive", row, "in_force")
    return add(lines, key, data.draw(st.integers(1, 20))), "N8", key


def break_n9(lines, fmt, data):
    table = data.draw(st.sampled_from(["review_litigation", "proactive"]))
    if table == "proactive":
        assume(not any(r.kind == "stock_flow" for r in fmt.rules))  # blank in_force would also break N8
    return [(k, v) for k, v in lines if k[0] != table], "N9", None


BREAKERS = {
    f.__name__[-2:].upper(): f
    for f in (break_n1, break_n2, break_n3, break_n4, break_n5, break_n6, break_n7, break_n8, break_n9)
}
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(valid_submissions())
def test_a_valid_submission_passes_every_rule(home, tmp_path, sub):
    year, previous, lines = sub
    put_previous(home, year, previous)
    assert [m.render() for m in check(home, tmp_path, year, lines)] == []


@pytest.mark.parametrize("rule", sorted(BREAKERS))
@SETTINGS
@given(sub=valid_submissions(), data=st.data())
def test_breaking_one_rule_reports_exactly_that_rule(home, tmp_path, rule, sub, data):
    year, previous, lines = sub
    fmt = format_for_year(year)
    put_previous(home, year, previous)
    if rule == "N8":
        assume(year - 1 >= 2021)  # last year's form must have an in_force stock
    broken, expected, key = BREAKERS[rule](lines, fmt, data)
    messages = check(home, tmp_path, year, broken)
    assert {m.rule for m in messages} == {expected}, [m.render() for m in messages]
    if key is not None and expected in ("N5", "N6", "N8", "N7"):
        # The message points at the line of the broken cell (the last one for a duplicate).
        lines_of_key = [start for start, (k, _) in zip(line_starts(broken), broken) if k == key]
        assert any(m.location == f"第 {lines_of_key[-1 if expected == 'N6' else 0]} 行" for m in messages), [
            m.render() for m in messages
        ]
