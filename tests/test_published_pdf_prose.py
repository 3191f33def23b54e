"""The prose of a published PDF (pipeline/ingest/published/pdf.py): a section
heading always starts a paragraph, even after a body line that fills the width
exactly (it was glued onto that paragraph and its section lost: false A3)."""

from __future__ import annotations

import io

import pytest
from test_published_html import APPLIED, PROACTIVE, REVIEWED, applications, page, proactive_national, review

from pipeline.ingest.published.pdf import read_pdf

WIDTH = 24  # characters of the text column at 12pt: a full-width character is 1em wide
OVERVIEW_END = "全年发布规范性文件八件，均已在门户网站专栏公开。"
PROBLEMS = "一是公开意识有待加强，二是公开平台建设仍需完善，三是政策解读形式较为单一，下一步将加强业务培训。"


def full_line_pdf() -> bytes:
    """The HTML test page printed by WeasyPrint with its text exactly WIDTH characters
    wide, the paragraphs before 二 and before 六 filling their last line to the margin."""
    from weasyprint import HTML

    assert len(OVERVIEW_END) == WIDTH and len(PROBLEMS) == 2 * WIDTH
    html = page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)).decode()
    html = html.replace("<p>发布文件3件。</p>", f"<p>{OVERVIEW_END}</p>")
    html = html.replace("<p>一是公开意识有待加强。</p>", f"<p>{PROBLEMS}</p>")
    html = html.replace("<p>六、其他", "<p>六、 其他")  # a heading is known whitespace aside
    style = (
        f"<style>body {{ font: 12pt 'Noto Sans CJK SC' }} p, h1 {{ margin: 0; width: {WIDTH * 12}pt }}"
        " .nav, .footer { display: none }"
        " table { border-collapse: collapse } td { border: 1px solid black }</style>"
    )
    return HTML(string=html.replace("<head>", "<head>" + style)).write_pdf()


def test_a_heading_after_a_line_that_fills_the_width_starts_its_section():
    import pdfplumber

    data = full_line_pdf()
    with pdfplumber.open(io.BytesIO(data)) as pdf:  # the case holds: those lines fill the text width
        lines = [x for p in pdf.pages for x in p.extract_text_lines(return_chars=False)]
    widths = {x["text"]: x["x1"] - x["x0"] for x in lines}
    assert widths[OVERVIEW_END] == widths[PROBLEMS[WIDTH:]] == pytest.approx(WIDTH * 12, abs=0.5)
    report = read_pdf(data, 2023)
    assert (
        report.sections["overview"]
        == f"2023年，本局主动公开政府信息120条。\n（一）主动公开情况\n{OVERVIEW_END}"
    )
    assert report.sections["proactive"] == ""
    assert report.sections["problems"] == PROBLEMS
    assert report.sections["other_matters"] == "本年度未收取信息处理费。"


def test_a_wps_pdf_shading_every_paragraph_keeps_its_prose():
    """A real WPS PDF (tests/field/hzq-2023) paints a white borderless rectangle behind every
    line of prose; taken as rulings they made each page of prose a one-column table and the
    sections came out empty. Invisible rectangles are no rulings: the prose is read."""
    from pathlib import Path

    pdf = Path(__file__).resolve().parent / "field" / "hzq-2023" / "hzq2023_working.pdf"
    report = read_pdf(pdf.read_bytes(), 2023)
    assert report.sections["overview"].startswith("2023 年，洪泽区人民政府坚持以习近平新时代")
    assert "（五）政府信息公开监督保障情况" in report.sections["overview"]
    assert report.sections["problems"].startswith("2023 年，洪泽区政府信息公开工作取得一定的成效")
    assert "全年收取政府信息公开信息处理费 0 元" in report.sections["other_matters"]
    # The table cut by the page break (第二十条第（六）项 on page 2, its rows on page 3) is read.
    penalty = next(c for c in report.cells if c.row == "penalty")
    assert (penalty.value, penalty.source.page, penalty.source.text) == ("4119", 3, "4119")
