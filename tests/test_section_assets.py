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


def test_sums_that_break_an_identity_fail_the_blocking_check(home, monkeypatch):
    """The check of the district sums reports an aggregation that went wrong, and the
    reports are not written from it."""
    from pipeline.defs.assets.reports import outputs_run_config
    from pipeline.defs.definitions import build_definitions
    from pipeline.steps import sections as steps

    made = steps.all_sections

    def miscounted(accepted, fmt):
        out = made(accepted, fmt)
        frame = out["applications"]
        first = frame.index[frame["scope"] == steps.DISTRICT][0]
        frame.loc[first, "value"] = str(int(frame.loc[first, "value"]) + 7)
        return out

    monkeypatch.setattr(steps, "all_sections", miscounted)
    from dagster import DagsterInstance

    with DagsterInstance.ephemeral() as instance:
        result = (
            build_definitions(str(home.root))
            .resolve_job_def("yearly_report")
            .execute_in_process(
                partition_key="2025",
                instance=instance,
                raise_on_error=False,
                run_config=outputs_run_config(["md"]),
            )
        )
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = checks[("applications", "sums_follow_rules")]
    assert not failed.passed and failed.metadata["failures"].value >= 1
    assert checks[("proactive", "sums_follow_rules")].passed
    assert not (home.reports_dir(2025) / "report.md").exists()
