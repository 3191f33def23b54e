"""`nianbao audit` and the audit assets over a folder of reports nianbao itself wrote
(HTML, Word, PDF), with planted problems: two bodies whose 五 is the same text (A1),
one whose 表三 was edited so that a column no longer adds up (N1), one whose 六 says
nothing of the 信息处理费 (P2), one whose 一 is last year's text (P5, last year from
audit/2022/), and a broken file (A2) that stops nothing else."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build, hand_in, valid_cells, write_home
from lxml import html as lxml_html

from pipeline.ingest.published.files import read_report
from pipeline.synth import to_csv
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE

REPO = Path(__file__).resolve().parents[1]
UNITS = [("A", "甲局"), ("B", "乙局"), ("C", "丙局"), ("D", "丁局"), ("E", "戊局")]
COPIED = (
    "一是信息公开平台的栏目设置不够清晰；二是答复文书的说理不够充分。\n下一步将梳理栏目设置，规范答复文书。"
)
# Each text ends on a short line: the PDF reader glues a heading to a paragraph whose last
# line fills the page's width (reported in issue 17; the reader is another change's).
OVERVIEW = "甲局坚持以公开为常态、不公开为例外，全面推进决策、执行、管理、服务、结果公开。\n依法办理申请。"


def text(cells: dict, row: str, value: str) -> dict:
    return {**cells, (NARRATIVE_TABLE, row, NARRATIVE_COLUMN): value}


def plant_n1(page: Path) -> str:
    """Add 1 to the 表三 “结转下年度继续办理·自然人” figure of an HTML report (N1 then fails
    for that column); returns the new figure."""
    report = read_report(page, 2023)
    cell = next(
        c
        for c in report.cells
        if (c.table, c.row, c.column) == ("applications", "carried_forward", "natural_person")
    )
    doc = lxml_html.document_fromstring(page.read_bytes().decode("utf-8"))
    table = [t for t in doc.iter("table") if not t.xpath(".//table")][cell.source.table - 1]
    tr = list(table.iter("tr"))[cell.source.row - 1]
    td = [c for c in tr if c.tag in ("td", "th")][cell.source.cell - 1]
    new = str(int(cell.value) + 1)
    td.text, td[:] = new, []
    page.write_bytes(lxml_html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>"))
    return new


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A folder of 2023 reports (and one 2022 report) as bodies would publish them."""
    source = write_home(tmp_path_factory.mktemp("source"), UNITS, first_year=2018)
    own = {code: valid_cells(2023, seed=i) for i, (code, _) in enumerate(UNITS, 1)}
    for i, (code, _) in enumerate(UNITS, 1):  # texts of their own (synthetic ones differ by name only)
        own[code] = text(own[code], "overview", f"本单位第{i}年开展政务公开工作。\n围绕第{i}项任务公开信息。")
        own[code] = text(
            own[code],
            "problems",
            f"一是第{i}项工作有待加强；二是培训不足。\n下一步将逐项改进，加强业务培训。",
        )
        own[code] = text(own[code], "other_matters", f"本年度未收取信息处理费。本单位办理第{i}批建议提案。")
    own["A"] = text(text(own["A"], "problems", COPIED), "overview", OVERVIEW)
    own["B"] = text(own["B"], "problems", COPIED)
    own["E"] = text(own["E"], "other_matters", "本单位按要求办理人大代表建议和政协提案，并公开办理结果。")
    for code, cells in own.items():
        hand_in(source, 2023, code, f"{code}.csv", to_csv(cells))
    hand_in(source, 2022, "A", "a.csv", to_csv(text(valid_cells(2022, seed=9), "overview", OVERVIEW)))
    build(source, 2022)
    build(source, 2023, formats=("html", "md", "docx", "pdf"), unit_documents=True)

    out = tmp_path_factory.mktemp("published")
    units = source.root / "reports" / "2023" / "publish" / "units"
    folder = out / "2023"
    folder.mkdir()
    for code, name in (
        ("A", "A.pdf"),
        ("B", "B.docx"),
        ("C", "C.html"),
        ("D", "丁局2023年报.html"),
        ("E", "E.docx"),
    ):
        shutil.copyfile(units / f"{code}{Path(name).suffix}", folder / name)
    planted = plant_n1(folder / "丁局2023年报.html")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nnot a PDF at all\n")
    last = out / "2022"
    last.mkdir()
    shutil.copyfile(source.root / "reports" / "2022" / "units" / "A.html", last / "甲局.html")
    return {"folder": folder, "last": last, "planted": planted}


