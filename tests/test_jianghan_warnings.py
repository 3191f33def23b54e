"""The published 2017 Jianghan report contradicts itself in places. Built from the
demo home, each contradiction shows up as a WARNING naming the figures and the
rule — in the validation messages, in validation.html and in the Dagster asset
check — and a corrected submission clears it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from test_jianghan_golden import DEMO, build_year, copy_demo

from pipeline.home import Home, read_parquet
from pipeline.ingest.read import read_submission
from schemas.catalogue import FileOrigin
from schemas.legacy import load_format
from schemas.rules import check_cells

YEAR = 2017


def _make_inbox():
    spec = importlib.util.spec_from_file_location("jianghan_make_inbox", DEMO / "make_inbox.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# rule, unit, what the message must name, the corrected figures that clear it
INCONSISTENCIES = [
    pytest.param(
        "JH3", "office",
        ["“在规定时间内办结”63件", "“不属于本行政机关公开数”63件", "“告知作出更改补充数”7件",
         "“告知通过其他途径办理数”63件", "合计 133", "各项办理结果之和应等于办结的申请数"],
        {("applications", "not_ours"): "56", ("applications", "other_route"): "0"},
        id="applications-outcomes-133-vs-63",
    ),
    pytest.param(
        "JH4", "bianban",
        ["“核定事业编制”5309名", "“其中：区直属事业单位编制”60名", "“其中：部门所属事业单位各类事业编制”5309名",
         "合计 5369", "核定事业编制应等于区直属事业单位编制与部门所属事业单位编制之和"],
        {("staffing", "pi_dept_quota"): "5249"},
        id="institution-quota-5309-vs-60+5309",
    ),
    pytest.param(
        "JH7", "bianban",
        ["“落实事业单位实有人数”5841人", "应不大于 “核定事业编制”5309名", "事业单位实有人数不应超过核定事业编制"],
        {("staffing", "pi_staff"): "5300"},
        id="institution-staff-5841-over-quota-5309",
    ),
    pytest.param(
        "L2", "hotline",
        ["“当场处理来电占比（单位自报）”32%", "“当场处理来电”746件", "“受理群众来电”2275人次", "32.79%",
         "印作33%"],
        {("hotline", "on_the_spot_pct"): "33"},
        id="hotline-on-the-spot-32-vs-32.8",
    ),
    pytest.param(
        "L2", "hotline",
        ["“跟踪督办占比（单位自报）”1%", "“对重点疑难问题跟踪督办”9件", "0.40%", "印作0.4%"],
        {("hotline", "supervised_pct"): "0.4"},
        id="hotline-supervised-1-vs-0.4",
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def built(built_demo):
    home, results = built_demo("jianghan", [YEAR])  # shared, read only
    return home, results[YEAR]


def _messages(home: Home) -> pd.DataFrame:
    return read_parquet(home.warehouse_dir(YEAR) / "messages.parquet")


def _find(frame: pd.DataFrame, rule: str, unit: str, needles: list[str]) -> pd.DataFrame:
    hits = frame[(frame["rule"] == rule) & (frame["unit"] == unit) & (frame["severity"] == "WARNING")]
    return hits[[all(n in text for n in needles) for text in hits["text"]]]


@pytest.mark.parametrize(("rule", "unit", "needles", "correction"), INCONSISTENCIES)
def test_published_inconsistency_is_a_warning(built, rule, unit, needles, correction):
    home, result = built
    hits = _find(_messages(home), rule, unit, needles)
    assert len(hits) == 1, _messages(home)[["rule", "code", "text"]].to_string()
    # In the validation report the office reads …
    html = (home.reports_dir(YEAR) / "validation.html").read_text(encoding="utf-8")
    assert needles[0].replace("“", "").replace("”", "") in html.replace("“", "").replace("”", "")
    # … and in the Dagster asset check.
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == "unit_warnings")
    assert not evaluation.passed
    records = evaluation.metadata["failure_table"].records
    assert any(r.data["rule"] == rule and all(n in r.data["message"] for n in needles) for r in records)


def test_the_published_figures_raise_exactly_these_warnings(built):
    home, _ = built
    messages = _messages(home)
    assert set(messages["severity"]) == {"WARNING"}
    assert sorted(zip(messages["rule"], messages["unit"])) == sorted(
        [(p.values[0], p.values[1]) for p in INCONSISTENCIES]
    )
    status = read_parquet(home.warehouse_dir(YEAR) / "status.parquet")
    assert set(status["status"]) == {"accepted"}  # warnings never reject: the office decides


def demo_cells(home: Home) -> pd.DataFrame:
    """Every unit's demo submission parsed as the pipeline parses it (each unit's
    workbook holds only its own indicators)."""
    fmt = load_format(home.root, YEAR)
    frames = []
    for folder in sorted(home.inbox_dir(YEAR).iterdir()):
        for path in folder.iterdir():
            parsed = read_submission(
                path.read_bytes(),
                fmt=fmt.for_unit(folder.name),
                origin=FileOrigin(folder.name, folder.name, path.name),
                year=YEAR,
            )
            assert not parsed.problems, parsed.problems
            frames.append(parsed.cells.assign(unit=folder.name, year=YEAR, file=path.name))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("rule", "unit", "needles", "correction"), INCONSISTENCIES)
def test_corrected_submission_clears_the_warning(built, rule, unit, needles, correction):
    home, _ = built
    fmt = load_format(home.root, YEAR)
    cells = demo_cells(home)
    before = check_cells(cells, fmt).messages
    assert any(m.rule == rule and m.unit == unit and needles[0] in m.text for m in before)
    for (table, row), value in correction.items():
        mask = (cells["unit"] == unit) & (cells["table"] == table) & (cells["row"] == row)
        assert mask.sum() == 1
        cells.loc[mask, "raw"] = value
    after = check_cells(cells, fmt).messages
    assert not any(m.rule == rule and m.unit == unit and needles[0] in m.text for m in after)
    assert len(after) == len(before) - 1  # nothing else changed


def test_corrected_files_rebuild_without_warnings(tmp_path):
    """All corrections handed in as files (CSV replacing the workbooks): a clean build."""
    home = copy_demo(tmp_path / "jianghan")
    make_inbox = _make_inbox()
    figures = {u: {t: dict(v) for t, v in tables.items()} for u, tables in make_inbox.FIGURES.items()}
    for param in INCONSISTENCIES:
        _, unit, _, correction = param.values
        for (table, row), value in correction.items():
            figures[unit][table][row] = value
    for unit in ("office", "bianban", "hotline"):
        folder = home.inbox_dir(YEAR) / unit
        for old in folder.iterdir():
            old.unlink()
        (folder / f"{YEAR}-{unit}-更正.csv").write_bytes(make_inbox.csv_bytes(figures[unit], unit))
    build_year(home, YEAR)
    assert _messages(home).empty
    md = (home.reports_dir(YEAR) / "report.md").read_text(encoding="utf-8")
    assert "部门所属事业单位各类事业编制5249名" in md


def test_demo_inbox_is_what_the_generator_writes(tmp_path):
    """The committed submission files carry the generator's figures."""
    home = copy_demo(tmp_path / "jianghan")
    cells = demo_cells(home)
    make_inbox = _make_inbox()
    got = {(u, t, r): v for u, t, r, v in zip(cells["unit"], cells["table"], cells["row"], cells["raw"])}
    from schemas.numbers import parse_number

    want = {
        (u, t, r): v
        for u, tables in make_inbox.FIGURES.items()
        for t, rows in tables.items()
        for r, v in rows.items()
    }
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert parse_number(got[key]) == parse_number(value), key
    kinds = {p.suffix for p in Path(home.inbox_dir(YEAR)).rglob("*.*")}
    assert kinds == {".xlsx", ".csv"}
