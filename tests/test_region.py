"""A region home (issue 18): its members parsed from home.toml, each member's intake, and a
city over three districts (two it runs, one handing in its open-data package) built through
the region's Dagster jobs: the totals equal the districts' sums, and a published report that
differs from the compiled figures by one number is flagged naming district, table, cell and
both numbers."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import hand_in, valid_cells, write_home

from pipeline.home import Home, HomeError
from pipeline.region import Member, deadline, is_region, region_members

YEAR = 2025
HEAD = 'district = "示范市"\ngovernment = "示范市人民政府办公室"\n'


def region_home(root: Path, members: str, folders=("a",)) -> Home:
    root.mkdir(parents=True, exist_ok=True)
    (root / "home.toml").write_text(HEAD + members, encoding="utf-8")
    for code in folders:
        (root / "members" / code).mkdir(parents=True, exist_ok=True)
    return Home.resolve(root)


def entry(code="a", name="甲区", source="package") -> str:
    return f'\n[[members]]\ncode = "{code}"\nname = "{name}"\nsource = "{source}"\n'


# --- the region home ------------------------------------------------------------------


def test_members_are_read_in_order_and_a_district_home_is_no_region(tmp_path, home):
    region = region_home(tmp_path / "r", entry() + entry("b_2", "乙区", "published"), folders=("a", "b_2"))
    assert region_members(region) == [Member("a", "甲区", "package"), Member("b_2", "乙区", "published")]
    assert is_region(region) and not is_region(home)
    assert deadline(region, YEAR).isoformat() == "2026-03-31"


@pytest.mark.parametrize(
    "members, folders, words",
    [
        (entry(source="ftp"), ("a",), ["source", "ftp", "home", "package", "published"]),
        (entry() + entry(name="乙区"), ("a",), ["“a”", "重复"]),
        (entry(code="Xi Qu"), ("a",), ["Xi Qu", "小写字母"]),
        (entry(code="../up"), ("a",), ["../up", "小写字母"]),
        (entry(code="region"), ("a",), ["region"]),
        (entry(), (), ["members/a/", "不存在"]),
        (entry(source="home"), ("a",), ["members/a/home.toml", "不存在"]),
        (entry(name=""), ("a",), ["缺少 name"]),
        ("\nmembers = []\n", (), ["没有列出"]),
        ('\n[region]\ndeadline = "3月底"\n' + entry(), ("a",), ["deadline", "3月底", "月-日"]),
    ],
    ids=[
        "source",
        "duplicate",
        "code",
        "dotdot",
        "reserved",
        "folder",
        "no-home",
        "name",
        "empty",
        "deadline",
    ],
)
def test_a_bad_member_entry_is_one_chinese_line(tmp_path, members, folders, words):
    region = region_home(tmp_path / "r", members, folders)
    with pytest.raises(HomeError) as caught:
        region_members(region)
        deadline(region, YEAR)
    text = str(caught.value)
    assert "\n" not in text and all(w in text for w in words), text


# --- one member's intake ----------------------------------------------------------------


def package_region(tmp_path: Path, figures: str, meta: dict | None = None) -> Home:
    region = region_home(tmp_path / "r", entry())
    folder = region.root / "members" / "a" / str(YEAR)
    folder.mkdir(parents=True)
    (folder / "figures.csv").write_text(figures, encoding="utf-8")
    if meta is not None:
        (folder / "datapackage.json").write_text(json.dumps(meta), encoding="utf-8")
    return region


HEADER = "unit,unit_name,table,table_title,row,row_label,column,column_label,value\n"


@pytest.mark.parametrize(
    "figures, meta, words",
    [
        (HEADER + "district,甲区,applications,,nonsense,,total,,3\n", None, ["figures.csv", "第 2 行", "N6"]),
        (
            HEADER + "district,甲区,review_litigation,,review,,upheld,,三\n",
            None,
            ["figures.csv", "第 2 行", "三"],
        ),
        ("unit,table,value\ndistrict,applications,3\n", None, ["figures.csv", "缺少列", "row"]),
        (HEADER + "u1,甲局,review_litigation,,review,,upheld,,3\n", None, ["figures.csv", "district"]),
        (
            HEADER + "district,甲区,review_litigation,,review,,upheld,,3\n",
            {"year": 2024},
            ["2024", "datapackage.json"],
        ),
    ],
    ids=["unknown-cell", "not-a-number", "columns", "no-district-rows", "other-year"],
)
def test_a_bad_package_is_refused_naming_the_file(tmp_path, figures, meta, words):
    from pipeline.steps.region import intake_member, member_paths, read_member

    region = package_region(tmp_path, figures, meta)
    status = intake_member(region, region_members(region)[0], YEAR, build=None)
    assert status["state"] == "读取失败"
    assert all(w in status["reason"] for w in words), status["reason"]
    figures_path, status_path = member_paths(region, YEAR, "a")
    assert (
        figures_path.is_file() and json.loads(status_path.read_text(encoding="utf-8"))["state"] == "读取失败"
    )
    assert read_member(region, YEAR, region_members(region)[0])[0].empty


def test_a_member_that_handed_in_nothing_is_missing(tmp_path):
    from pipeline.steps.region import intake_member

    region = region_home(tmp_path / "r", entry())
    status = intake_member(region, region_members(region)[0], YEAR, build=None)
    assert status["state"] == "缺报" and "members/a/2025/figures.csv" in status["reason"]


def test_a_member_whose_own_build_fails_stops_no_other(tmp_path):
    """A district home the region runs, whose home.toml is broken: its real build fails, its
    state says why; the package member next to it is read and summed all the same."""
    from pipeline.defs.region import member_build
    from pipeline.demo import _package_member
    from pipeline.steps.region import compile_region, intake_member
    from pipeline.synth import to_csv

    region = region_home(tmp_path / "r", entry("broken", "坏区", "home") + entry("beiqu", "北区"), ())
    district = write_home(region.root / "members" / "broken", [("A", "甲局")])
    hand_in(district, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR)))
    (district.root / "home.toml").write_text(HEAD + 'level = "乡级"\n', encoding="utf-8")
    _package_member(region.root, "beiqu", YEAR)
    broken, beiqu = region_members(region)
    status = intake_member(region, broken, YEAR, member_build(["html"]))
    assert (
        status["state"] == "读取失败" and "乡级" in status["reason"] and "members/broken" in status["reason"]
    )
    assert intake_member(region, beiqu, YEAR, None)["state"] == "已报送"
    data, found = compile_region(region, YEAR)
    assert len(data.totals) and set(data.figures["member"]) == {"beiqu"}
    assert [m.rule for m in found["R3"]] == ["R3"] and "坏区" in found["R3"][0].text


# --- a city over three districts, built through Dagster ---------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """示范市 as the demo makes it, its 示范区 a small synthetic district: 示范区 and 西区 run
    by the city, 北区 hands in its package; built through `nianbao build`'s own function."""
    from pipeline.demo import make_demo_city
    from pipeline.ops.region import build_region

    home = make_demo_city(tmp_path_factory.mktemp("city"), YEAR)
    result = build_region(home, YEAR, formats=("html", "md"))
    assert result.success, result.failures
    return home, result