def audit_home(tmp_path: Path, published: dict):
    home = write_home(tmp_path / "home", [("X", "某局")])
    shutil.copytree(published["last"], home.audit_dir(2022))
    return home


def findings(home) -> list[dict]:
    return list(
        csv.DictReader(io.StringIO((home.reports_dir(2023) / "audit" / "audit.csv").read_text("utf-8")))
    )


def check_findings(rows: list[dict], planted: str) -> None:
    by = {(r["body"], r["rule"]) for r in rows}
    assert ("甲局", "A1") in by and ("乙局", "A1") in by
    assert not {b for b, rule in by if rule == "A1"} - {"甲局", "乙局"}
    n1 = [r for r in rows if r["rule"] == "N1"]
    assert n1 and {r["body"] for r in n1} == {"丁局"} and n1[0]["severity"] == "错误"
    assert n1[0]["file"] == "丁局2023年报.html" and planted in n1[0]["message"]
    assert [r["body"] for r in rows if r["rule"] == "P2"] == ["戊局"]
    p5 = [r for r in rows if r["rule"] == "P5"]
    assert [(r["body"], r["location"]) for r in p5] == [("甲局", "一、总体情况")]
    [broken] = [r for r in rows if r["file"] == "broken.pdf"]
    assert (broken["body"], broken["rule"], broken["severity"]) == ("broken", "A2", "错误")
    assert "PDF 文件已损坏" in broken["message"]
    # Every other body was read: no A2–A5 for them.
    assert not [r for r in rows if r["rule"] in ("A2", "A3", "A4", "A5") and r["file"] != "broken.pdf"]


def test_the_command_audits_the_folder_through_dagster(published, tmp_path):
    home = audit_home(tmp_path, published)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "audit", str(published["folder"]), "--year", "2023",
         "--home", str(home.root)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # errors found (N1, A2)
    assert "Traceback" not in done.stderr
    assert "已把 6 份报告放入" in done.stdout
    assert "无法读取 1 份" in done.stdout and "丁局（丁局2023年报.html）：有错误" in done.stdout
    check_findings(findings(home), published["planted"])

    page = (home.reports_dir(2023) / "audit" / "index.html").read_text("utf-8")
    doc = lxml_html.document_fromstring(page)
    rows = doc.xpath("//table[@class='units']/tbody/tr")
    assert len(rows) == 6
    names = [r.xpath("./td[1]")[0].text_content() for r in rows]
    assert "broken（名称取自文件名）" in names and "甲局" in names
    ding = next(r for r in rows if r.xpath("./td[1]")[0].text_content() == "丁局")
    link = next(a for a in ding.xpath(".//li[contains(., '【N1】')]/a"))
    assert link.get("href") == "../../../audit/2023/%E4%B8%81%E5%B1%802023%E5%B9%B4%E6%8A%A5.html"
    assert link.text.startswith("网页第") and "表格第" in link.text
    # A finding on a PDF's table cell opens the document at its page.
    jia = next(r for r in rows if r.xpath("./td[1]")[0].text_content() == "甲局")
    pdf_links = [a.get("href") for a in jia.xpath(".//li/a") if a.text.startswith("第 ")]
    assert pdf_links and all(h.startswith("../../../audit/2023/A.pdf#page=") for h in pdf_links)

    # The run is in the home's instance, its reading steps in their own processes.
    from pipeline.ops.instance import open_instance

    with open_instance(home) as instance:
        [run] = instance.get_run_records()
        assert (
            run.dagster_run.job_name == "audit_reports"
            and run.dagster_run.tags["dagster/partition"] == "2023"
        )
        pids = {
            e.dagster_event.pid
            for e in instance.all_logs(run.dagster_run.run_id)
            if e.dagster_event
            and e.dagster_event.event_type_value == "STEP_START"
            and e.step_key.startswith("audit_reads_")
        }
        assert len(pids) == 2 and os.getpid() not in pids


