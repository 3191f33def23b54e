"""`nianbao audit` over the real reports of tests/field/ (issue 17): every report of 2023 and
2024 in its published form — page.html where the corpus has the page's HTML, the PDF
(hzq-*), else the archived page text, which is refused as a flattened page — with the 2022
ones as last year's. Every finding on audit.csv and the audit page is one reviewed below
(a missing one is a rule that missed a real problem, an extra one a false alarm)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_home
from lxml import html as lxml_html

REPO = Path(__file__).resolve().parents[1]
FIELD = REPO / "tests" / "field"
YEARS = (2023, 2024)
REPORT = "政府信息公开工作年度报告"

# The reviewed findings of the reports read (slug -> (rule, location) each, with why).
HZQ_A5 = [("A5", "表三")] * 7  # 表三 “2.其他法律行政止公开”: the row's label misprinted, its 7 cells not read
REVIEWED = {
    "hzq-2023": [
        # 表四 prints 行政复议 维持 10 纠正 1 其他 0 尚未审结 0 总计 0 (11), 复议后起诉 维持 5 … 总计 0 (5)
        ("N4", "第 4 页第 2 个表格第 4 行第 5 列"),
        ("N4", "第 4 页第 2 个表格第 4 行第 15 列"),
        ("A6", ""),  # 表三 printed in the 2019 trial form (（六）其他处理 one row)
        *HZQ_A5,
    ],
    "hzq-2024": [
        ("A6", ""),  # as 2023
        *HZQ_A5,
        # 一 says "区政府办代表区政府受理政府信息公开申请 17 件"; 表三 本年新收·总计 prints 95
        ("P1", "一、总体情况"),
        ("Y1", "第 2 页第 1 个表格第 7 行第 2 列"),  # 行政许可 9487, 2023 printed 550 (17.2×)
        ("Y1", "第 3 页第 2 个表格第 6 行第 4 列"),  # 予以公开·自然人 50, 2023 printed 0
        ("Y1", "第 3 页第 2 个表格第 6 行第 10 列"),  # 予以公开·总计 50, 2023 printed 0
    ],
    # 表三 prints （二）部分公开 8,1,0,0,0,0 总计 8 and （七）总计 19,1,… 总计 19 (so 商业企业 0+0 ≠ 1+0);
    # expected.txt's N8 needs 2022, whose archived page is refused
    "zrz-2023": [
        ("N1", "网页第 2 个表格第 4 行第 3 格"),
        ("N3", "网页第 2 个表格第 7 行第 8 格"),
        ("N3", "网页第 2 个表格第 27 行第 8 格"),
    ],
    # 表三 四、结转下年度继续办理·商业企业 is printed empty (no figure): N5, and the column and
    # row it is in cannot be summed (N1, N3 say so)
    "jjp-2023": [("N5", "网页第 2 个表格第 28 行第 3 格")]
    + [("N1", "网页第 2 个表格第 28 行第 3 格"), ("N3", "网页第 2 个表格第 28 行第 3 格")],
    "jjp-2024": [("N5", "网页第 2 个表格第 28 行第 3 格")]  # the same empty cell as in 2023
    + [("N1", "网页第 2 个表格第 28 行第 3 格"), ("N3", "网页第 2 个表格第 28 行第 3 格")]
    + [("A5", "表二")] * 3  # no 规章 row
    + [("N8", "网页第 1 个表格第 3 行第 4 格")],  # 现行有效 1; 2023 (jjp-2023's page) 7 + 0 − 0 = 7
    "gyz-2023": [],  # expected.txt's N8 needs 2022, whose archived page is refused
    "shs-2023": [("A5", "表二")] * 3,  # 表二 prints no 规章 row: its 3 cells are not in the report
    "shs-2024": [
        ("N4", "网页第 3 个表格第 4 行第 15 格"),  # 复议后起诉 13 + 2 + 4 + 0 = 19, 总计 prints 15
        ("N8", "网页第 1 个表格第 3 行第 4 格"),  # 现行有效 0; 2023 (shs-2023's page) 0 + 5 − 0 = 5
        *[("A5", "表二")] * 3,  # no 规章 row, as in 2023
    ],
    "czj-2024": [("P4", "一、总体情况")],  # 1253 characters against the limit of 1000 (expected.txt too)
    "gwh-2024": [],
    "zrz-2024": [],  # last year zrz-2023's page: N7, N8, P5, Y1 all hold
}


STATUS = {
    "gyz-2023": "未发现问题",
    "shs-2023": "有提醒",
    "zrz-2023": "有错误",
    "jjp-2023": "有错误",
    "jjp-2024": "有错误",
    "shs-2024": "有错误",
    "hzq-2023": "有错误",
    "hzq-2024": "有提醒",
    "czj-2024": "有提醒",
    "gwh-2024": "未发现问题",
    "zrz-2024": "未发现问题",
}


def source(slug: str) -> dict[str, str]:
    lines = (FIELD / slug / "source.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def published_form(slug: str) -> Path:
    """The report as published, best kept form first: the page's HTML, the PDF, the page text."""
    folder = FIELD / slug
    kept = [folder / "page.html", *sorted(folder.glob("*.pdf")), folder / "page.txt"]
    return next(p for p in kept if p.is_file())


