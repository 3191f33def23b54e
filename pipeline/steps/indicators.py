"""The indicator cards regional leaders read (issue 18): one district-year's rates, from
its accepted figures, by the definitions in the format data (ReportFormat.indicators),
coloured by the office's red and yellow lines from home.toml:

    [indicators.disclosure_rate]        # 实质公开率: higher is better
    red = 40                            # below 40.0%: red
    yellow = 60                         # below 60.0% (and not red): yellow

    [indicators.review_correction_rate] # 复议纠错率: lower is better
    yellow = 10                         # from 10.0%: yellow
    red = 20                            # from 20.0%: red

A rate is compared as the card prints it (one decimal), so the colour never
disagrees with the figure a leader reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import pandas as pd

from schemas.base import CellRef, Indicator, ReportFormat
from schemas.errors import HomeError
from schemas.frames import zip_columns
from schemas.national_2021 import INDICATORS  # every indicator any format defines
from schemas.numbers import canonical, parse_number

Level = Literal["green", "yellow", "red", "none"]
LEVEL_WORDS = {"green": "正常", "yellow": "关注", "red": "预警", "none": "不出卡片"}
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Thresholds:
    red: Decimal
    yellow: Decimal


# The office sets its own lines; these are a starting point: under 40% of handled
# applications (partly) disclosed is red, under 60% yellow; a correction rate of 10% and
# more is yellow, of 20% and more red.
DEFAULT_THRESHOLDS: dict[str, Thresholds] = {
    "disclosure_rate": Thresholds(red=Decimal(40), yellow=Decimal(60)),
    "review_correction_rate": Thresholds(red=Decimal(20), yellow=Decimal(10)),
    "litigation_correction_rate": Thresholds(red=Decimal(20), yellow=Decimal(10)),
}
DIRECTIONS: dict[str, str] = {i.code: i.direction for i in INDICATORS}


@dataclass(frozen=True)
class Card:
    code: str
    label: str
    definition: str
    level: Level
    value: Decimal | None = None  # percent, rounded half up to one decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    thresholds: Thresholds | None = None
    direction: str = "higher"
    reason: str = ""  # why there is no card (level "none"), or where the value stands

    @property
    def shown(self) -> str:
        """The figure as the card prints it: "62.5%", or "—" without a card."""
        return f"{self.value}%" if self.value is not None else "—"

    @property
    def counts(self) -> str:
        """ "25 / 40 件": the numerator and denominator the rate was computed from."""
        if self.numerator is None or self.denominator is None:
            return ""
        return f"{canonical(self.numerator)} / {canonical(self.denominator)} 件"

    @property
    def level_word(self) -> str:
        return LEVEL_WORDS[self.level]


def _number(value: object) -> Decimal:
    return Decimal(value) if isinstance(value, int) else Decimal(str(value))


def indicator_thresholds(config: dict) -> dict[str, Thresholds]:
    """The red and yellow lines of every indicator: home.toml `[indicators.<code>]`,
    the defaults otherwise. Anything it cannot use is one clear HomeError."""
    section = config.get("indicators", {})
    if not isinstance(section, dict):
        raise HomeError("home.toml 的 indicators 应是一个表，例如 [indicators.disclosure_rate]。")
    known = "、".join(DEFAULT_THRESHOLDS)
    out = dict(DEFAULT_THRESHOLDS)
    for code, entry in section.items():
        if code not in DEFAULT_THRESHOLDS:
            raise HomeError(f"home.toml 的 [indicators.{code}]：没有这个指标，可设置的指标为 {known}。")
        if not isinstance(entry, dict):
            raise HomeError(
                f"home.toml 的 indicators.{code} 应是一个表（[indicators.{code}]，含 red、yellow）。"
            )
        unknown = set(entry) - {"red", "yellow"}
        if unknown:
            raise HomeError(
                f"home.toml 的 [indicators.{code}] 中有不认识的设置 {'、'.join(sorted(unknown))}，"
                "只能设置 red（红色预警线）和 yellow（黄色关注线）。"
            )
        lines = {}
        for key in ("red", "yellow"):
            raw = entry.get(key, getattr(DEFAULT_THRESHOLDS[code], key))
            if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
                raise HomeError(
                    f"home.toml 的 [indicators.{code}] 中 {key} = {raw!r} 不是数字，应为 0 到 100 的百分数。"
                )
            number = _number(raw)
            if not 0 <= number <= 100:
                raise HomeError(
                    f"home.toml 的 [indicators.{code}] 中 {key} = {raw} 超出 0 到 100（百分数）。"
                )
            lines[key] = number
        red, yellow = lines["red"], lines["yellow"]
        if DIRECTIONS[code] == "higher" and not red < yellow:
            raise HomeError(
                f"home.toml 的 [indicators.{code}]：该指标越高越好，红色预警线 red（{red}）应低于黄色关注线 yellow（{yellow}）。"
            )
        if DIRECTIONS[code] == "lower" and not yellow < red:
            raise HomeError(
                f"home.toml 的 [indicators.{code}]：该指标越低越好，黄色关注线 yellow（{yellow}）应低于红色预警线 red（{red}）。"
            )
        out[code] = Thresholds(red=red, yellow=yellow)
    return out


def _sums(figures: pd.DataFrame) -> dict[CellRef, Decimal | None]:
    """(table, row, column) -> the figure (None: present but not a number)."""
    if "member" in figures.columns and figures["member"].nunique() > 1:
        raise ValueError("cards() takes one district's figures")
    out: dict[CellRef, Decimal | None] = {}
    for table, row, column, value in zip_columns(figures, "table", "row", "column", "value"):
        out[(str(table), str(row), str(column))] = parse_number(str(value))
    return out


def _level(value: Decimal, direction: str, lines: Thresholds) -> tuple[Level, str]:
    red, yellow = canonical(lines.red), canonical(lines.yellow)
    if direction == "higher":
        if value < lines.red:
            return "red", f"低于红色预警线 {red}%"
        if value < lines.yellow:
            return "yellow", f"低于黄色关注线 {yellow}%"
        return "green", f"不低于黄色关注线 {yellow}%"
    if value >= lines.red:
        return "red", f"达到红色预警线 {red}%"
    if value >= lines.yellow:
        return "yellow", f"达到黄色关注线 {yellow}%"
    return "green", f"低于黄色关注线 {yellow}%"


def card(indicator: Indicator, figures: dict[CellRef, Decimal | None], lines: Thresholds) -> Card:
    base = Card(
        indicator.code,
        indicator.label,
        indicator.definition,
        "none",
        thresholds=lines,
        direction=indicator.direction,
    )
    cells = indicator.cells()
    if not any(c in figures for c in cells):
        return replace(base, reason="本年度没有计算该指标所需的数字（相关表格未报送或无法读取），不出卡片。")
    if any(c in figures and figures[c] is None for c in cells):
        return replace(base, reason="计算该指标所需的数字中有不是数字的值，不出卡片。")

    def total(refs: tuple[CellRef, ...]) -> Decimal:
        # A cell left out of a table that is there is 0, as the region's sums read it.
        return sum((figures.get(c) or Decimal(0) for c in refs), Decimal(0))

    numerator = total(indicator.numerator)
    denominator = total(indicator.denominator) - total(indicator.less)
    base = replace(base, numerator=numerator, denominator=denominator)
    what = indicator.denominator_label or "分母"
    if denominator <= 0:
        return replace(base, reason=f"没有{what}（0 件），无法计算比率，不出卡片。")
    if denominator < indicator.minimum:
        step = (Decimal(100) / denominator).quantize(TENTH, rounding=ROUND_HALF_UP)
        return replace(
            base,
            reason=(
                f"{what}只有 {canonical(denominator)} 件，少于 {indicator.minimum} 件：样本太少，"
                f"一件就使比率变动 {step} 个百分点，颜色反映的是偶然而不是工作情况，不出卡片。"
            ),
        )
    value = (numerator * 100 / denominator).quantize(TENTH, rounding=ROUND_HALF_UP)
    level, where = _level(value, indicator.direction, lines)
    return replace(base, value=value, level=level, reason=where)


def cards(fmt: ReportFormat, figures: pd.DataFrame, thresholds: dict[str, Thresholds]) -> list[Card]:
    """One district-year's cards, in the format's order: a card per indicator the format
    defines (level "none" with the reason where there is none to show). `figures` is
    the district's accepted figures in long form (table, row, column, value); a
    format without indicators (a legacy catalogue) gives no cards."""
    known = _sums(figures)
    return [card(i, known, thresholds.get(i.code, DEFAULT_THRESHOLDS[i.code])) for i in fmt.indicators]
