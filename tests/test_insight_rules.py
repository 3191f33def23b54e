"""Issue 9's rules, each passing and failing, through check_cells: placeholders (N10),
identities left unchecked by an N5 cell, prose against tables (P1-P4), copy-paste
(P5, P6), anomalies (Y1, Y2) and the level of government (G1)."""

from __future__ import annotations

import pytest
from conftest import cells_frame, valid_cells

from pipeline.synth import UnitHistory
from schemas.national_2021 import FORMAT
from schemas.rules import Settings, check_cells
from schemas.rules.prose import quoted_figures

TEXT = ("narrative", "overview", "text")


def cells_with_text(text: str, **changes) -> dict:
    cells = valid_cells(2025, seed=3)
    cells[TEXT] = text
    cells.update(changes)
    return cells


def received(cells) -> int:
    return int(cells[("applications", "received", "total")])


def run(cells, **kwargs):
    return check_cells(cells_frame(cells), FORMAT, unit_names={"U1": "甲局"}, **kwargs).messages


def rules(cells, **kwargs) -> set[str]:
    return {m.rule for m in run(cells, **kwargs)}


# --- P1: figures quoted in the text ------------------------------------------------------


@pytest.mark.parametrize("written", ["{n}件", "{n:,} 件", "{full}件"])
def test_p1_quoted_figure_that_agrees_passes(written):
    cells = valid_cells(2025, seed=3)
    n = received(cells) + 1200  # large enough for a thousands separator
    cells[("applications", "received", "total")] = str(n)
    full = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    cells[TEXT] = "本年度共收到政府信息公开申请" + written.format(n=n, full=full) + "，均依法按时答复。"
    [quote] = quoted_figures(cells[TEXT], FORMAT)
    assert int(quote.number) == n
    assert "P1" not in rules(cells)


def test_p1_shouli_17_beside_a_table_of_95():
    cells = valid_cells(2025, seed=3)
    cells[("applications", "received", "total")] = "95"
    cells[TEXT] = "2025年，我局受理政府信息公开申请 17 件，上年结转３件。"
    [m] = [m for m in run(cells) if m.rule == "P1" and "为 95" in m.text]
    assert m.severity == "WARNING"
    assert "受理政府信息公开申请 17 件" in m.text and "为 95" in m.text and "本年新收" in m.text
    assert m.location.startswith("第 ") and m.location.endswith(" 行")  # the text's CSV line


def test_p1_other_figures_are_compared():
    cells = valid_cells(2025, seed=3)
    text = (
        "全年办结{h}件，结转下年度继续办理{f}件。因政府信息公开申请行政复议{r}件。"
        "本年制发行政规范性文件{i}件，现行有效规范性文件{k}件。"
    )
    v = {
        "h": cells.get(("applications", "handled_total", "total"), "0"),
        "f": cells.get(("applications", "carried_forward", "total"), "0"),
        "r": cells.get(("review_litigation", "review", "total"), "0"),
        "i": cells.get(("proactive", "normative_documents", "issued"), "0"),
        "k": cells.get(("proactive", "normative_documents", "in_force"), "0"),
    }
    cells[TEXT] = text.format(**v)
    assert "P1" not in rules(cells)
    cells[TEXT] = text.format(**{**v, "k": int(v["k"]) + 7})
    assert [m.rule for m in run(cells) if m.rule == "P1"] == ["P1"]


# --- P2-P4 ----------------------------------------------------------------------------------


def test_p2_section_six_must_mention_the_processing_fee():
    cells = valid_cells(2025, seed=3)
    assert "P2" not in rules(cells)
    cells[("narrative", "other_matters", "text")] = "本单位认真办理人大代表建议和政协提案。"
    [m] = [m for m in run(cells) if m.rule == "P2"]
    assert "信息处理费" in m.text and "行政事业性收费" in m.text


@pytest.mark.parametrize("text", ["无", "无。", "  ", "暂无"])
def test_p3_section_five_empty_or_none(text):
    cells = valid_cells(2025, seed=3)
    assert "P3" not in rules(cells)
    cells[("narrative", "problems", "text")] = text
    assert "P3" in rules(cells)


def test_p4_overview_length_limit_from_settings():
    cells = cells_with_text("我局坚持公开为常态。" * 30)  # 300 characters
    assert "P4" not in rules(cells)
    [m] = [m for m in run(cells, settings=Settings(overview_limit=200)) if m.rule == "P4"]
    assert "300 个字" in m.text and "200 字" in m.text


# --- P5, P6: copy-paste -----------------------------------------------------------------------


def previous_of(cells, year=2024):
    return check_cells(cells_frame(cells, year=year), FORMAT).cells


def test_p5_text_identical_to_last_year():
    history = UnitHistory()
    last = valid_cells(2024, seed=4, history=history)
    this = valid_cells(2025, seed=5, history=history)
    assert "P5" not in rules(this, previous=previous_of(last), previous_format=FORMAT)
    this[("narrative", "problems", "text")] = last[("narrative", "problems", "text")]
    this[TEXT] = last[TEXT].replace("2024", "2025")
    found = [m for m in run(this, previous=previous_of(last), previous_format=FORMAT) if m.rule == "P5"]
    assert len(found) == 2 and any("除年份外完全相同" in m.text for m in found)