def folder_of(year: int, target: Path) -> dict[str, str]:
    """The year's reports copied as bodies publish them (file named by body); file -> slug."""
    target.mkdir(parents=True)
    files = {}
    for slug in sorted(p.name for p in FIELD.iterdir() if (p / "source.txt").is_file()):
        s = source(slug)
        if int(s["year"]) == year:
            form = published_form(slug)
            name = f"{s['body']}{year}年度{REPORT}{form.suffix}"
            shutil.copyfile(form, target / name)
            files[name] = slug
    return files


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("field_audit")
    home = write_home(root / "home", [("X", "某局")])
    folder_of(2022, home.audit_dir(2022))  # last year's, for N7/N8/P5/Y1
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = {}
    for year in YEARS:
        files = folder_of(year, root / "published" / str(year))
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "audit", str(root / "published" / str(year)), "--year",
             str(year), "--home", str(home.root)],
            capture_output=True, text=True, env=env, timeout=900,
        )  # fmt: skip
        rows = list(
            csv.DictReader(io.StringIO((home.reports_dir(year) / "audit" / "audit.csv").read_text("utf-8")))
        )
        page = (home.reports_dir(year) / "audit" / "index.html").read_text("utf-8")
        out[year] = {"files": files, "done": done, "rows": rows, "page": page}
    return out


def test_at_least_twenty_real_reports_are_audited(audited):
    files = {name: slug for year in YEARS for name, slug in audited[year]["files"].items()}
    assert len(files) >= 20
    read = [n for n in files if not n.endswith(".txt")]
    assert sorted(files[n] for n in read) == sorted(REVIEWED)  # 9 web pages, 2 PDFs
    for year in YEARS:
        done = audited[year]["done"]
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"已把 {len(audited[year]['files'])} 份报告放入" in done.stdout


def test_every_finding_is_a_reviewed_one(audited):
    """No false alarm, nothing missed: per report read, exactly the reviewed findings; each
    archived page text is one A2 (tables flattened to text, refused, never guessed at)."""
    for year in YEARS:
        by_file: dict[str, list[tuple[str, str]]] = {}
        for r in audited[year]["rows"]:
            by_file.setdefault(r["file"], []).append((r["rule"], r["location"]))
            if r["file"].endswith(".txt"):
                assert r["severity"] == "错误" and "展平为文字" in r["message"], r
        for name, slug in audited[year]["files"].items():
            got = sorted(by_file.get(name, []))
            want = [("A2", "")] if name.endswith(".txt") else sorted(REVIEWED[slug])
            assert got == want, (slug, got)


def test_the_findings_name_the_printed_cells(audited):
    rows = audited[2023]["rows"]
    n4 = [r["message"] for r in rows if r["rule"] == "N4"]
    assert any("行政复议·总计 0" in m and "合计 11" in m for m in n4)
    assert any("复议后起诉·总计 0" in m and "合计 5" in m for m in n4)
    a5 = [r["message"] for r in rows if r["rule"] == "A5" and "洪泽区" in r["body"]]
    assert len(a5) == 7
    assert all("第 3 页第 2 个表格第 9 行第 3 列的“2.其他法律行政止公开”" in m for m in a5)
    # The trial-form 表三 is checked as printed: no "unknown cell" for its （六）其他处理 row.
    assert not [r for year in YEARS for r in audited[year]["rows"] if r["rule"] in ("N2", "N6")]


def test_the_audit_page_has_a_row_per_report_and_links_to_the_printed_page(audited):
    for year in YEARS:
        doc = lxml_html.document_fromstring(audited[year]["page"])
        rows = doc.xpath("//table[@class='units']/tbody/tr")
        assert len(rows) == len(audited[year]["files"])
        status = {r.xpath("./td[2]")[0].text_content(): r.xpath("./td[3]")[0].text_content() for r in rows}
        for name, slug in audited[year]["files"].items():
            assert status[name] == ("无法读取" if name.endswith(".txt") else STATUS[slug]), name
    doc = lxml_html.document_fromstring(audited[2023]["page"])
    hzq = next(
        r
        for r in doc.xpath("//table[@class='units']/tbody/tr")
        if "洪泽区" in r.xpath("./td[2]")[0].text_content()
    )
    assert hzq.xpath("./td[3]")[0].text_content() == "有错误"
    links = [a.get("href") for a in hzq.xpath(".//li[contains(., '【N4】')]/a")]
    assert links and all(h.startswith("../../../audit/2023/") and h.endswith(".pdf#page=4") for h in links)
