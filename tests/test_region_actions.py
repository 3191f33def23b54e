"""The region assets' use of the cards and notices (pipeline/render/region_cards.py): a
region home on disk with its members' figures and statuses as the member intake writes
them, the cards section of the region page, and one 整改通知 per member with the
member's findings and the region's checks about it."""

from __future__ import annotations

import json
from datetime import date

import docx
import pandas as pd
import pytest

from pipeline.home import Home, write_parquet
from pipeline.render.region_cards import cards_section, notices_section, write_region_notices
from pipeline.steps.region import FIGURE_COLUMNS, member_paths, region_dir
from schemas.errors import HomeError

YEAR = 2025
HOME_TOML = """\
district = "示范市"
government = "示范市人民政府办公室"
level = "设区的市"
[region]
rectify_days = 10
[indicators.disclosure_rate]
red = 50
yellow = 70
[[members]]
code = "dongqu"
name = "东区"
source = "package"
[[members]]
code = "nanqu"
name = "南区"
source = "package"
[[members]]
code = "zhongqu"
name = "中区"
source = "package"
"""


def status(code: str, name: str, state: str, findings: list[dict]) -> dict:
    return {"member": code, "name": name, "year": YEAR, "source": "package", "state": state, "reason": "",
            "file": f"members/{code}/{YEAR}/figures.csv", "received_at": "2026-03-01T00:00:00+00:00",
            "on_time": True, "errors": 0, "warnings": len(findings), "copy_paste": 0, "figures": 3,
            "findings": findings}  # fmt: skip


