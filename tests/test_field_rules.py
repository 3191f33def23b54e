"""Field truth (issue 16): what real published reports write passes or fails for real reasons.

- fees in 万元 written to the fen are accepted and printed as written; beyond the fen, one N11;
- with last year's submission rejected, N7, Y1, the year-over-year table and the review page
  all compare with the same figures (the last file's) and say so; an unreadable figure is
  never read as 0;
- prose: a breakdown sentence is compared with its own rows, a claim of none with the tables,
  section 六's fee statements in their real variants; P2 only from the 2021 reports on.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import build, cells_frame, hand_in, valid_cells, write_home

from pipeline.synth import UnitHistory, to_csv
from pipeline.warehouse import Warehouse
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.rules import check_cells
from schemas.trial_2019 import FORMAT as TRIAL

FEE = ("proactive", "fees", "amount")
SIX = ("narrative", "other_matters", "text")
OVERVIEW = ("narrative", "overview", "text")


def messages_of(home, year):
    return Warehouse.of(home, year).read_messages("messages")


# --- numbers as bodies write them -------------------------------------------------------------


def test_fee_to_the_fen_is_accepted_summed_exactly_and_printed_as_written(tmp_path):
    home = write_home(tmp_path / "home", [("A", "甲局"), ("B", "乙局")])
    a, b = valid_cells(2021, seed=1), valid_cells(2021, seed=2)
    a[FEE], b[FEE] = "24252.311082", "0.1"
    hand_in(home, 2021, "A", "a.csv", to_csv(a))
    hand_in(home, 2021, "B", "b.csv", to_csv(b))
    build(home, 2021)
    status = pd.read_csv(home.reports_dir(2021) / "status.csv", dtype=str)
    assert set(status["status"]) == {"accepted"}
    assert not [m for m in messages_of(home, 2021) if m.rule in ("N5", "N11")]
    assert "24252.311082" in (home.reports_dir(2021) / "units" / "A.md").read_text(encoding="utf-8")
    # 24252.311082 + 0.1 exactly: no float drift (24252.411081999998) and no rounding to 4 places
    assert "24252.411082" in (home.reports_dir(2021) / "report.md").read_text(encoding="utf-8")


def test_fee_beyond_the_fen_is_accepted_with_one_warning(tmp_path):
    home = write_home(tmp_path / "home", [("A", "甲局")])
    a = valid_cells(2021, seed=1)
    a[FEE] = "4166.2416194"
    hand_in(home, 2021, "A", "a.csv", to_csv(a))
    build(home, 2021)
    [warning] = [m for m in messages_of(home, 2021) if m.rule in ("N5", "N11")]
    assert warning.rule == "N11" and "4166.241619" in warning.text
    assert "4166.241619" in (home.reports_dir(2021) / "report.md").read_text(encoding="utf-8")


# --- one answer for last year -----------------------------------------------------------------


def _two_years(tmp_path, last_fee: str):
    """A's 2021 file breaks N1 (rejected) with fee `last_fee`; its 2022 file is valid, fee 100."""
    history = UnitHistory()
    home = write_home(tmp_path / "home", [("A", "甲局"), ("B", "乙局")])
    last = valid_cells(2021, seed=4, history=history)
    last[FEE] = last_fee
    last[("applications", "received", "natural_person")] = str(
        int(last.get(("applications", "received", "natural_person"), "0")) + 1
    )
    hand_in(home, 2021, "A", "a2021.csv", to_csv(last))
    hand_in(home, 2021, "B", "b.csv", to_csv(valid_cells(2021, seed=2)))
    build(home, 2021)
    this = valid_cells(2022, seed=5, history=history)
    this[FEE] = "100"
    hand_in(home, 2022, "A", "a2022.csv", to_csv(this))
    hand_in(home, 2022, "B", "b.csv", to_csv(valid_cells(2022, seed=3)))
    build(home, 2022)
    status = pd.read_csv(home.reports_dir(2021) / "status.csv", dtype=str).set_index("unit")["status"]
    assert status["A"] == "rejected"
    return home


def test_rejected_last_year_is_the_same_last_year_everywhere(tmp_path):
    home = _two_years(tmp_path, "24252.311082")
    messages = messages_of(home, 2022)
    [y1] = [m for m in messages if m.rule == "Y1" and m.unit == "A" and "行政事业性收费" in m.text]
    assert "上一年度为 24252.311082" in y1.text and "a2021.csv" in y1.text and "由 0" not in y1.text
    for m in messages:
        if m.rule == "N7" and m.unit == "A":
            assert "a2021.csv" in m.text
    yoy = Warehouse.of(home, 2022).read("yoy")
    fee = yoy[(yoy["scope"] == "A") & (yoy["row"] == "fees")].iloc[0]
    assert (fee["previous"], fee["previous_file"]) == ("24252.311082", "a2021.csv")
    assert fee["difference"] == "-24152.311082"
    district = yoy[(yoy["scope"] == "district") & (yoy["row"] == "fees")].iloc[0]
    assert district["previous_file"] == ""  # the district's last year is what was published
    review = (home.reports_dir(2022) / "review.html").read_text(encoding="utf-8")
    assert "上年报送被退回，上年数字取自其最后报送的文件“a2021.csv”" in review


