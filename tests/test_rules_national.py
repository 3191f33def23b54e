"""Each rule of national-2021 (N1-N9), passing and failing, through check_cells."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import cells_frame, valid_cells

from pipeline.synth import UnitHistory
from schemas.national_2021 import FORMAT
from schemas.rules import Settings, check_cells

frame = cells_frame


def rules_of(cells: dict, **kwargs) -> list[str]:
    return sorted({m.rule for m in check_cells(frame(cells), FORMAT, **kwargs).messages})


def test_valid_submission_has_no_messages():
    assert rules_of(valid_cells(2025, seed=3)) == []


def set_cell(cells: dict, key: tuple, value: str) -> dict:
    changed = dict(cells)
    changed[key] = value
    return changed


def test_n1_received_plus_carried_over_equals_handled_plus_carried_forward():
    cells = valid_cells(2025, seed=4)
    # Raise received and the matching total: N3 still holds, N1 breaks.
    for column in ("natural_person", "total"):
        key = ("applications", "received", column)
        cells[key] = str(int(cells.get(key, "0")) + 5)
    messages = check_cells(frame(cells), FORMAT, unit_names={"U1": "甲局"}).messages
    assert [m.rule for m in messages] == ["N1", "N1"]
    first = messages[0]
    assert first.severity == "ERROR" and first.unit_label == "甲局（U1）" and first.file == "u.csv"
    assert first.location.startswith("第 ") and "本年新收" in first.text and "请核对" in first.text


def test_n2_handled_total_equals_sum_of_results():
    cells = valid_cells(2025, seed=5)
    for column in ("natural_person", "total"):
        key = ("applications", "disclosed", column)
        cells[key] = str(int(cells.get(key, "0")) + 1)
    assert rules_of(cells) == ["N2"]


def test_n3_total_column_equals_sum_of_applicants():
    cells = valid_cells(2025, seed=6)
    cells[("applications", "received", "total")] = str(int(cells[("applications", "received", "total")]) + 1)
    assert "N3" in rules_of(cells)
    messages = check_cells(frame(cells), FORMAT).messages
    n3 = [m for m in messages if m.rule == "N3"]
    assert len(n3) == 1 and "一、本年新收政府信息公开申请数量" in n3[0].text


def test_n4_review_total_equals_its_parts():
    cells = valid_cells(2025, seed=7)
    cells[("review_litigation", "review", "upheld")] = "3"
    cells[("review_litigation", "review", "total")] = "1"
    cells[("review_litigation", "review", "corrected")] = "0"
    cells[("review_litigation", "review", "other")] = "0"
    cells[("review_litigation", "review", "pending")] = "0"
    assert rules_of(cells) == ["N4"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (("proactive", "licensing", "decisions"), "-1"),
        (("proactive", "licensing", "decisions"), "1.5"),
        (("proactive", "licensing", "decisions"), "十二"),
        (("proactive", "fees", "amount"), "-0.5"),
        (("proactive", "fees", "amount"), "12.5万"),
    ],
)
def test_n5_cell_kinds(key, value):
    cells = set_cell(valid_cells(2025, seed=8), key, value)
    messages = [m for m in check_cells(frame(cells), FORMAT).messages if m.rule == "N5"]
    assert len(messages) == 1 and f"“{value}”" in messages[0].text


@pytest.mark.parametrize("value", ["0", "12", "1,591", "１５９１"])
def test_n5_accepts_counts(value):
    cells = set_cell(valid_cells(2025, seed=8), ("proactive", "licensing", "decisions"), value)
    assert rules_of(cells) == []


# Real reports write 万元 to the fen (six places): 24252.311082, 5949.088667, 4166.241619.
@pytest.mark.parametrize(
    "value", ["0", "12.5", "0.0001", "1,234.5", "24252.311082", "5949.088667", "4166.241619"]
)
def test_n5_accepts_fee_amounts(value):
    cells = set_cell(valid_cells(2025, seed=8), ("proactive", "fees", "amount"), value)
    assert rules_of(cells) == []


@pytest.mark.parametrize(
    ("value", "rounded"), [("24252.3110825", "24252.311083"), ("0.00000049", "0"), ("1.1234564", "1.123456")]
)
def test_n11_fee_beyond_the_fen_is_rounded_with_one_warning(value, rounded):
    cells = set_cell(valid_cells(2025, seed=8), ("proactive", "fees", "amount"), value)
    checked = check_cells(frame(cells), FORMAT)
    [message] = [m for m in checked.messages if m.rule in ("N5", "N11")]
    assert message.rule == "N11" and message.severity == "WARNING"
    assert (
        f"“{value}”" in message.text
        and f"四舍五入为 {rounded}" in message.text
        and "万元精确到分" in message.text
    )
    [stored] = checked.cells.loc[checked.cells["row"] == "fees", "value"]
    assert stored == rounded


def test_n11_silent_within_the_fen():
    cells = set_cell(valid_cells(2025, seed=8), ("proactive", "fees", "amount"), "24252.311082")
    assert "N11" not in rules_of(cells)


def test_n6_unknown_cell():
    cells = set_cell(valid_cells(2025, seed=9), ("applications", "received", "robots"), "1")
    messages = [m for m in check_cells(frame(cells), FORMAT).messages if m.rule == "N6"]
    assert len(messages) == 1 and "robots" in messages[0].text


def test_n6_same_cell_twice():
    cells = valid_cells(2025, seed=9)
    base = frame(cells)
    duplicate = base.iloc[[0]].assign(location="第 99 行")
    messages = check_cells(pd.concat([base, duplicate], ignore_index=True), FORMAT).messages
    assert [m.rule for m in messages] == ["N6"]
    assert messages[0].location == "第 99 行" and "第一次在第 2 行" in messages[0].text


def test_n7_carry_over_matches_last_year():
    history = UnitHistory()
    last = valid_cells(2024, seed=10, history=history)
    stock = dict(history.in_force)
    this = valid_cells(2025, seed=11, history=history)
    previous = check_cells(frame(last, year=2024), FORMAT).cells
    assert rules_of(this, previous=previous, previous_format=FORMAT) == []

    wrong_carry = UnitHistory(carried_forward={"natural_person": 99}, in_force=stock)
    broken = valid_cells(2025, seed=11, history=wrong_carry)
    # 99 carried over against last year's handful is also a jump the anomaly check (Y1)
    # reports; this test is about N7, so Y1's threshold is set out of reach.
    messages = check_cells(
        frame(broken),
        FORMAT,
        previous=previous,
        previous_format=FORMAT,
        settings=Settings(anomaly_minimum=1e12),
    ).messages
    assert {m.rule for m in messages} == {"N7"}
    assert all(m.severity == "WARNING" for m in messages)


def test_n7_not_checked_without_last_year_on_record():
    broken = valid_cells(2025, seed=11, history=UnitHistory(carried_forward={"natural_person": 99}))
    assert rules_of(broken) == []


def test_n8_in_force_stock_and_flow():
    history = UnitHistory()
    last = valid_cells(2024, seed=12, history=history)
    this = valid_cells(2025, seed=13, history=history)
    previous = check_cells(frame(last, year=2024), FORMAT).cells
    assert rules_of(this, previous=previous, previous_format=FORMAT) == []
    this[("proactive", "regulations", "in_force")] = str(
        int(this[("proactive", "regulations", "in_force")]) + 2
    )
    messages = check_cells(frame(this), FORMAT, previous=previous, previous_format=FORMAT).messages
    assert [(m.rule, m.severity) for m in messages] == [("N8", "WARNING")]
    assert "规章" in messages[0].text


def test_n9_blank_table_is_a_warning():
    cells = {k: v for k, v in valid_cells(2025, seed=14).items() if k[0] != "review_litigation"}
    messages = check_cells(frame(cells), FORMAT).messages
    assert [(m.rule, m.severity) for m in messages] == [("N9", "WARNING")]
    assert "四、政府信息公开行政复议、行政诉讼情况" in messages[0].text


def test_blank_cells_count_as_zero():
    cells = {
        ("applications", "received", "natural_person"): "2",
        ("applications", "received", "total"): "2",
        ("applications", "disclosed", "natural_person"): "2",
        ("applications", "disclosed", "total"): "2",
        ("applications", "handled_total", "natural_person"): "2",
        ("applications", "handled_total", "total"): "2",
        ("proactive", "licensing", "decisions"): "0",
        ("review_litigation", "review", "total"): "0",
    }
    assert rules_of(cells) == []