def write_member(region: Home, code: str, name: str, cells: dict, findings: list[dict]) -> None:
    figures, state = member_paths(region, YEAR, code)
    rows = [(code, t, r, c, str(v)) for (t, r, c), v in cells.items()]
    write_parquet(pd.DataFrame(rows, columns=FIGURE_COLUMNS), figures)
    state.write_text(json.dumps(status(code, name, "已报送", findings), ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def region(tmp_path) -> Home:
    root = tmp_path / "city"
    for code in ("dongqu", "nanqu", "zhongqu"):
        (root / "members" / code).mkdir(parents=True)
    (root / "home.toml").write_text(HOME_TOML, encoding="utf-8")
    home = Home.resolve(root)
    applications = {("applications", "disclosed", "total"): 24, ("applications", "partially_disclosed", "total"): 6,
                    ("applications", "handled_total", "total"): 50}  # fmt: skip
    write_member(home, "dongqu", "东区", applications, [])
    copy = {"rule": "P5", "severity": "WARNING", "table": "narrative", "row": "overview", "column": "text",
            "location": "", "message": "【P5】提醒 南区教育局（JYJ）｜2025.xlsx：“一、总体情况”与上一年度完全相同。"}  # fmt: skip
    write_member(home, "nanqu", "南区", {("applications", "handled_total", "total"): 12}, [copy])
    r2 = {"severity": "ERROR", "rule": "R2", "unit": "nanqu", "unit_label": "南区（nanqu）", "file": "", "sheet": "",
          "location": "", "text": "x", "line": "【R2】错误 南区（nanqu）：已公开的年报中表三为 56，而其编制的数字为 55。"}  # fmt: skip
    other = dict(r2, unit="dongqu", line="【R2】错误 东区（dongqu）：别的地区。")
    missing = {"severity": "WARNING", "rule": "R3", "unit": "zhongqu", "unit_label": "中区（zhongqu）", "file": "",
               "sheet": "", "location": "", "text": "x", "line": "【R3】提醒 中区（zhongqu）：2025 年度缺报。"}  # fmt: skip
    checks = {"R1": [], "R2": [r2, other], "R3": [missing], "prose": []}
    (region_dir(home, YEAR) / "checks.json").write_text(
        json.dumps(checks, ensure_ascii=False), encoding="utf-8"
    )
    return home


def test_cards_section_per_member_with_the_homes_thresholds(region):
    section = cards_section(region, YEAR)
    assert section.id == "indicator-cards"
    east = section.html.split('data-district="nanqu"')[0]
    # 30 / 50 = 60.0%: yellow under this home's lines (red 50, yellow 70), green by default.
    assert 'data-indicator="disclosure_rate" data-level="yellow"' in east and "60.0%" in east
    south = section.html.split('data-district="nanqu"')[1].split('data-district="zhongqu"')[0]
    assert 'data-level="none"' in south and "只有 12 件，少于 30 件" in south
    middle = section.html.split('data-district="zhongqu"')[1]
    assert "本年度没有已采用的数字（缺报），不出卡片" in middle and "<li" not in middle


def test_notices_per_member_with_its_findings_and_checks(region):
    paths = write_region_notices(region, YEAR, date(2026, 4, 1))
    assert [p.name for p in paths] == ["dongqu.docx", "nanqu.docx", "zhongqu.docx"]
    assert all(p.parent == region.reports_dir(YEAR) / "region" / "notices" for p in paths)
    south = docx.Document(paths[1])
    rows = [[c.text for c in r.cells] for r in south.tables[0].rows]
    assert len(rows) == 3 and rows[1][1].startswith("【R2】错误 南区") and rows[2][1].startswith("【P5】")
    assert rows[2][1].endswith("完全相同。（“一、总体情况”部分）")
    assert all(r[3] == "2026年4月11日" for r in rows[1:])  # rectify_days = 10
    assert "关于南区2025年度" in south.paragraphs[0].text
    middle = docx.Document(paths[2])
    assert "2025 年度缺报" in middle.tables[0].rows[1].cells[1].text
    east = docx.Document(paths[0])
    assert [r.cells[1].text for r in east.tables[0].rows[1:]] == ["【R2】错误 东区（dongqu）：别的地区。"]
    before = [p.read_bytes() for p in paths]
    write_region_notices(region, YEAR, date(2026, 4, 1))
    assert [p.read_bytes() for p in paths] == before
    links = notices_section(region, YEAR).html
    assert 'href="notices/nanqu.docx"' in links and "南区（nanqu）" in links


def test_bad_thresholds_stop_the_cards_with_the_homes_message(region):
    toml = region.root / "home.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("yellow = 70", "yellow = 40"), encoding="utf-8")
    with pytest.raises(HomeError, match="越高越好"):
        cards_section(region, YEAR)


def test_region_definitions_have_the_notices_asset_in_the_years_job(tmp_path):
    from pipeline.defs.region import build_region_definitions
    from pipeline.demo import make_demo_city

    city = make_demo_city(tmp_path, YEAR)
    defs = build_region_definitions(str(city.root))
    job = defs.resolve_job_def("region_year")
    assert "region_notices" in job.graph.node_dict
    graph = defs.resolve_asset_graph()
    page = graph.get(next(k for k in graph.get_all_asset_keys() if k.path == ["region_page"]))
    assert any(k.path == ["region_notices"] for k in page.parent_keys)


def test_city_built_through_dagster_has_cards_and_notices(tmp_path):
    """示范市 built as `nianbao build` builds it: the page shows every member's cards and
    links the notices; 北区's notice lists its published-vs-compiled difference (R2)."""
    from pipeline.demo import make_demo_city
    from pipeline.ops.region import build_region

    city = make_demo_city(tmp_path, YEAR)
    assert build_region(city, YEAR, formats=("html",)).success
    page = (city.reports_dir(YEAR) / "region" / "index.html").read_text(encoding="utf-8")
    for code in ("shifanqu", "xiqu", "beiqu"):
        assert f'data-district="{code}"' in page and f'href="notices/{code}.docx"' in page
    assert page.count('data-indicator="disclosure_rate"') == 3
    notice = docx.Document(city.reports_dir(YEAR) / "region" / "notices" / "beiqu.docx")
    rows = [(r.cells[1].text, r.cells[2].text) for r in notice.tables[0].rows[1:]]
    assert any(p.startswith("【R2】错误 北区（beiqu）") and "已公开的年度报告" in fix for p, fix in rows)
