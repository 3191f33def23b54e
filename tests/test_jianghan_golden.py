"""The 2017 Jianghan report rebuilt from the demo home's unit submissions equals
the published text (tests/reference/jianghan-2017-report.txt) paragraph by
paragraph: title, preamble and all five sections.

The only differences allowed are the shares the pipeline computes from the counts
where the published text printed something else; they are listed here, one by
one, with the counts behind them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import build

from pipeline.home import Home
from pipeline.render.legacy import format_share

REPO = Path(__file__).resolve().parents[1]
# The published report as captured from the district's disclosure page, kept as it is.
REFERENCE = Path(__file__).resolve().parent / "reference" / "jianghan-2017-report.txt"
DEMO = REPO / "data" / "demo" / "jianghan"

# (what the published text printed, what the pipeline prints, part, whole)
SHARE_DIFFERENCES = [
    ("当场处理来电746件,占32%", "当场处理来电746件,占33%", 746, 2275),  # 32.79% rounds to 33%
    ("跟踪督办9件,占1%", "跟踪督办9件,占0.4%", 9, 2275),  # 0.40%: under 1%, one decimal
]
# Shares the published text got right, computed the same way (part, whole, printed).
SHARES_AGREEING = [(1529, 2275, "67%"), (426, 2275, "19%"), (320, 2275, "14%"), (1520, 2275, "67%")]


def copy_demo(target: Path) -> Home:
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return Home.resolve(target)


build_year = build


@pytest.fixture(scope="module")
def built(built_demo) -> Home:
    return built_demo("jianghan", [2017])[0]  # shared, read only


def reference_paragraphs() -> list[str]:
    if not REFERENCE.is_file():
        pytest.fail(f"reference text not found at {REFERENCE}")
    lines = [line.strip() for line in REFERENCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    # Lines 1-4: the page's publication-record table.
    assert lines[3].startswith("标 题")
    return lines[4:]


_MD_ESCAPE = re.compile(r"\\([\\`*_\[\]<>|&~#+\-=.)])")


def markdown_paragraphs(md: str) -> list[str]:
    """The report's Markdown as plain paragraphs: record table and appendices dropped."""
    out = []
    for line in md.splitlines():
        line = line.strip()
        if not line or line.startswith("|") or line.startswith("**"):
            continue
        if line.startswith("#"):
            line = line.lstrip("#").strip()
            if line.startswith("附"):
                break  # 附件：统计指标 / 附：单位报送情况 follow the published body
        out.append(_MD_ESCAPE.sub(r"\1", line))
    return out


def test_each_listed_share_difference_is_the_computed_share():
    for published, ours, part, whole in SHARE_DIFFERENCES:
        computed = format_share(part, whole)
        assert ours.endswith(computed), (ours, computed)
        assert not published.endswith(computed)
        print(f"published {published!r} vs computed {computed} ({part}/{whole} = {part / whole:.2%})")
    for part, whole, printed in SHARES_AGREEING:
        assert format_share(part, whole) == printed


def test_report_matches_published_text_paragraph_by_paragraph(built):
    md = (built.reports_dir(2017) / "report.md").read_text(encoding="utf-8")
    ours = markdown_paragraphs(md)
    expected = reference_paragraphs()
    used = set()
    for i, paragraph in enumerate(expected):
        for published, computed, _, _ in SHARE_DIFFERENCES:
            if published in paragraph:
                paragraph = paragraph.replace(published, computed)
                used.add(published)
        expected[i] = paragraph
    assert used == {p for p, *_ in SHARE_DIFFERENCES}, "a listed difference no longer occurs"
    for n, (a, b) in enumerate(zip(ours, expected), 1):
        assert a == b, f"paragraph {n} differs:\n ours:      {a}\n published: {b}"
    assert len(ours) == len(expected)
    # Title, then the five section headings in order.
    assert ours[0] == "2017年江汉区政府信息公开工作年度报告"
    headings = [p for p in ours if re.match(r"^[一二三四五]、", p)]
    assert headings == [
        "一、主要工作情况",
        "二、主动公开政府信息情况",
        "三、依申请公开政府信息情况",
        "四、政府信息公开行政复议、行政诉讼和投诉情况",
        "五、存在的主要问题及改进措施",
    ]


def test_html_carries_the_publication_record_and_the_same_paragraphs(built):
    html = (built.reports_dir(2017) / "report.html").read_text(encoding="utf-8")
    record = html[html.index('<table class="record">') : html.index("</table>")]
    # 2017's record has no 文号 or 发文日期: a draft, its empty cells not printed.
    for label in ("发布机构", "标　　题"):
        assert label in record
    for label in ("文　　号", "发文日期", "有 效 性"):
        assert label not in record
    assert '<p class="draft-mark" role="note">征求意见稿</p>' in html
    assert ">江汉区人民政府</td>" in record  # issuer: the government (home.toml)
    assert '<td colspan="3">2017年江汉区政府信息公开工作年度报告</td>' in record
    assert "<td></td>" not in record  # number, date and validity are unknown: not printed
    paragraphs = re.findall(r"<(?:p|h[1-4])>(.*?)</(?:p|h[1-4])>", html)
    ours = markdown_paragraphs((built.reports_dir(2017) / "report.md").read_text(encoding="utf-8"))
    import html as html_lib

    assert [html_lib.unescape(p) for p in paragraphs[: len(ours)]] == ours


def test_rebuild_is_byte_identical(built):
    md = (built.reports_dir(2017) / "report.md").read_bytes()
    html = (built.reports_dir(2017) / "report.html").read_bytes()
    build_year(built, 2017)
    assert (built.reports_dir(2017) / "report.md").read_bytes() == md
    assert (built.reports_dir(2017) / "report.html").read_bytes() == html


def test_unit_reports_show_each_units_indicators(built):
    hotline = (built.reports_dir(2017) / "units" / "hotline.md").read_text(encoding="utf-8")
    # One table per indicator table: the unit in its own column, grouped rows indented.
    assert "| 受理群众来电 | 人次 | 2275 |" in hotline
    assert "| 　当场处理来电占比（单位自报） | % | 32 |" in hotline
    assert sorted(p.stem for p in (built.reports_dir(2017) / "units").glob("*.md")) == sorted(
        ["office", "bianban", "finance", "shengai", "hrss", "hotline", "szcg", "archives", "legal"]
    )
