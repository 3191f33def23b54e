"""DOCX read back with python-docx: GB/T 9704 page and fonts, the PAGE field, the
official tables' merged cells as on the form, and every figure equal to the
Markdown report's, for the national (2024), trial (2019) and legacy (2017) formats."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from docx import Document
from docx.oxml.ns import qn

from pipeline.home import Home
from pipeline.render.model import resolve
from pipeline.render.on_demand import load_views
from pipeline.render.writers import WRITERS, RenderContext

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def shifanqu(built_demo) -> Home:
    return built_demo("shifanqu")[0]  # every demo year built (shared; a test's change is put back)


@pytest.fixture(scope="module")
def jianghan(built_demo) -> Home:
    return built_demo("jianghan", [2017])[0]


def rendered(home: Home, year: int, writer: str, unit: str | None = None) -> tuple[bytes, str]:
    """A report through one writer, and the Markdown report written by the build."""
    fmt, district, units, _ = load_views(home, year)
    view = district if unit is None else resolve(units[unit])
    data = WRITERS[writer].render(view, RenderContext(fmt, home.root))
    md_path = home.reports_dir(year) / ("report.md" if unit is None else f"units/{unit}.md")
    return data, md_path.read_text(encoding="utf-8")


def style_font(doc, name: str) -> tuple[str, float, str]:
    """(East-Asian font, size in pt, East-Asian language) a paragraph style resolves to."""
    style = doc.styles[name]
    font = size = lang = None
    while style is not None and (font is None or size is None or lang is None):
        rpr = style.element.rPr
        if rpr is not None:
            fonts = rpr.find(qn("w:rFonts"))
            if font is None and fonts is not None and fonts.get(qn("w:eastAsia")):
                font = fonts.get(qn("w:eastAsia"))
            if size is None and style.font.size is not None:
                size = style.font.size.pt
            tag = rpr.find(qn("w:lang"))
            if lang is None and tag is not None and tag.get(qn("w:eastAsia")):
                lang = tag.get(qn("w:eastAsia"))
        style = style.base_style
    return font, size, lang


def table_figures(table) -> list[str]:
    """Figures of a Word table, each merged cell once (python-docx repeats them per grid column)."""
    out = []
    for tr in table._tbl.tr_lst:
        if tr.trPr is not None and tr.trPr.find(qn("w:tblHeader")) is not None:
            continue
        for tc in tr.tc_lst:
            if tc.vMerge == "continue":
                continue
            text = "".join(t.text or "" for t in tc.iter(f"{W}t"))
            if re.fullmatch(r"-?\d+(\.\d+)?|—", text):
                out.append(text)
    return out


def markdown_figures(md: str) -> list[str]:
    out = []
    for line in md.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip().replace("\\", "") for c in line.strip().strip("|").split("|")]
            out += [c for c in cells if re.fullmatch(r"-?\d+(\.\d+)?|—", c)]
    return out


def test_page_fonts_and_page_numbers_follow_gbt_9704(shifanqu):
    data, _ = rendered(shifanqu, 2024, "docx")
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    margins = [section.top_margin, section.left_margin, section.bottom_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 28, 35, 26]
    assert style_font(doc, "报告标题") == ("方正小标宋简体", 22, "zh-CN")
    assert style_font(doc, "Normal") == ("仿宋_GB2312", 16, "zh-CN")
    assert style_font(doc, "一级标题") == ("黑体", 16, "zh-CN")
    assert style_font(doc, "二级标题") == ("楷体_GB2312", 16, "zh-CN")
    assert style_font(doc, "页码") == ("宋体", 14, "zh-CN")
    # Paragraphs use those styles: title, then body text and 一、 headings.
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    assert (
        paragraphs[0].style.name == "报告标题"
        and paragraphs[0].text == "示范区2024年政府信息公开工作年度报告"
    )
    headings = [p.text for p in paragraphs if p.style.name == "一级标题"]
    assert headings[:2] == ["一、总体情况", "二、主动公开政府信息情况"]
    # "— N —" with the PAGE field, odd pages right and even pages left.
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, side in ((section.footer, "right"), (section.even_page_footer, "left")):
        xml = footer._element.xml
        assert 'fldCharType="begin"' in xml and "> PAGE <" in xml
        assert footer.paragraphs[0].text.startswith("— ") and footer.paragraphs[0].text.endswith(" —")
        jc = footer.paragraphs[0].paragraph_format.alignment
        if jc is None:  # LEFT is 0: test for None, not truth
            jc = doc.styles["页码"].paragraph_format.alignment
        assert jc.name.lower() == side


def test_applications_table_merges_cells_as_the_official_form(shifanqu):
    data, _ = rendered(shifanqu, 2024, "docx")
    doc = Document(io.BytesIO(data))
    # The applications table is the one with 三、本年度办理结果 in it.
    table = next(t for t in doc.tables if "三、本年度办理结果" in t._tbl.xml)
    rows = table._tbl.tr_lst
    header = [r for r in rows if r.trPr is not None and r.trPr.find(qn("w:tblHeader")) is not None]
    assert len(header) == 3  # 申请人情况 / 自然人 … 法人或其他组织 … 总计 / 商业企业 …
    first = [(tc.grid_span, tc.vMerge) for tc in rows[0].tc_lst]
    assert first == [(3, "restart"), (7, None)]  # the corner over three label columns; 申请人情况 over seven
    second = [(tc.grid_span, tc.vMerge, "".join(t.text for t in tc.iter(f"{W}t"))) for tc in rows[1].tc_lst]
    assert second == [
        (3, "continue", ""), (1, "restart", "自然人"), (5, None, "法人或其他组织"), (1, "restart", "总计"),
    ]  # fmt: skip
    third = ["".join(t.text for t in tc.iter(f"{W}t")) for tc in rows[2].tc_lst]
    assert third == ["", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""]
    # 三、本年度办理结果 spans, as one vertically merged cell, every row of its group.
    from schemas.national_2021 import FORMAT

    block = FORMAT.tables["applications"].blocks[0]
    results = sum(1 for r in block.rows if r.path[0].startswith("三、"))
    starts = [i for i, r in enumerate(rows) if "三、本年度办理结果" in r.xml]
    assert len(starts) == 1
    column_zero = [r.tc_lst[0].vMerge for r in rows[starts[0] : starts[0] + results]]
    assert column_zero[0] == "restart" and set(column_zero[1:]) == {"continue"}
    assert rows[starts[0] + results].tc_lst[0].vMerge is None  # 四、结转下年度继续办理 is its own row
    # Body rows never split across pages.
    assert all(r.trPr.find(qn("w:cantSplit")) is not None for r in rows)


@pytest.mark.parametrize("year,unit", [(2024, None), (2024, "ZFB"), (2019, None), (2019, "ZFB")], ids=str)
def test_every_figure_equals_the_markdown_report(shifanqu, year, unit):
    data, md = rendered(shifanqu, year, "docx", unit)
    doc = Document(io.BytesIO(data))
    figures = [f for t in doc.tables for f in table_figures(t)]
    # The record table above the report holds no figure, so the sequences line up one to one.
    assert figures and figures == markdown_figures(md)


def test_legacy_report_and_unit_documents(jianghan):
    data, md = rendered(jianghan, 2017, "docx")
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs if p.text.strip()]
    assert texts[0] == "2017年江汉区政府信息公开工作年度报告"
    assert [p.text for p in doc.paragraphs if p.style.name == "一级标题"][:5] == [
        "一、主要工作情况",
        "二、主动公开政府信息情况",
        "三、依申请公开政府信息情况",
        "四、政府信息公开行政复议、行政诉讼和投诉情况",
        "五、存在的主要问题及改进措施",
    ]
    # The appendix: one table per indicator table, three columns, group headings as merged rows.
    figures = [f for t in doc.tables for f in table_figures(t)]
    assert figures == markdown_figures(md)
    assert all(len(t.columns) == 3 for t in doc.tables)
    assert len(doc.tables) == len(list(re.finditer(r"^### ", md.split("## 附件")[1], re.M)))
    unit_data, unit_md = rendered(jianghan, 2017, "docx", "hotline")
    unit_doc = Document(io.BytesIO(unit_data))
    assert [f for t in unit_doc.tables for f in table_figures(t)] == markdown_figures(unit_md)


def test_unit_text_is_data_in_the_word_template(jianghan, tmp_path):
    """A unit's text with jinja syntax or XML markup is printed as typed, never run."""
    from pipeline.render.model import Para, Record, ReportView, SectionView

    view = ReportView(
        kind="unit", title="测试<单位>&", year=2017, government="测试", format_name="", preamble=[],
        record=Record(title="t", issuer="测试"),
        sections=[SectionView("x", "{{ 7*7 }}", [Para("<w:p>{% if true %}X{% endif %}\x1b")])],
    )  # fmt: skip
    fmt, *_ = load_views(jianghan, 2017)
    doc = Document(io.BytesIO(WRITERS["docx"].render(view, RenderContext(fmt))))
    texts = [p.text for p in doc.paragraphs]
    assert "测试<单位>&" in texts and "{{ 7*7 }}" in texts and "<w:p>{% if true %}X{% endif %}" in texts


