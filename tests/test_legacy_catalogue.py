"""The coordinating office's indicator catalogue (catalogue/<year>.toml) becomes a
ReportFormat; a missing or malformed catalogue is a clear Chinese error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.home import HomeError
from schemas import format_for_year
from schemas.legacy import load_format
from schemas.rules import check_cells

CATALOGUE = """
name = "测试区2016年度统计指标"
sections = ["一、概述", "二、数字"]

[[tables]]
code = "hotline"
title = "热线受理情况"
owner = "H"

[[tables.indicators]]
code = "calls"
label = "受理来电"
unit = "件"
type = "count"

[[tables.indicators]]
code = "complaints"
label = "投诉类"
unit = "件"
type = "count"
group = "按类别"

[[tables.indicators]]
code = "others"
label = "其他类"
unit = "件"
type = "count"
group = "按类别"

[[tables.indicators]]
code = "complaints_pct"
label = "投诉类占比"
type = "share"
part = "complaints"
whole = "calls"
shares_of = "类别"

[[tables.indicators]]
code = "others_pct"
label = "其他类占比"
type = "share"
part = "others"
whole = "calls"
shares_of = "类别"

[[tables.indicators]]
code = "on_time_rate"
label = "按期办结率"
type = "rate"

[[tables]]
code = "money"
title = "资金"
owner = ["M", "H"]

[[tables.indicators]]
code = "amount"
label = "公开资金"
unit = "万元"
type = "decimal"

[[texts]]
code = "story"
label = "热线工作情况"
owner = "H"

[[relations]]
id = "R1"
rule = "hotline.calls == hotline.complaints + hotline.others"
description = "来电总数等于各类之和"

[[relations]]
id = "R2"
rule = "complaints <= calls"
severity = "ERROR"

