"""The whole year through the real Dagster job: golden reports of the demo
district, rejected and missing units, reproducibility, re-runs and asset checks."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, build, copy_demo, hand_in, valid_cells

from pipeline.home import Home
from pipeline.synth import to_csv

GOLDEN = REPO / "tests" / "golden" / "shifanqu-2024"
GOLDEN_FILES = ["report.html", "report.md", "units/ZFB.html", "units/ZFB.md"]
UPDATE = os.environ.get("NIANBAO_UPDATE_GOLDEN") == "1"


def demo_home(tmp_path: Path, year: int = 2025) -> Home:
    """The demo district with `year`'s submissions only (the one year a test builds)."""
    return copy_demo(tmp_path / "shifanqu", "shifanqu", [year])


@pytest.fixture(scope="module")
def demo_2025(built_demo) -> tuple[Home, object]:
    home, results = built_demo("shifanqu")  # every demo year built (shared, read only)
    return home, results[2025]


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_demo_2024_matches_golden(built_demo, name):
    home, _ = built_demo("shifanqu", [2024])  # 2024 alone, as the golden files were made
    produced = (home.reports_dir(2024) / name).read_text(encoding="utf-8")
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
    assert produced == golden.read_text(encoding="utf-8"), (
        f"{name} differs; NIANBAO_UPDATE_GOLDEN=1 rewrites it"
    )


def test_golden_report_has_the_official_structure():
    html = (GOLDEN / "report.html").read_text(encoding="utf-8")
    for text in [
        "一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项",
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "3.危及“三安全一稳定”",
        'rowspan="3" colspan="3"', "@page { size: A4",
    ]:  # fmt: skip
        assert text in html
    assert "<script" not in html and "http" not in html.split("<body>")[1], "self-contained"


def test_rejected_unit_is_left_out_of_the_sums_and_listed(demo_2025):
    home, _ = demo_2025
    status = pd.read_csv(home.reports_dir(2025) / "status.csv", dtype=str)
    # The first four columns stay as tools read them; the name and the Chinese word follow.
    assert list(status.columns) == ["unit", "status", "errors", "warnings", "name", "status_text"]
    assert status.set_index("unit").loc["JTJ", "status_text"] == "已退回"
    by_unit = dict(zip(status["unit"], status["status"]))
    assert by_unit["JTJ"] == "rejected" and by_unit["NYJD"] == "missing" and by_unit["ZFB"] == "accepted"
    assert "DAG" not in by_unit, "a unit merged away after 2022 is not expected in 2025"

    accepted = pd.read_parquet(home.warehouse_dir(2025) / "accepted.parquet")
    assert "JTJ" not in set(accepted["unit"])
    sections = pd.read_parquet(home.warehouse_dir(2025) / "sections" / "applications.parquet")
    district = sections[
        (sections["scope"] == "district") & (sections["row"] == "received") & (sections["column"] == "total")
    ]
    per_unit = accepted[(accepted["row"] == "received") & (accepted["column"] == "total")]["number"].sum()
    assert int(district["value"].iloc[0]) == int(per_unit)

    # The units left out are listed for the office (validation.html), not in the published report.
    report = (home.reports_dir(2025) / "report.md").read_text(encoding="utf-8")
    assert "附：单位报送情况" not in report and "示范区交通运输局" not in report
    validation = (home.reports_dir(2025) / "validation.html").read_text(encoding="utf-8")
    assert (
        "未通过审核、未计入汇总 1 个：示范区交通运输局" in validation
        and "未报送 1 个：南苑街道办事处" in validation
    )
    assert not (home.reports_dir(2025) / "units" / "JTJ.html").exists()


def test_validation_report_names_rule_unit_file_and_cell(demo_2025):
    home, _ = demo_2025
    html = (home.reports_dir(2025) / "validation.html").read_text(encoding="utf-8")
    assert (
        "示范区交通运输局（JTJ）：已退回" in html
        and "JTJ-2025.csv" in html
        and "N1" in html
        and "第 12 行" in html
    )


def test_asset_checks_show_failures_as_tables(demo_2025):
    _, result = demo_2025
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert not checks["unit_errors"].passed
    table = checks["unit_errors"].metadata["failure_table"].value
    assert {r.data["unit"] for r in table.records} == {"示范区交通运输局（JTJ）"}
    assert {r.data["rule"] for r in table.records} == {"N1"}
    assert all(checks[f].passed for f in checks if f == "sums_follow_rules")


def test_report_metadata_has_markdown_preview_and_paths(demo_2025):
    home, result = demo_2025
    materializations = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    metadata = materializations["district_report"].materialization.metadata
    assert metadata["preview"].value.startswith("# 示范区2025年政府信息公开工作年度报告")
    assert metadata["html"].value == str(home.reports_dir(2025) / "report.html")
    status_table = materializations["submission_status"].materialization.metadata["status_table"].value
    assert len(status_table.records) == 26


def test_same_inputs_give_byte_identical_reports(tmp_path):
    first, second = demo_home(tmp_path / "a"), demo_home(tmp_path / "b")
    build(first, 2025)
    build(second, 2025)
    for name in ["report.html", "report.md", "units/ZFB.html", "units/ZFB.md", "status.csv"]:
        assert (first.reports_dir(2025) / name).read_bytes() == (second.reports_dir(2025) / name).read_bytes()


def test_rerun_parses_only_the_changed_file(home):
    build(home, 2025)
    hand_in(home, 2025, "B", "b.csv", to_csv(valid_cells(2025, seed=7)))
    result = build(home, 2025)
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "submissions"
    ]
    assert event.materialization.metadata["files_parsed_now"].value == 1


def test_resubmission_replaces_the_earlier_file(home):
    import time

    build(home, 2025)
    time.sleep(0.01)
    hand_in(home, 2025, "A", "a-v2.csv", to_csv(valid_cells(2025, seed=9)))
    build(home, 2025)
    files = pd.read_parquet(home.warehouse_dir(2025) / "files.parquet")
    in_use = dict(zip(files["file"], files["in_use"]))
    assert in_use == {"a.csv": False, "a-v2.csv": True, "b.csv": True}
    from pipeline.ingest.archive import read_manifest

    outcomes = {r["original_name"]: r["outcome"] for r in read_manifest(home.archive)}
    assert outcomes == {"a.csv": "superseded", "a-v2.csv": "accepted", "b.csv": "accepted"}
