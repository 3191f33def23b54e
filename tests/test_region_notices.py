"""The region's 问题清单 / 整改通知 per district and year (issue 18, item 4): a DOCX opened
back with python-docx shows the title, district, year, one row per finding (problem,
what to fix, by when) and the issuing office; equal inputs give equal bytes."""

from __future__ import annotations

import io
import os
import tomllib
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest

from pipeline.render.notices import notice_docx, rectify_days, rectify_deadline
from schemas.errors import HomeError
from schemas.national_2021 import FORMAT

FINDINGS = [
    {
        "rule": "Y1",
        "severity": "WARNING",
        "table": "applications",
        "row": "received",
        "column": "total",
        "message": "本年新收申请 300 件，上年 12 件，增加超过 5 倍。",
    },
    {
        "rule": "N1",
        "severity": "ERROR",
        "table": "applications",
        "row": "handled_total",
        "column": "natural_person",
        "message": "第一项加第二项之和 45 不等于第三项加第四项之和 44。",
    },
    {
        "rule": "R2",
        "severity": "WARNING",
        "table": "review_litigation",
        "row": "litigation_direct",
        "column": "corrected",
        "message": "已公开的报告为 3，编制的数据为 2。",
    },
    {
        "rule": "P5",
        "severity": "WARNING",
        "table": "narrative",
        "row": "overview",
        "column": "text",
        "message": "“一、总体情况”与上一年度完全相同。",
    },  # fmt: skip
]
ISSUED = date(2026, 4, 2)


def notice(findings=FINDINGS, **changes) -> bytes:
    args = dict(
        district="西区",
        year=2025,
        findings=findings,
        issued=ISSUED,
        deadline=date(2026, 4, 17),
        issuer="示范市人民政府办公室",
    )
    return notice_docx(FORMAT, **(args | changes))


def opened(data: bytes):
    return docx.Document(io.BytesIO(data))


def test_notice_rows_problem_fix_deadline():
    document = opened(notice())
    text = "\n".join(p.text for p in document.paragraphs)
    assert "关于西区2025年度政府信息公开工作年度报告问题的整改通知" in text
    assert "西区：" in text and "存在以下 4 个问题（错误 1 个、提醒 3 个）" in text
    assert "于2026年4月17日前完成" in text
    assert "示范市人民政府办公室" in text.split("逾期未整改")[-1] and "2026年4月2日" in text
    (table,) = document.tables
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["序号", "问题", "整改要求", "整改期限"]
    assert len(rows) == 1 + len(FINDINGS)
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert all(r[3] == "2026年4月17日" for r in rows[1:])
    # Errors first; each problem names its rule, table, row and column in the form's labels.
    first = rows[1]
    assert first[1].startswith("【错误·N1】表“三、收到和处理政府信息公开申请情况”")
    assert "行“三、本年度办理结果（七）总计”列“自然人”：第一项加第二项之和 45" in first[1]
    assert "按规则 N1" in first[2] and "重新报送" in first[2]
    assert rows[2][1].startswith("【提醒·Y1】") and "逐项核实" in rows[2][2]
    assert "行“行政诉讼未经复议直接起诉”列“结果纠正”" in rows[3][1]
    assert "已公开的年度报告" in rows[3][2]  # R2: published vs compiled
    assert rows[4][1].startswith("【提醒·P5】“一、总体情况”部分：")  # a text section by its heading
    assert "不得照抄上年度报告" in rows[4][2]  # P5: copy-paste
    assert document.core_properties.title.startswith("关于西区2025年度")


def test_notice_uses_the_official_template_styles():
    document = opened(notice())
    assert document.paragraphs[0].style.name == "报告标题"
    assert any(p.style.name == "落款" and p.text == "示范市人民政府办公室" for p in document.paragraphs)
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.left_margin.mm) == 28


def test_notice_without_findings_says_nothing_to_rectify():
    document = opened(notice(findings=[]))
    assert not document.tables
    assert any("未发现需要整改的问题" in p.text for p in document.paragraphs)


def test_notice_is_deterministic_and_carries_no_clock():
    first, second = notice(), notice()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2026-04-02T00:00:00" in core and date.today().isoformat() not in core
    assert notice(district="北区") != first  # and it does depend on its input
    assert (
        opened(notice(findings=list(reversed(FINDINGS))))
        .tables[0]
        .rows[1]
        .cells[1]
        .text.startswith("【错误·N1】")
    )


def test_finding_text_is_escaped_and_cleaned():
    odd = [dict(FINDINGS[0], message="<w:p>a & b\x07 c")]
    (table,) = opened(notice(findings=odd)).tables
    assert table.rows[1].cells[1].text.endswith("<w:p>a & b c")


def test_a_stored_message_line_keeps_its_own_rule_head():
    line = "【R3】提醒 西区（xiqu）：2025 年度的结果在截止日期之后报送。"
    stored = [{"rule": "R3", "severity": "WARNING", "table": "", "row": "", "column": "", "message": line}]
    (table,) = opened(notice(findings=stored)).tables
    assert table.rows[1].cells[1].text == line
    assert "按规定时限报送" in table.rows[1].cells[2].text


def test_finding_missing_a_key_is_refused():
    with pytest.raises(ValueError):
        notice(findings=[{"rule": "N1", "severity": "ERROR"}])


def config(text: str) -> dict:
    return tomllib.loads('district = "示范市"\ngovernment = "示范市人民政府办公室"\n' + text)


def test_rectify_deadline_default_and_configured():
    assert rectify_days(config("")) == 15
    assert rectify_deadline(config(""), ISSUED) == date(2026, 4, 17)
    assert rectify_deadline(config("[region]\nrectify_days = 30\n"), ISSUED) == date(2026, 5, 2)


@pytest.mark.parametrize("value", ["0", "366", '"十五"', "true", "1.5"])
def test_bad_rectify_days_is_a_clear_chinese_line(value):
    with pytest.raises(HomeError) as caught:
        rectify_days(config(f"[region]\nrectify_days = {value}\n"))
    assert "rectify_days" in str(caught.value) and "整改天数" in str(caught.value)


GOLDEN = Path(__file__).parent / "golden" / "notice-xiqu-2025" / "document.xml"


def test_notice_matches_golden_document():
    """The notice's words and table markup, as committed (the zip's compression may differ by
    zlib version; the document inside may not). NIANBAO_UPDATE_GOLDEN=1 rewrites it."""
    with zipfile.ZipFile(io.BytesIO(notice())) as z:
        produced = z.read("word/document.xml").decode("utf-8")
    if os.environ.get("NIANBAO_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(produced, encoding="utf-8")
    assert produced == GOLDEN.read_text(encoding="utf-8"), (
        "notice differs; NIANBAO_UPDATE_GOLDEN=1 rewrites it"
    )
