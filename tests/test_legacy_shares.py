"""Shares computed from counts as docs/formats.md says: whole percent rounded half
up; a non-zero share under 1% with one decimal, so no non-zero count reads 0%."""

from __future__ import annotations

import pytest

from pipeline.home import HomeError
from pipeline.render.legacy import format_share, share_value, thousands


@pytest.mark.parametrize(
    ("part", "whole", "printed"),
    [
        (1529, 2275, "67%"),  # 67.21
        (746, 2275, "33%"),  # 32.79: the published report printed 32%
        (9, 2275, "0.4%"),  # 0.396: the published report printed 1%
        (1, 8, "13%"),  # 12.5: half up, not to even
        (5, 200, "3%"),  # 2.5: half up
        (1, 200, "0.5%"),  # 0.5
        (1, 1000, "0.1%"),  # 0.1
        (1, 1600, "0.1%"),  # 0.0625: half up to one decimal
        (1, 47447, "不足0.1%"),  # 0.002: still not 0%
        (0, 47447, "0%"),
        (2275, 2275, "100%"),
        (199, 200, "100%"),  # 99.5
        ("1,591", "1,591", "100%"),  # figures as entered
    ],
)
def test_format_share(part, whole, printed):
    assert format_share(part, whole) == printed


def test_share_is_exact_before_rounding():
    assert share_value(746, 2275).quantize(__import__("decimal").Decimal("0.0001")) == __import__(
        "decimal"
    ).Decimal("32.7912")


def test_share_of_nothing_is_refused():
    with pytest.raises(HomeError, match="总数为 0"):
        format_share(3, 0)


def test_share_of_text_is_refused():
    with pytest.raises(HomeError, match="不是数字"):
        format_share("许多", 10)


@pytest.mark.parametrize(("value", "text"), [("1591", "1,591"), ("15618.3156", "15,618.3156"), ("64", "64")])
def test_thousands(value, text):
    assert thousands(value) == text