[[relations]]
id = "R3"
rule = "money.amount <= 100 * hotline.calls"
"""


def make_home(root: Path, catalogue: str = CATALOGUE, year: int = 2016) -> Path:
    (root / "registry").mkdir(parents=True, exist_ok=True)
    (root / "catalogue").mkdir(exist_ok=True)
    (root / "home.toml").write_text('district = "测试区"\ngovernment = "测试区人民政府"\n', encoding="utf-8")
    (root / "registry" / "units.csv").write_text(
        "code,name,kind,first_year,last_year\nH,热线办,部门,2008,\nM,财政局,部门,2008,\n", encoding="utf-8"
    )
    (root / "catalogue" / f"{year}.toml").write_text(catalogue, encoding="utf-8")
    return root


def cells(lines: dict[str, dict[tuple[str, str], str]]) -> pd.DataFrame:
    records = []
    for unit, values in lines.items():
        for i, ((table, row), value) in enumerate(values.items(), 2):
            records.append(dict(unit=unit, year=2016, table=table, row=row, column="value", raw=value,
                                file=f"{unit}.csv", sheet="", location=f"第 {i} 行"))  # fmt: skip
    return pd.DataFrame(records)


HOTLINE = {
    ("hotline", "calls"): "200",
    ("hotline", "complaints"): "150",
    ("hotline", "others"): "50",
    ("hotline", "complaints_pct"): "75",
    ("hotline", "others_pct"): "25",
    ("hotline", "on_time_rate"): "99.5",
    ("money", "amount"): "10.5",
}


def test_catalogue_becomes_a_format(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    assert fmt.code == "legacy" and fmt.template_dir == "legacy" and fmt.name == "测试区2016年度统计指标"
    hotline = fmt.tables["hotline"]
    assert hotline.layout == "blocks"
    assert [b.heading for b in hotline.blocks] == [None, "按类别", None]
    assert hotline.row("calls").label == "受理来电（件）"
    kinds = fmt.cell_kinds()
    assert kinds[("hotline", "calls", "value")] == "count"
    assert kinds[("hotline", "complaints_pct", "value")] == "share"
    assert kinds[("hotline", "on_time_rate", "value")] == "share"
    assert kinds[("money", "amount", "value")] == "decimal"
    assert kinds[("narrative", "story", "text")] == "text"
    assert fmt.rule("R1").severity == "WARNING" and fmt.rule("R2").severity == "ERROR"
    assert [s.heading for s in fmt.sections][:2] == ["一、概述", "二、数字"]


def test_clean_figures_pass(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    assert check_cells(cells({"H": HOTLINE, "M": {("money", "amount"): "3"}}), fmt).messages == []


def test_relation_failure_names_the_figures_and_the_rule(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    bad = dict(HOTLINE) | {("hotline", "others"): "40"}
    messages = check_cells(cells({"H": bad}), fmt, unit_names={"H": "热线办"}).messages
    r1 = [m for m in messages if m.rule == "R1"]
    assert len(r1) == 1 and r1[0].severity == "WARNING" and r1[0].unit == "H"
    assert "“受理来电”200件" in r1[0].text and "“其他类”40件" in r1[0].text and "合计 190" in r1[0].text
    assert "来电总数等于各类之和" in r1[0].text and r1[0].location == "第 2 行"


def test_error_relation_rejects(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    bad = dict(HOTLINE) | {("hotline", "complaints"): "250"}
    messages = check_cells(cells({"H": bad}), fmt).messages
    assert [m.severity for m in messages if m.rule == "R2"] == ["ERROR"]


def test_relation_across_owners_uses_district_totals(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    # money.amount is owned by M and H together; 100 × calls = 20000 ≥ 15000 + 6000? No: 21000.
    data = {"H": dict(HOTLINE) | {("money", "amount"): "15000"}, "M": {("money", "amount"): "6000"}}
    r3 = [m for m in check_cells(cells(data), fmt).messages if m.rule == "R3"]
    assert len(r3) == 1 and "21000" in r3[0].text


def test_share_cross_check_and_sum(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    ok = dict(HOTLINE) | {("hotline", "complaints_pct"): "75.4", ("hotline", "others_pct"): "25.4"}
    assert check_cells(cells({"H": ok}), fmt).messages == []  # within 0.5 points; sum 100.8 within ±1
    bad = dict(HOTLINE) | {("hotline", "complaints_pct"): "74.5"}  # 0.5 points off, and sum 99.5
    rules = sorted(m.rule for m in check_cells(cells({"H": bad}), fmt).messages)
    assert rules == ["L2"]
    worse = dict(HOTLINE) | {("hotline", "complaints_pct"): "70", ("hotline", "others_pct"): "20"}
    rules = sorted(m.rule for m in check_cells(cells({"H": worse}), fmt).messages)
    assert rules == ["L2", "L2", "L3"]


def test_share_over_100_is_a_cell_kind_error(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    bad = dict(HOTLINE) | {("hotline", "on_time_rate"): "100.5"}
    assert [(m.rule, m.severity) for m in check_cells(cells({"H": bad}), fmt).messages] == [("N5", "ERROR")]


def test_owner_rules(tmp_path):
    fmt = format_for_year(2016, make_home(tmp_path))
    messages = check_cells(cells({"H": HOTLINE, "M": {("hotline", "calls"): "1"}}), fmt).messages
    l1 = [m for m in messages if m.rule == "L1"]
    assert len(l1) == 1 and l1[0].unit == "M" and l1[0].severity == "ERROR"
    partial = {k: v for k, v in HOTLINE.items() if k[1] != "on_time_rate"}
    l4 = [m for m in check_cells(cells({"H": partial}), fmt).messages if m.rule == "L4"]
    assert len(l4) == 1 and "按期办结率" in l4[0].text and l4[0].severity == "WARNING"


def test_missing_catalogue(tmp_path):
    root = make_home(tmp_path)
    with pytest.raises(HomeError, match=r"缺少 2015 年度的统计指标目录.*catalogue/2015\.toml"):
        load_format(root, 2015)


def test_legacy_year_needs_a_home():
    with pytest.raises(HomeError, match="请指定数据目录"):
        format_for_year(2016)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.replace('type = "decimal"', 'type = "money"'), "type“money”不对"),
        (lambda c: c.replace('owner = ["M", "H"]', 'owner = ["M", "X"]'), "报送单位“X”不在单位名册中"),
        (lambda c: c.replace("hotline.others\"", "hotline.nothing\""), "指标“hotline.nothing”不存在"),
        (lambda c: c.replace('rule = "complaints <= calls"', 'rule = "complaints calls"'), "应含 ==、<= 或 >="),
        (lambda c: c.replace('id = "R2"', 'id = "R1"'), "id 重复"),
        (lambda c: c.replace('code = "money"', 'code = "hotline"'), "code 重复"),
        (lambda c: c.replace('part = "others"', 'part = "on_time_rate"'), "应引用数量（count）类指标"),
        (lambda c: c + "\n[[tables]]\ncode = \"x\"\n", "缺少标题 title"),
        (lambda c: "stray = 1\n" + c, "不认识的项“stray”"),
        (lambda c: c.replace('severity = "ERROR"', 'severty = "ERROR"'), "关系“R2”：不认识的项“severty”"),
        (lambda c: c.replace('severity = "ERROR"', 'severity = "FATAL"'), "severity 应为 WARNING 或 ERROR"),
        (lambda c: c.replace("[[tables]]", "[[tables]", 1), "不是合法的 TOML"),
    ],
)  # fmt: skip
def test_malformed_catalogue_is_a_clear_error(tmp_path, change, message):
    root = make_home(tmp_path, change(CATALOGUE))
    with pytest.raises(HomeError) as info:
        load_format(root, 2016)
    text = str(info.value)
    assert "catalogue/2016.toml" in text
    assert message in text, text


def test_share_with_several_owners_is_refused(tmp_path):
    broken = CATALOGUE.replace('type = "decimal"', 'type = "share"')
    with pytest.raises(HomeError, match="只能由一个单位报送"):
        load_format(make_home(tmp_path, broken), 2016)


def test_catalogue_is_reread_when_it_changes(tmp_path):
    import os

    root = make_home(tmp_path)
    first = load_format(root, 2016)
    assert load_format(root, 2016) is first
    path = root / "catalogue" / "2016.toml"
    path.write_text(CATALOGUE.replace("测试区2016年度统计指标", "改过的名称"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load_format(root, 2016).name == "改过的名称"


def test_n7_does_not_apply_after_a_legacy_year(tmp_path):
    """2019 (trial) after 2018 (legacy): the office's catalogue may well have a table
    called "applications", but it carries nothing forward, so N7 has nothing to compare."""
    import random

    from pipeline.synth import UnitHistory, submission
    from schemas.rules import prepare
    from schemas.trial_2019 import FORMAT as TRIAL

    catalogue = CATALOGUE.replace('code = "hotline"\ntitle', 'code = "applications"\ntitle').replace(
        "hotline.", "applications."
    )
    legacy = load_format(make_home(tmp_path, catalogue, year=2018), 2018)
    assert "applications" in legacy.tables
    last_year = cells({"H": {("applications", "calls"): "5"}}).assign(year=2018)
    previous = prepare(last_year, legacy)
    this_year = submission(TRIAL, "热线办", 2019, random.Random(8), UnitHistory())
    this_year[("applications", "carried_over", "natural_person")] = "1"
    this_year[("applications", "carried_over", "total")] = "1"
    this_year[("applications", "received", "natural_person")] = str(
        int(this_year[("applications", "received", "natural_person")]) - 1
    )
    this_year[("applications", "received", "total")] = str(
        int(this_year[("applications", "received", "total")]) - 1
    )
    frame = pd.DataFrame(
        [
            dict(unit="H", year=2019, table=t, row=r, column=c, raw=v, file="h.csv", sheet="", location="")
            for (t, r, c), v in this_year.items()
        ]
    )
    messages = check_cells(frame, TRIAL, previous=previous, previous_format=legacy).messages
    assert messages == []