def test_an_unreadable_figure_last_year_is_unknown_not_zero(tmp_path):
    home = _two_years(tmp_path, "两万")  # N5 in the rejected 2021 file
    messages = messages_of(home, 2022)
    assert not [m for m in messages if m.rule == "Y1" and m.unit == "A" and "行政事业性收费" in m.text]
    assert not [m for m in messages if "由 0 增至" in m.text and "行政事业性收费" in m.text]
    yoy = Warehouse.of(home, 2022).read("yoy")
    fee = yoy[(yoy["scope"] == "A") & (yoy["row"] == "fees")].iloc[0]
    assert fee["previous"] == "" and fee["difference"] == ""


# --- prose read as written ----------------------------------------------------------------------


BREAKDOWN = (
    "所有办结的信息公开申请中同意公开答复{d}件，部分公开答复{p}件，不予公开答复{w}件，"
    "…转下一年度办理答复的有{f}件。"
)


def _table(cells, *rows):
    return sum(int(cells.get(("applications", r, "total"), "0")) for r in rows)


def _breakdown(cells, **changes):
    withheld = [r.code for r in NATIONAL.tables["applications"].rows if r.code.startswith("withheld_")]
    figures = {
        "d": _table(cells, "disclosed"),
        "p": _table(cells, "partially_disclosed"),
        "w": _table(cells, *withheld),
        "f": _table(cells, "carried_forward"),
    }
    return BREAKDOWN.format(**{**figures, **changes})


def p1(cells, fmt=NATIONAL, year=2022):
    return [m for m in check_cells(cells_frame(cells, year=year), fmt).messages if m.rule == "P1"]


def test_breakdown_sentences_are_compared_with_their_own_rows():
    cells = valid_cells(2022, seed=3)
    assert _table(cells, "handled_total") not in (_table(cells, "disclosed"), 0)
    cells[OVERVIEW] = _breakdown(cells)
    assert p1(cells) == []
    cells[OVERVIEW] = _breakdown(cells, d=_table(cells, "disclosed") + 1)
    [m] = p1(cells)
    assert "予以公开" in m.text and f"为 {_table(cells, 'disclosed')}" in m.text


def test_claim_of_no_applications_beside_handled_applications():
    cells = valid_cells(2022, seed=3)
    cells[OVERVIEW] = "2022年未收到依申请公开事宜。"
    cells[("applications", "received", "total")] = "0"
    handled = _table(cells, "handled_total")
    assert handled > 0
    [m] = p1(cells)
    assert "未收到依申请公开事宜" in m.text and "（七）总计" in m.text and f"为 {handled}" in m.text


def test_claim_of_no_applications_that_is_true_passes():
    cells = {k: v for k, v in valid_cells(2022, seed=3).items() if k[0] != "applications"}
    cells[OVERVIEW] = "2022年未收到依申请公开事宜。"
    assert p1(cells) == []


@pytest.mark.parametrize("text", ["未发生收费情况。", "本年度未收取信息处理费。", "不收取费用。"])
def test_real_fee_statements_satisfy_p2(text):
    cells = valid_cells(2022, seed=3)
    cells[SIX] = text
    assert "P2" not in {m.rule for m in check_cells(cells_frame(cells, year=2022), NATIONAL).messages}


def test_no_p2_before_the_fee_existed():
    cells = valid_cells(2020, seed=3)
    cells[SIX] = "本单位认真办理人大代表建议和政协提案。"
    assert "P2" not in {m.rule for m in check_cells(cells_frame(cells, year=2020), TRIAL).messages}
    national = valid_cells(2022, seed=3)
    national[SIX] = cells[SIX]
    assert "P2" in {m.rule for m in check_cells(cells_frame(national, year=2022), NATIONAL).messages}


def test_p5_ignores_the_fee_statement_and_signature_dates():
    history = UnitHistory()
    last = valid_cells(2023, seed=4, history=history)
    this = valid_cells(2024, seed=5, history=history)
    fee = "按照《政府信息公开信息处理费管理办法》规定，我局本年度没有产生信息公开处理费。 平潭综合实验区某局 {}年1月31日"
    last[SIX], this[SIX] = fee.format(2024), fee.format(2025)
    previous = check_cells(cells_frame(last, year=2023), NATIONAL).cells
    found = check_cells(cells_frame(this, year=2024), NATIONAL, previous=previous, previous_format=NATIONAL)
    assert "P5" not in {m.rule for m in found.messages}
    # A real paragraph copied beside the same statement is still copying.
    paragraph = (
        "本单位政务公开工作仍存在公开内容不够全面、解读形式较为单一等问题，下一步将加强培训和督促检查。"
    )
    last[SIX], this[SIX] = paragraph + fee.format(2024), paragraph + fee.format(2025)
    previous = check_cells(cells_frame(last, year=2023), NATIONAL).cells
    found = check_cells(cells_frame(this, year=2024), NATIONAL, previous=previous, previous_format=NATIONAL)
    [p5] = [m for m in found.messages if m.rule == "P5"]
    assert "六、其他需要报告的事项" in p5.text
