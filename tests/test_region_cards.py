"""The leaders' indicator cards (issue 18, item 4): definitions in the format data, the
office's red/yellow lines from home.toml, the sample-size guard, and the HTML fragment."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pandas as pd
import pytest

from pipeline.render.cards import cards_html
from pipeline.steps.indicators import DEFAULT_THRESHOLDS, Thresholds, cards, indicator_thresholds
from schemas.errors import HomeError
from schemas.legacy.format import LegacyFormat
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.trial_2019 import FORMAT as TRIAL


def frame(cells: dict[tuple[str, str, str], object], member: str = "xiqu") -> pd.DataFrame:
    rows = [(t, r, c, str(v)) for (t, r, c), v in cells.items()]
    return pd.DataFrame(rows, columns=["table", "row", "column", "value"]).assign(member=member)


def applications(disclosed, partial, handled, carried_forward=0):
    return {
        ("applications", "disclosed", "total"): disclosed,
        ("applications", "partially_disclosed", "total"): partial,
        ("applications", "handled_total", "total"): handled,
        ("applications", "carried_forward", "total"): carried_forward,
        # A column other than 总计 must not count.
        ("applications", "disclosed", "natural_person"): disclosed,
    }


def review(row, upheld, corrected, other, pending):
    total = upheld + corrected + other + pending
    cells = {"upheld": upheld, "corrected": corrected, "other": other, "pending": pending, "total": total}
    return {("review_litigation", row, c): v for c, v in cells.items()}


def by_code(found):
    return {c.code: c for c in found}


@pytest.mark.parametrize("fmt", [NATIONAL, TRIAL], ids=["national-2021", "trial-2019"])
def test_indicators_are_format_data_over_cells_the_format_defines(fmt):
    kinds = fmt.cell_kinds()
    codes = [i.code for i in fmt.indicators]
    assert codes == ["disclosure_rate", "review_correction_rate", "litigation_correction_rate"]
    for indicator in fmt.indicators:
        assert indicator.cells() and all(cell in kinds for cell in indicator.cells()), indicator.code
        assert indicator.minimum == 30 and indicator.code in DEFAULT_THRESHOLDS
    assert not any("按期" in i.label for i in fmt.indicators)  # neither form has the cells


def test_known_answers_each_indicator():
    cells = applications(disclosed=20, partial=5, handled=40, carried_forward=7)
    cells |= review("review", upheld=25, corrected=6, other=9, pending=8)  # 6 / (48 - 8) = 15%
    cells |= review("litigation_direct", upheld=10, corrected=3, other=2, pending=4)
    cells |= review("litigation_after_review", upheld=14, corrected=1, other=0, pending=1)
    found = by_code(cards(NATIONAL, frame(cells), DEFAULT_THRESHOLDS))
    rate = found["disclosure_rate"]
    # (20 + 5) / 40: 办结 is （七）总计, the carried-forward 7 is not taken off again.
    assert rate.value == Decimal("62.5") and rate.numerator == 25 and rate.denominator == 40
    assert rate.level == "green" and rate.counts == "25 / 40 件"
    assert found["review_correction_rate"].value == Decimal("15.0")
    assert found["review_correction_rate"].level == "yellow"
    # Both kinds of suit: (3 + 1) / ((19 - 4) + (16 - 1)) = 4 / 30 = 13.3%.
    litigation = found["litigation_correction_rate"]
    assert (litigation.numerator, litigation.denominator, litigation.value) == (4, 30, Decimal("13.3"))
    assert litigation.level == "yellow" and "黄色关注线 10%" in litigation.reason


def test_trial_2019_figures_give_the_same_cards():
    cells = applications(disclosed=20, partial=5, handled=40) | review("review", 25, 6, 9, 8)
    found = by_code(cards(TRIAL, frame(cells), DEFAULT_THRESHOLDS))
    assert found["disclosure_rate"].value == Decimal("62.5")
    assert found["review_correction_rate"].value == Decimal("15.0")


def test_value_is_exact_decimal_rounded_half_up_to_one_place():
    # 2 / 32 = 6.25% exactly: half up gives 6.3 (a float would give 6.2).
    cells = review("review", upheld=30, corrected=2, other=0, pending=5)
    card = by_code(cards(NATIONAL, frame(cells), DEFAULT_THRESHOLDS))["review_correction_rate"]
    assert card.value == Decimal("6.3") and str(card.value) == "6.3" and card.level == "green"
    assert card.shown == "6.3%"


def test_sample_guard_under_thirty_cases_gives_no_card():
    # 29 decided cases (35 - 6 pending): under the minimum although 100% are corrected.
    cells = review("review", upheld=0, corrected=29, other=0, pending=6)
    cells |= applications(disclosed=30, partial=0, handled=30)  # exactly 30: a card
    found = by_code(cards(NATIONAL, frame(cells), DEFAULT_THRESHOLDS))
    guarded = found["review_correction_rate"]
    assert guarded.level == "none" and guarded.value is None and guarded.shown == "—"
    assert "只有 29 件，少于 30 件" in guarded.reason and "3.4 个百分点" in guarded.reason
    assert found["disclosure_rate"].level == "green" and found["disclosure_rate"].value == Decimal("100.0")
    # No litigation cells at all, and none with zero cases.
    assert found["litigation_correction_rate"].level == "none"
    assert "没有计算该指标所需的数字" in found["litigation_correction_rate"].reason
    zero = review("litigation_direct", 0, 0, 0, 0) | review("litigation_after_review", 0, 0, 0, 0)
    nothing = by_code(cards(NATIONAL, frame(zero), DEFAULT_THRESHOLDS))["litigation_correction_rate"]
    assert nothing.level == "none" and "0 件" in nothing.reason


def test_levels_follow_direction_at_the_lines():
    lines = {"disclosure_rate": Thresholds(red=Decimal(40), yellow=Decimal(60))}
    lines |= {"review_correction_rate": Thresholds(red=Decimal(20), yellow=Decimal(10))}

    def level(code, cells):
        return by_code(cards(NATIONAL, frame(cells), lines | {}))[code].level

    assert level("disclosure_rate", applications(39, 0, 100)) == "red"
    assert level("disclosure_rate", applications(40, 0, 100)) == "yellow"  # at the red line: not red
    assert level("disclosure_rate", applications(59, 0, 100)) == "yellow"
    assert level("disclosure_rate", applications(60, 0, 100)) == "green"
    assert level("review_correction_rate", review("review", 91, 9, 0, 0)) == "green"
    assert level("review_correction_rate", review("review", 90, 10, 0, 0)) == "yellow"
    assert level("review_correction_rate", review("review", 80, 20, 0, 0)) == "red"
    # Compared as printed: 59.96% shows as 60.0%, so it is green, not yellow.
    assert level("disclosure_rate", applications(5996, 0, 10000)) == "green"


def test_unreadable_figure_gives_no_card_and_one_district_only():
    cells = applications(disclosed="x", partial=5, handled=40)
    card = by_code(cards(NATIONAL, frame(cells), DEFAULT_THRESHOLDS))["disclosure_rate"]
    assert card.level == "none" and "不是数字" in card.reason
    two = pd.concat([frame(applications(1, 1, 40), "a"), frame(applications(1, 1, 40), "b")])
    with pytest.raises(ValueError):
        cards(NATIONAL, two, DEFAULT_THRESHOLDS)


def test_a_format_without_indicators_gives_no_cards():
    legacy = LegacyFormat(code="legacy", name="x", sections=(), tables={}, rules=(), template_dir="legacy")
    assert cards(legacy, frame(applications(1, 1, 40)), DEFAULT_THRESHOLDS) == []


def toml(text: str) -> dict:
    return tomllib.loads('district = "示范市"\ngovernment = "示范市人民政府办公室"\n' + text)


def test_thresholds_from_home_toml_and_defaults():
    lines = indicator_thresholds(toml("[indicators.disclosure_rate]\nred = 30\nyellow = 55.5\n"))
    assert lines["disclosure_rate"] == Thresholds(red=Decimal(30), yellow=Decimal("55.5"))
    assert lines["review_correction_rate"] == DEFAULT_THRESHOLDS["review_correction_rate"]
    # One line set, the other from the defaults.
    one = indicator_thresholds(toml("[indicators.review_correction_rate]\nred = 30\n"))
    assert one["review_correction_rate"] == Thresholds(red=Decimal(30), yellow=Decimal(10))
    assert indicator_thresholds(toml("")) == DEFAULT_THRESHOLDS
    found = by_code(cards(NATIONAL, frame(applications(35, 0, 100)), lines))
    assert found["disclosure_rate"].level == "yellow" and "55.5%" in found["disclosure_rate"].reason


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[indicators.open_rate]\nred = 1\n", "没有这个指标"),
        ('[indicators.disclosure_rate]\nred = "四十"\n', "不是数字"),
        ("[indicators.disclosure_rate]\nred = true\n", "不是数字"),
        ("[indicators.disclosure_rate]\nred = 140\nyellow = 150\n", "超出 0 到 100"),
        ("[indicators.disclosure_rate]\nred = 70\nyellow = 60\n", "越高越好"),
        ("[indicators.review_correction_rate]\nred = 10\nyellow = 20\n", "越低越好"),
        ("[indicators.review_correction_rate]\nred = 20\ngreen = 5\n", "不认识的设置 green"),
        ("indicators = 5\n", "应是一个表"),
        ("[indicators]\ndisclosure_rate = 50\n", "应是一个表"),
    ],
)
def test_bad_thresholds_are_one_clear_chinese_line(text, says):
    with pytest.raises(HomeError) as caught:
        indicator_thresholds(toml(text))
    message = str(caught.value)
    assert says in message and "home.toml" in message and "\n" not in message


def test_cards_fragment_shows_value_level_words_and_reason():
    cells = applications(20, 5, 40) | review("review", 0, 29, 0, 6)
    html = cards_html("xiqu", "西区<b>", 2024, cards(NATIONAL, frame(cells), DEFAULT_THRESHOLDS))
    assert 'data-district="xiqu"' in html and "西区&lt;b&gt;" in html  # escaped
    assert 'data-indicator="disclosure_rate" data-level="green"' in html and "62.5%" in html
    assert "25 / 40 件" in html and "正常" in html
    assert 'data-indicator="review_correction_rate" data-level="none"' in html and "少于 30 件" in html
    assert "实质公开率 =（予以公开 + 部分公开）÷ 办结" in html
    empty = cards_html("old", "旧区", 2010, [])
    assert "没有定义指标" in empty