def test_p6_every_figure_identical_to_last_year():
    history = UnitHistory()
    last = valid_cells(2024, seed=4, history=history)
    this = valid_cells(2025, seed=5, history=history)
    assert "P6" not in rules(this, previous=previous_of(last), previous_format=FORMAT)
    copied = dict(last)
    [m] = [m for m in run(copied, previous=previous_of(last), previous_format=FORMAT) if m.rule == "P6"]
    assert "2024 年" in m.text


# --- Y1, Y2 -----------------------------------------------------------------------------------


def test_y1_jump_beyond_the_factor_and_small_counts_ignored():
    history = UnitHistory()
    last = valid_cells(2024, seed=4, history=history)
    this = valid_cells(2025, seed=5, history=history)
    key = ("proactive", "penalty", "decisions")
    last[key], this[key] = "20", "90"  # 4.5 times: within 5
    assert "Y1" not in rules(this, previous=previous_of(last), previous_format=FORMAT)
    this[key] = "1260"
    [m] = [m for m in run(this, previous=previous_of(last), previous_format=FORMAT) if m.rule == "Y1"]
    assert "63.0 倍" in m.text and "行政处罚" in m.text
    last[key], this[key] = "3", "40"  # 13 times, but both below the minimum of 50
    assert "Y1" not in rules(this, previous=previous_of(last), previous_format=FORMAT)
    assert "Y1" in rules(this, previous=previous_of(last), previous_format=FORMAT,
                         settings=Settings(anomaly_minimum=10))  # fmt: skip


def test_y2_received_but_none_handled():
    cells = valid_cells(2025, seed=3)
    assert "Y2" not in rules(cells)
    broken = {k: v for k, v in cells.items() if k[0] != "applications"}
    broken[("applications", "received", "natural_person")] = "4"
    broken[("applications", "received", "total")] = "4"
    broken[("applications", "carried_forward", "natural_person")] = "4"
    broken[("applications", "carried_forward", "total")] = "4"
    assert rules(broken) == {"Y2"}


# --- G1 ---------------------------------------------------------------------------------------


def test_g1_county_level_has_no_regulations():
    cells = valid_cells(2025, seed=3)
    for column in ("issued", "repealed", "in_force"):
        cells[("proactive", "regulations", column)] = "0"
    county = Settings(level="县级")
    assert "G1" not in rules(cells, settings=county)
    cells[("proactive", "regulations", "in_force")] = "61"
    cells[("proactive", "regulations", "issued")] = "61"
    [m] = [m for m in run(cells, settings=county) if m.rule == "G1" and "规章·现行有效件数 61" in m.text]
    assert "61" in m.text and "县级" in m.text
    assert "G1" not in rules(cells, settings=Settings(level="设区的市"))


# --- N10 and identities with a refused cell ---------------------------------------------------


@pytest.mark.parametrize("mark", ["—", "－", "-", "/", "无"])
def test_n10_placeholder_is_read_as_zero_with_a_warning(mark):
    cells = valid_cells(2025, seed=3)
    blank = next(
        ("review_litigation", r, c) for r in ("review", "litigation_direct", "litigation_after_review")
        for c in ("upheld", "corrected", "other", "pending") if ("review_litigation", r, c) not in cells
    )  # fmt: skip
    cells[blank] = mark
    messages = run(cells)
    assert [m.rule for m in messages] == ["N10"]
    assert messages[0].severity == "WARNING" and f"“{mark}”" in messages[0].text


def test_n5_cell_makes_its_identities_unchecked_instead_of_a_derived_error():
    cells = valid_cells(2025, seed=3)
    key = ("applications", "disclosed", "natural_person")
    cells[key] = cells[key] + ".5"
    messages = run(cells)
    errors = [m for m in messages if m.severity == "ERROR"]
    assert [m.rule for m in errors] == ["N5"]
    unchecked = [m for m in messages if m.rule in ("N2", "N3")]
    assert {m.rule for m in unchecked} == {"N2", "N3"}
    assert all(m.severity == "WARNING" and "无法核对" in m.text for m in unchecked)


def test_n7_against_a_rejected_last_year_says_so():
    import pandas as pd

    history = UnitHistory()
    last = valid_cells(2024, seed=4, history=history)
    this = valid_cells(2025, seed=5, history=history)
    previous = previous_of(last)
    previous = previous[previous["ok"]][["unit", "table", "row", "column", "value", "number", "kind"]]
    previous = previous.assign(rejected_file="u-2024.csv")
    this[("applications", "carried_over", "natural_person")] = "999"
    messages = run(this, previous=pd.DataFrame(previous), previous_format=FORMAT,
                   settings=Settings(anomaly_minimum=1e12))  # fmt: skip
    n7 = [m for m in messages if m.rule == "N7"]
    assert n7 and all("u-2024.csv" in m.text and "被退回" in m.text for m in n7)
