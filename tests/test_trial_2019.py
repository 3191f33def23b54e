"""Format trial-2019 (国办公开办函〔2019〕60号, reports on 2019 and 2020):
its dictionary, each rule passing and failing, N7 across the 2020 → 2021 format
change, and 2019-2021 built end to end through Dagster."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from conftest import build, cells_frame

from pipeline.home import Home, read_parquet
from pipeline.synth import UnitHistory, submission, to_csv
from schemas import format_code_for_year, format_for_year
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.national_2021 import INSIGHT_RULES
from schemas.rules import check_cells, prepare
from schemas.trial_2019 import FORMAT as TRIAL


def frame(cells: dict, unit: str = "U1", year: int = 2020) -> pd.DataFrame:
    return cells_frame(cells, unit, year)


def valid(year: int = 2020, seed: int = 3, history: UnitHistory | None = None) -> dict:
    return submission(format_for_year(year), "测试单位", year, random.Random(seed), history or UnitHistory())


def rules_hit(cells: dict, fmt=TRIAL, **kwargs) -> list[str]:
    return sorted({m.rule for m in check_cells(frame(cells), fmt, **kwargs).messages})


# --- the year decides the format -----------------------------------------------------


@pytest.mark.parametrize(
    ("year", "code"),
    [(2008, "legacy"), (2018, "legacy"), (2019, "trial-2019"), (2020, "trial-2019"), (2021, "national-2021")],
)
def test_format_by_year(year, code):
    assert format_code_for_year(year) == code


def test_before_2008_there_is_no_format():
    with pytest.raises(ValueError, match="2008"):
        format_code_for_year(2007)


def test_trial_dictionary_differs_from_national_as_the_spec_says():
    proactive = TRIAL.tables["proactive"]
    assert [c.label for c in proactive.blocks[0].columns] == [
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
    ]
    assert proactive.column("change").kind == "signed"
    assert proactive.column("amount").kind == "decimal"
    assert [r.code for r in proactive.rows] == [
        "regulations", "normative_documents", "licensing", "other_services", "penalty", "coercion", "fees",
        "procurement",
    ]  # fmt: skip
    rows = [r.code for r in TRIAL.tables["applications"].rows]
    assert "other" in rows and not {"other_no_supplement", "other_fee_unpaid", "other_misc"} & set(rows)
    assert TRIAL.tables["review_litigation"] == NATIONAL.tables["review_litigation"]
    assert [s.heading for s in TRIAL.sections] == [s.heading for s in NATIONAL.sections]
    # Issue 9's checks (N10, P1, P3-P6, Y1, Y2, G1) apply to both national-style formats; P2 (the
    # 信息处理费 statement) only from the 2021 reports on, when the fee began.
    insight = {r.id for r in INSIGHT_RULES}
    assert {r.id for r in TRIAL.rules} - insight == {"N1", "N2", "N3", "N4", "N5", "N6", "N7", "N9", "N11"}
    assert "P2" not in {r.id for r in TRIAL.rules} and "P2" in {r.id for r in NATIONAL.rules}


# --- rules, passing and failing ------------------------------------------------------------


def test_valid_trial_submission_passes_every_rule():
    assert check_cells(frame(valid()), TRIAL).messages == []


def test_n1_fails_when_received_plus_carried_over_differs_from_handled_plus_forward():
    cells = valid()
    cells[("applications", "received", "natural_person")] = str(
        int(cells.get(("applications", "received", "natural_person"), "0")) + 1
    )
    cells[("applications", "received", "total")] = str(
        int(cells.get(("applications", "received", "total"), "0")) + 1
    )
    assert rules_hit(cells) == ["N1"]


def test_n2_counts_the_single_other_row():
    cells = valid()
    # Move one handled application into 其他处理 (the trial format's single row): still balanced.
    key = next(
        k for k in cells if k[0] == "applications" and k[1] == "disclosed" and k[2] == "natural_person"
    )
    moved = dict(cells)
    moved[key] = str(int(cells[key]) - 1)
    moved[("applications", "disclosed", "total")] = str(
        int(cells[("applications", "disclosed", "total")]) - 1
    )
    moved[("applications", "other", "natural_person")] = "1"
    moved[("applications", "other", "total")] = "1"
    assert rules_hit(moved) == []
    broken = dict(moved)
    broken[("applications", "other", "natural_person")] = "2"
    broken[("applications", "other", "total")] = "2"
    assert rules_hit(broken) == ["N2"]


def test_n3_total_column_is_the_sum_of_applicants():
    cells = valid()
    cells[("applications", "received", "total")] = str(int(cells[("applications", "received", "total")]) + 5)
    assert "N3" in rules_hit(cells)


def test_n4_review_total():
    cells = valid()
    cells[("review_litigation", "review", "upheld")] = "3"
    cells[("review_litigation", "review", "total")] = "9"
    for column in ("corrected", "other", "pending"):
        cells.pop(("review_litigation", "review", column), None)
    assert rules_hit(cells) == ["N4"]


def test_n5_change_is_signed_but_counts_are_not():
    cells = valid()
    cells[("proactive", "licensing", "change")] = "-3"
    assert rules_hit(cells) == []
    cells[("proactive", "licensing", "items_last_year")] = "-3"
    assert rules_hit(cells) == ["N5"]


def test_n5_procurement_amount_is_a_decimal():
    cells = valid()
    cells[("proactive", "procurement", "amount")] = "1234.5678"
    assert rules_hit(cells) == []
    cells[("proactive", "procurement", "amount")] = "12.345678"  # 万元 to the fen: six places
    assert rules_hit(cells) == []
    cells[("proactive", "procurement", "amount")] = "12.3456785"  # beyond the fen: rounded, said so
    assert rules_hit(cells) == ["N11"]
    cells[("proactive", "procurement", "amount")] = "-12.5"
    assert rules_hit(cells) == ["N5"]


@pytest.mark.parametrize(
    "key",
    [("applications", "other_misc", "natural_person"), ("proactive", "regulations", "in_force")],
    ids=["national-only-result-row", "national-only-column"],
)
def test_n6_cells_of_the_national_format_are_unknown_in_trial(key):
    cells = valid()
    cells[key] = "0"
    assert rules_hit(cells) == ["N6"]


def test_n8_does_not_apply_to_trial():
    prev = prepare(frame(valid(2019, seed=1), year=2019), TRIAL)
    cells = valid(2020, seed=2)
    assert "N8" not in rules_hit(cells, previous=prev, previous_format=TRIAL)


def test_n9_blank_table_is_a_warning():
    cells = {k: v for k, v in valid().items() if k[0] != "review_litigation"}
    messages = check_cells(frame(cells), TRIAL).messages
    assert [(m.rule, m.severity) for m in messages] == [("N9", "WARNING")]


# --- N7 across formats --------------------------------------------------------------


def _shift_to_carried_over(cells: dict, n: int = 1) -> None:
    """Claim `n` more applications carried over from last year (and n fewer received):
    the year balances (N1-N3 hold) but no longer matches last year's report."""
    for column in ("natural_person", "total"):
        carried, received = ("applications", "carried_over", column), ("applications", "received", column)
        cells[carried] = str(int(cells.get(carried, "0")) + n)
        cells[received] = str(int(cells[received]) - n)