def test_zip_entries_carry_a_fixed_time_and_the_record_date(shifanqu):
    for unit, date in ((None, "2025-03-20"), ("ZFB", "2024-12-31")):  # 发文日期; a unit: the year's end
        data, _ = rendered(shifanqu, 2024, "docx", unit)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            core = z.read("docProps/core.xml").decode()
        assert f'<dcterms:created xsi:type="dcterms:W3CDTF">{date}T00:00:00Z' in core
        assert core.count("lastModifiedBy>") == 2  # one element, opened and closed


def test_an_office_template_in_the_home_replaces_the_shipped_one(shifanqu, tmp_path):
    from pipeline.render.docx import template_path
    from pipeline.render.docx_template import make_template

    assert template_path("national-2021", shifanqu.root).parts[-3:] == ("templates", "shared", "report.docx")
    own = shifanqu.root / "templates" / "report.docx"
    make_template(own)
    doc = Document(own)
    doc.styles["报告标题"].font.size = 24 * 12700  # the office's own restyling, in EMU
    doc.save(own)
    try:
        assert template_path("national-2021", shifanqu.root) == own
        data, _ = rendered(shifanqu, 2024, "docx")
        assert Document(io.BytesIO(data)).styles["报告标题"].font.size.pt == 24
    finally:
        own.unlink()


def test_shipped_template_is_what_the_generator_makes(tmp_path):
    """templates/shared/report.docx is committed; its styles and tags come from docx_template.py."""
    from pipeline.render.docx_template import TEMPLATE, make_template

    fresh = Document(make_template(tmp_path / "report.docx"))
    shipped = Document(TEMPLATE)
    assert [p.text for p in shipped.paragraphs] == [p.text for p in fresh.paragraphs]
    assert {s.name for s in shipped.styles} == {s.name for s in fresh.styles}
    assert "{{p body }}" in [p.text for p in shipped.paragraphs]
