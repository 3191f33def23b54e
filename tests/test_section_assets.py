"""Every table of every format lands in a section asset its format names; a table
naming a section asset that does not exist fails loudly instead of landing silently
in another one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.defs.assets.sections import TABLE_SECTIONS, section_asset_for
from schemas import format_for_year
from schemas.national_2021 import FORMAT as NATIONAL


@pytest.mark.parametrize("year", [2019, 2021])
def test_official_tables_have_a_section_asset_each(year):
    fmt = format_for_year(year)
    assert {code: section_asset_for(fmt, code) for code in fmt.tables} == {
        "proactive": "proactive",
        "applications": "applications",
        "review_litigation": "review_litigation",
    }


def test_legacy_indicator_tables_share_the_indicators_asset():
    demo = Path(__file__).resolve().parents[1] / "data" / "demo" / "jianghan"
    fmt = format_for_year(2017, demo)
    assert {section_asset_for(fmt, code) for code in fmt.tables} == {"indicators"}


def test_a_table_naming_an_unknown_section_asset_fails_loudly():
    table = dataclasses.replace(NATIONAL.tables["proactive"], code="fees_collected", section="fees")
    fmt = dataclasses.replace(NATIONAL, tables={**NATIONAL.tables, "fees_collected": table})
    with pytest.raises(LookupError, match="fees"):
        section_asset_for(fmt, "fees_collected")
    assert "fees" not in TABLE_SECTIONS
