"""Issue 9's outputs on the demo district built year by year: year-over-year across the
2020→2021 format change, provenance summing to every district cell, a valid Frictionless
package per year, the review page; and the revisions log after publication."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from conftest import build, hand_in, valid_cells, write_home

from pipeline.home import Home
from pipeline.synth import to_csv

YEARS = range(2019, 2026)


@pytest.fixture(scope="module")
def demo(built_demo) -> Home:
    home, results = built_demo("shifanqu")  # every demo year, oldest first (shared, read only)
    assert sorted(results) == list(YEARS)
    RESULTS.update(results)
    return home


RESULTS: dict = {}


def test_yoy_of_the_demo_district_across_2020_to_2021(demo):
    yoy = pd.read_parquet(demo.warehouse_dir(2021) / "yoy.parquet")
    sections = {
        y: pd.read_parquet(demo.warehouse_dir(y) / "sections" / "applications.parquet") for y in (2020, 2021)
    }

    def district(y, row, column="total"):
        f = sections[y]
        return int(
            f[(f["scope"] == "district") & (f["row"] == row) & (f["column"] == column)]["value"].iloc[0]
        )

    line = yoy[(yoy["scope"] == "district") & (yoy["row"] == "received") & (yoy["column"] == "total")].iloc[0]
    now, before = district(2021, "received"), district(2020, "received")
    assert int(line["value"]) == now and int(line["previous"]) == before
    assert int(line["difference"]) == now - before
    assert line["percent"] == str((Decimal(now - before) * 100 / before).quantize(Decimal("0.1")))
    # 2021's 本年制发件数 compares with 2019's 本年新制作数量 (the explicit mapping) …
    issued = yoy[
        (yoy["scope"] == "district") & (yoy["row"] == "normative_documents") & (yoy["column"] == "issued")
    ]
    assert issued["previous"].iloc[0] != ""
    # … but 现行有效件数 is not 对外公开总数量 and 其他处理 was split: no previous year.
    for row, column in (("normative_documents", "in_force"), ("other_misc", "total")):
        part = yoy[(yoy["scope"] == "district") & (yoy["row"] == row) & (yoy["column"] == column)]
        assert part.empty or part["previous"].iloc[0] == ""


def test_office_text_template_gets_wording_by_sign(demo):
    report = (demo.reports_dir(2025) / "report.md").read_text(encoding="utf-8")
    assert "较上年" in report and "{{" not in report
    yoy = pd.read_parquet(demo.warehouse_dir(2025) / "yoy.parquet")
    line = yoy[(yoy["scope"] == "district") & (yoy["row"] == "received") & (yoy["column"] == "total")].iloc[0]
    word = "增加" if int(line["difference"]) > 0 else "减少"
    assert f"较上年{word}{abs(int(line['difference']))}件" in report


def test_provenance_sums_equal_every_district_cell_of_every_demo_year(demo):
    for year in YEARS:
        provenance = pd.read_parquet(demo.warehouse_dir(year) / "provenance.parquet")
        assert (provenance["sha256"].str.len() == 64).all() and (provenance["location"] != "").all()
        sums: dict = {}
        for t, r, c, v in zip(
            provenance["table"], provenance["row"], provenance["column"], provenance["value"]
        ):
            sums[(t, r, c)] = sums.get((t, r, c), Decimal(0)) + Decimal(v)
        checked = 0
        for key in ("proactive", "applications", "review_litigation"):
            section = pd.read_parquet(demo.warehouse_dir(year) / "sections" / f"{key}.parquet")
            district = section[section["scope"] == "district"]
            for t, r, c, v in zip(district["table"], district["row"], district["column"], district["value"]):
                assert sums.pop((t, r, c)) == Decimal(v), (year, t, r, c)
                checked += 1
        assert checked > 0 and not sums, year


def test_every_demo_year_has_a_valid_frictionless_package(demo):
    from frictionless import Package, validate

    for year in YEARS:
        folder = demo.reports_dir(year) / "open-data"
        report = validate(folder / "datapackage.json")
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
        package = Package(folder / "datapackage.json")
        assert package.custom["year"] == year and package.custom["format"] in ("trial-2019", "national-2021")
        figures = package.get_resource("figures")
        assert figures.schema.primary_key == ["unit", "table", "row", "column"]
        assert all(f.title for f in figures.schema.fields)
        assert (folder / "figures.json").is_file()


def test_review_page_has_comparison_charts_and_provenance_links(demo):
    html = (demo.reports_dir(2025) / "review.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 4 and 'role="img"' in html and "<script" not in html
    assert 'href="#p-applications-received-total"' in html and 'id="p-applications-received-total"' in html
    assert "全区共受理政府信息公开申请95件" in html  # the office text's P1, quoted
    assert "GAJ" in html and "Y1" in html  # anomalies listed


def test_dagster_shows_provenance_and_the_new_checks(demo):
    result = RESULTS[2025]
    materializations = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    preview = materializations["applications"].materialization.metadata["provenance_preview"].value
    assert preview.startswith("**applications**") and "SHA-256" in preview and ".xlsx" in preview
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert not checks["no_anomalies"].passed and not checks["office_text_matches_tables"].passed
    rules = {r.data["rule"] for r in checks["no_anomalies"].metadata["failure_table"].value.records}
    assert {"Y1", "Y2", "G1", "P6"} <= rules


def test_demo_fires_every_new_check(demo):
    fired = set()
    for year in YEARS:
        fired |= set(pd.read_parquet(demo.warehouse_dir(year) / "messages.parquet")["rule"])
    assert {"N10", "P1", "P2", "P3", "P4", "P5", "P6", "Y1", "Y2", "G1"} <= fired
    html = (demo.reports_dir(2019) / "validation.html").read_text(encoding="utf-8")
    assert 'id="cross-year"' in html and "N7、N8 未核对" not in html and "N7 未核对" in html


def test_resubmission_after_publication_logs_one_entry_per_changed_figure(tmp_path):
    home = write_home(tmp_path / "home", [("A", "甲局"), ("B", "乙局")])
    with open(home.root / "home.toml", "a", encoding="utf-8") as f:
        f.write('\n[publication.2025]\ndate = "2026-03-20"\n')
    hand_in(home, 2025, "A", "a.csv", to_csv(valid_cells(2025, seed=1)))
    hand_in(home, 2025, "B", "b.csv", to_csv(valid_cells(2025, seed=2)))
    build(home, 2025)  # the report as published (built after the date, no snapshot yet)
    assert (home.root / "revisions" / "2025" / "published.csv").is_file()
    cells = valid_cells(2025, seed=1)
    changed = [("proactive", "licensing", "decisions"), ("review_litigation", "review", "upheld"),
               ("review_litigation", "review", "total")]  # fmt: skip
    for key in changed:
        cells[key] = str(int(cells.get(key, "0")) + 3)
    import time

    time.sleep(0.01)
    hand_in(home, 2025, "A", "a-更正.csv", to_csv(cells))
    build(home, 2025)
    build(home, 2025)  # a rebuild adds nothing
    log = pd.read_csv(home.root / "revisions" / "2025" / "log.csv", dtype=str)
    assert sorted(zip(log["table"], log["row"], log["column"])) == sorted(changed)
    assert set(log["unit"]) == {"A"} and set(log["file"]) == {"a-更正.csv"}
    assert all(int(c) == int(p) + 3 for p, c in zip(log["published"], log["corrected"]))
    assert "更正说明" in (home.reports_dir(2025) / "review.html").read_text(encoding="utf-8")
    assert len(pd.read_csv(home.reports_dir(2025) / "open-data" / "revisions.csv")) == 3


def test_before_publication_the_snapshot_follows_the_build(tmp_path):
    from pipeline.steps.revisions import update

    home = write_home(tmp_path / "home", [("A", "甲局")])
    frame = pd.DataFrame({"scope": ["A"], "row": ["licensing"], "column": ["decisions"], "value": ["3"]})
    from schemas.national_2021 import FORMAT

    config = {"publication": {"2025": {"date": "2026-03-20"}}}
    files = pd.DataFrame(columns=["unit", "file", "sha256", "received_at", "in_use"])
    update(home.root, 2025, config, FORMAT, {"proactive": frame}, files, {}, today=date(2026, 3, 1))
    frame2 = frame.assign(value=["5"])
    log = update(home.root, 2025, config, FORMAT, {"proactive": frame2}, files, {}, today=date(2026, 3, 2))
    assert log.empty  # not yet published: the snapshot simply follows
    log = update(home.root, 2025, config, FORMAT, {"proactive": frame}, files, {}, today=date(2026, 4, 1))
    assert list(log["published"]) == ["5"] and list(log["corrected"]) == ["3"]


def test_review_page_of_a_first_year_has_the_table_and_no_chart(home):
    """One year on record is no trend: the figures are listed, no one-point chart is drawn."""
    assert build(home, 2025).success
    html = (home.reports_dir(2025) / "review.html").read_text(encoding="utf-8")
    assert "<svg" not in html
    assert "只有 2025 年度一年的数字，尚无趋势图" in html
    assert "<caption>政府信息公开申请</caption>" in html