def _two_years(tamper: bool = False) -> tuple[pd.DataFrame, dict]:
    history = UnitHistory()
    y2020 = valid(2020, seed=8, history=history)  # seed 8: one application carried into 2021
    y2021 = valid(2021, seed=9, history=history)
    assert (
        y2020[("applications", "carried_forward", "total")]
        == y2021[("applications", "carried_over", "total")]
    )
    if tamper:
        _shift_to_carried_over(y2021)
    return prepare(frame(y2020, year=2020), TRIAL), y2021


def test_n7_holds_across_2020_trial_to_2021_national():
    previous, y2021 = _two_years()
    messages = check_cells(
        frame(y2021, year=2021), NATIONAL, previous=previous, previous_format=TRIAL
    ).messages
    assert [m for m in messages if m.rule == "N7"] == []


def test_n7_fails_across_2020_trial_to_2021_national():
    previous, y2021 = _two_years(tamper=True)
    messages = check_cells(
        frame(y2021, year=2021), NATIONAL, previous=previous, previous_format=TRIAL
    ).messages
    n7 = [m for m in messages if m.rule == "N7"]
    assert n7 and all(m.severity == "WARNING" for m in n7)
    assert "上一年度报告" in n7[0].text
    assert [m.rule for m in messages] == ["N7", "N7"]  # natural_person and total: nothing else


# --- end to end -----------------------------------------------------------------------


def _home(root: Path) -> Home:
    (root / "registry").mkdir(parents=True)
    (root / "home.toml").write_text(
        'district = "试行区"\ngovernment = "试行区人民政府办公室"\n\n[publication.2020]\nnumber = "试政办〔2021〕3号"\n'
        'date = "2021-03-20"\n',
        encoding="utf-8",
    )
    (root / "registry" / "units.csv").write_text(
        "code,name,kind,first_year,last_year\nA,甲局,部门,2019,\nB,乙局,部门,2019,\n", encoding="utf-8"
    )
    return Home.resolve(root)


_build = build


def test_trial_years_then_national_built_end_to_end(tmp_path):
    home = _home(tmp_path / "home")
    histories = {"A": UnitHistory(), "B": UnitHistory()}
    for year in (2019, 2020, 2021):
        for n, unit in enumerate(("A", "B")):
            cells = submission(
                format_for_year(year), unit, year, random.Random(year * 10 + n), histories[unit]
            )
            if year == 2021 and unit == "B":  # B's 2021 carried-over figures do not match its 2020 report
                _shift_to_carried_over(cells)
            path = home.inbox_dir(year) / unit / f"{unit}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(to_csv(cells))
        _build(home, year)
        status = read_parquet(home.warehouse_dir(year) / "status.parquet")
        assert set(status["status"]) == {"accepted"}

    md2020 = (home.reports_dir(2020) / "report.md").read_text(encoding="utf-8")
    assert "国办公开办函〔2019〕60号（试行）" in (home.reports_dir(2020) / "report.html").read_text(
        encoding="utf-8"
    )
    assert "本年新制作数量" in md2020 and "其他对外管理服务事项" in md2020 and "政府集中采购" in md2020
    assert "（六）其他处理" in md2020 and "3.其他" not in md2020
    assert "| 文号 | 试政办〔2021〕3号 | 发文日期 | 2021-03-20 |" in md2020
    assert (home.reports_dir(2020) / "units" / "A.md").is_file()
    assert "本年制发件数" in (home.reports_dir(2021) / "report.md").read_text(encoding="utf-8")

    messages = read_parquet(home.warehouse_dir(2021) / "messages.parquet")
    n7 = messages[messages["rule"] == "N7"]
    assert set(n7["unit"]) == {"B"}  # A carried over what its 2020 (trial) report carried forward
    assert "N8" not in set(messages["rule"])  # 2020 had no stock to carry into 2021