def test_the_assets_materialize_and_reuse_their_reads(published, tmp_path):
    from dagster import materialize

    from pipeline.defs.assets.audit import audit_reads, published_audit
    from pipeline.defs.resources import NianbaoHome
    from pipeline.steps import audit

    home = audit_home(tmp_path, published)
    shutil.copytree(published["folder"], home.audit_dir(2023))
    assets = [*audit_reads, published_audit]
    resources = {"audit_home": NianbaoHome(path=str(home.root))}
    assert materialize(assets, partition_key="2023", resources=resources).success
    check_findings(findings(home), published["planted"])

    # Second run: nothing read again (every read comes from the cache, by content hash).
    calls = []
    original = audit.read_one
    audit.read_one = lambda *a: calls.append(a) or original(*a)
    try:
        assert materialize(assets, partition_key="2023", resources=resources).success
        assert calls == []
        # One file changed: only it is read again.
        (home.audit_dir(2023) / "broken.pdf").write_bytes(b"%PDF-1.4\nstill broken, differently\n")
        assert materialize(assets, partition_key="2023", resources=resources).success
        assert [Path(a[0]).name for a in calls] == ["broken.pdf"]
    finally:
        audit.read_one = original


def test_a_reader_that_breaks_is_one_finding_for_its_file(published, tmp_path, monkeypatch):
    """Whatever fails inside reading one file (here the Word reader itself) is that file's
    A2; the other files are audited as usual."""
    from pipeline.ingest.published import files
    from pipeline.steps.audit import audit_year, read_year

    home = audit_home(tmp_path, published)
    shutil.copytree(published["folder"], home.audit_dir(2023))

    def broken_reader(data, year):
        raise RuntimeError("boom")

    monkeypatch.setitem(files.READERS, "docx", broken_reader)
    result = audit_year(home, 2023, read_year(home, 2023), read_year(home, 2022))
    unexpected = [m for m in result.findings if m.rule == "A2" and m.file.endswith(".docx")]
    assert sorted(m.file for m in unexpected) == ["B.docx", "E.docx"]
    assert all("RuntimeError" in m.text for m in unexpected)
    status = dict(zip(result.bodies["file"], result.bodies["status"]))
    assert status["B.docx"] == "unread" and status["丁局2023年报.html"] == "errors"


def test_body_names_from_title_or_file_name():
    from pipeline.steps.audit import body_name

    assert body_name(
        {"preamble": "征求意见稿\n北京市东城区人民政府2023年政府信息公开工作年度报告"}, "x.pdf"
    ) == (
        "北京市东城区人民政府",
        "title",
    )
    assert body_name({"preamble": "某某局2023年度政府信息公开工作年度报告本报告根据"}, "x.pdf")[0] == "某某局"
    assert body_name({}, "丁局2023年政府信息公开工作年度报告.docx") == ("丁局", "file")
    assert body_name({}, "2023年报.pdf") == ("2023年报", "file")


def test_the_command_refuses_a_year_without_a_printed_form(tmp_path):
    home = write_home(tmp_path / "home", [("X", "某局")])
    (tmp_path / "in").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "audit", str(tmp_path / "in"), "--year", "2015", "--home", str(home.root)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "旧格式" in done.stderr and "Traceback" not in done.stderr


def test_the_audit_cache_is_data_and_a_damaged_one_is_ignored(tmp_path):
    from pipeline.steps.audit import ReadReport, cached_reads, save_cache

    path = tmp_path / "audit_cache.json"
    read = ReadReport(file="a.html", sha256="x", kind="html", body="甲局", named_by="title",
                      cells=[("applications", "received", "total", "3", "网页第 1 个表格", 0, "3")])  # fmt: skip
    save_cache(path, [("k", read)])
    assert cached_reads(path) == {"k": read}
    for damage in (b"\x80\x04garbage", b"[]", b'{"version": "1", "reads": {"k": {"file": 1}}}'):
        path.write_bytes(damage)
        assert cached_reads(path) == {}