def read_figures(home: Home) -> list[dict]:
    with open(home.reports_dir(YEAR) / "open-data" / "figures.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_city_open_data_has_each_district_and_totals_that_are_their_sums(city):
    home, result = city
    assert result.members == {"shifanqu": "编制完成", "xiqu": "编制完成", "beiqu": "已报送"}
    rows = read_figures(home)
    assert {r["unit"] for r in rows} == {"region", "shifanqu", "xiqu", "beiqu"}
    assert rows[0]["unit"] == "region"  # the totals first, as a district's open data has them
    totals = {(r["table"], r["row"], r["column"]): Decimal(r["value"]) for r in rows if r["unit"] == "region"}
    sums: dict = {}
    for r in rows:
        if r["unit"] != "region":
            key = (r["table"], r["row"], r["column"])
            sums[key] = sums.get(key, Decimal(0)) + Decimal(r["value"])
    assert totals == sums and len(totals) > 50
    assert {r["unit_name"] for r in rows if r["unit"] == "region"} == {"示范市"}


def test_each_member_figures_are_its_own_district_totals(city):
    """示范区's member figures are its own build's 全区 rows (its open data's district rows)."""
    home, _ = city
    from pipeline.steps.region import member_paths

    own = home.root / "members" / "shifanqu" / "reports" / str(YEAR) / "open-data" / "figures.csv"
    with open(own, encoding="utf-8") as f:
        district = {
            (r["table"], r["row"], r["column"]): r["value"]
            for r in csv.DictReader(f)
            if r["unit"] == "district"
        }
    import pandas as pd

    member = pd.read_parquet(member_paths(home, YEAR, "shifanqu")[0])
    assert dict(zip(zip(member["table"], member["row"], member["column"]), member["value"])) == district


def test_published_report_differing_by_one_figure_is_flagged(city):
    home, _ = city
    from pipeline.steps.region import read_checks

    checks = read_checks(home, YEAR)
    assert checks["R1"] == [] and checks["R3"] == []
    (flag,) = checks["R2"]
    with open(home.root / "members/beiqu/2025/figures.csv", encoding="utf-8") as f:
        package = {
            (r["table"], r["row"], r["column"]): r["value"]
            for r in csv.DictReader(f)
            if r["unit"] == "district"
        }
    compiled = package[("proactive", "licensing", "decisions")]
    assert (
        flag["unit"] == "beiqu"
        and flag["file"] == "published/2025/beiqu.html"
        and flag["severity"] == "ERROR"
    )
    for words in (
        "北区",
        "表二",
        "行政许可",
        "本年处理决定数量",
        f"为 {int(compiled) + 1}",
        f"为 {compiled}",
    ):
        assert words in flag["text"], (words, flag["text"])


def test_region_sum_check_names_a_cell_that_no_longer_adds_up(city):
    home, _ = city
    import pandas as pd

    from pipeline.home import write_parquet
    from pipeline.steps.region import check_sum, region_dir, region_year

    path = region_dir(home, YEAR) / "figures.parquet"
    original = pd.read_parquet(path)
    try:
        changed = original.copy()
        where = (
            (changed["table"] == "review_litigation")
            & (changed["row"] == "review")
            & (changed["column"] == "total")
        )
        before = changed.loc[where, "value"].iloc[0]
        changed.loc[where, "value"] = str(int(before) + 7)
        write_parquet(changed, path)
        (message,) = check_sum(home, region_year(home, YEAR), YEAR)
        assert message.rule == "R1" and "表四" in message.text and "总计" in message.text
        assert f"为 {int(before) + 7}" in message.text and f"之和为 {before}" in message.text
    finally:
        write_parquet(original, path)


def test_region_outputs_and_page(city):
    home, _ = city
    out = home.reports_dir(YEAR) / "region"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "示范市2025年政府信息公开工作年度报告" in report
    page = (out / "index.html").read_text(encoding="utf-8")
    for words in ("示范区（shifanqu）", "西区（xiqu）", "北区（beiqu）", "编制完成", "已报送", "按期", "差 1",
                  "R2", "published/2025/beiqu.html", 'href="report.html"',
                  '../../../members/shifanqu/reports/2025/report.html'):  # fmt: skip
        assert words in page, words
    status = json.loads((home.warehouse_dir(YEAR) / "region/members/xiqu.json").read_text(encoding="utf-8"))
    assert (
        status["source"] == "home" and status["on_time"] is True and status["received_at"].startswith("2026-")
    )


def test_definitions_partitions_and_district_to_region_lineage(city):
    home, _ = city
    from dagster import AssetKey, MultiToSingleDimensionPartitionMapping

    from pipeline.defs.region import build_region_definitions

    defs = build_region_definitions(str(home.root))
    graph = defs.resolve_asset_graph()
    members = graph.get(AssetKey("member_figures")).partitions_def
    assert {d.name for d in members.partitions_defs} == {"year", "district"}
    keys = members.get_partition_keys()
    assert "2025|shifanqu" in [str(k) for k in keys] or any(
        k.keys_by_dimension == {"year": "2025", "district": "beiqu"} for k in keys
    )
    districts = {k.keys_by_dimension["district"] for k in keys}
    assert districts == {"shifanqu", "xiqu", "beiqu"}
    region = graph.get(AssetKey("region_figures"))
    assert AssetKey("member_figures") in region.parent_keys
    mapping = region.partition_mappings[AssetKey("member_figures")]
    assert isinstance(mapping, MultiToSingleDimensionPartitionMapping)
    assert AssetKey("region_figures") in graph.get(AssetKey("region_page")).parent_keys
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert checks >= {"region_equals_members", "published_matches_compiled", "members_present_and_on_time"}


def test_code_location_picks_the_region_definitions(city, monkeypatch):
    home, _ = city
    import pipeline.defs.definitions as location
    from pipeline.defs.partitions import yearly_partitions

    monkeypatch.setenv("NIANBAO_HOME", str(home.root))
    defs = location.location_definitions()
    assert {j.name for j in defs.jobs} >= {"region_members", "region_year"}
    # A district's definitions point the shared yearly partitions at their home: put them back.
    monkeypatch.setattr(yearly_partitions, "home", yearly_partitions.home)
    monkeypatch.setenv("NIANBAO_HOME", str(home.root / "members" / "xiqu"))
    assert "yearly_report" in {j.name for j in location.location_definitions().jobs}


def test_a_published_member_is_read_from_its_report(tmp_path):
    """A district that hands in its published report: its figures are the report's, checked
    by the format's rules; the one changed figure of the demo's report is what it says."""
    import shutil

    from pipeline.demo import _package_member
    from pipeline.steps.region import intake_member, read_member

    region = region_home(tmp_path / "r", entry("beiqu", "北区") + entry("nanqu", "南区", "published"), ())
    _package_member(region.root, "beiqu", YEAR)
    (region.root / "members" / "nanqu" / str(YEAR)).mkdir(parents=True)
    shutil.copy(region.published_dir(YEAR) / "beiqu.html", region.root / "members/nanqu/2025/report.html")
    beiqu, nanqu = region_members(region)
    status = intake_member(region, nanqu, YEAR, None)
    assert status["state"] == "已报送" and status["file"] == "members/nanqu/2025/report.html", status
    assert intake_member(region, beiqu, YEAR, None)["state"] == "已报送"

    def licensing(member):
        f = read_member(region, YEAR, member)[0]
        cell = (f["table"] == "proactive") & (f["row"] == "licensing") & (f["column"] == "decisions")
        return int(f[cell]["value"].item())

    assert licensing(nanqu) == licensing(beiqu) + 1


def test_nianbao_build_on_a_bad_region_home_is_one_line_and_exit_2(tmp_path, capsys):
    from pipeline.cli import main

    region = region_home(tmp_path / "r", entry(source="ftp"))
    assert main(["build", "--home", str(region.root), "--year", str(YEAR)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ftp" in err and "Traceback" not in err, err


def test_a_member_folder_linking_outside_the_region_is_refused(tmp_path):
    from pipeline.steps.region import intake_member

    outside = tmp_path / "elsewhere"
    (outside / str(YEAR)).mkdir(parents=True)
    (outside / str(YEAR) / "figures.csv").write_text(HEADER, encoding="utf-8")
    region = region_home(tmp_path / "r", entry(), ())
    (region.root / "members").mkdir()
    (region.root / "members" / "a").symlink_to(outside)
    status = intake_member(region, region_members(region)[0], YEAR, None)
    assert status["state"] == "读取失败" and "数据目录之外" in status["reason"], status


def test_a_district_run_by_the_region_without_submissions_is_missing(tmp_path):
    from pipeline.steps.region import intake_member

    region = region_home(tmp_path / "r", entry("dongqu", "东区", "home"), ())
    write_home(region.root / "members" / "dongqu", [("A", "甲局")])
    status = intake_member(region, region_members(region)[0], YEAR, build=None)  # nothing to build
    assert status["state"] == "缺报" and "members/dongqu/inbox/2025/" in status["reason"], status
