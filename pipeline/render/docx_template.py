"""Make the shipped Word template (templates/shared/report.docx) in GB/T 9704 style.

Run `python -m pipeline.render.docx_template` after changing this file; the .docx
is committed so an office can open it in Word or WPS, restyle it and put its own
copy in <home>/templates/ (pipeline/render/docx.py looks there first).

What the template holds: page setup (A4; margins 37/28/35/26 mm), the named
styles the writer uses (fonts with their East-Asian attribute, zh-CN language),
odd/even footers with the PAGE field as "— N —" at the outer edge, a header line
for the draft mark, and the docxtpl tags around the body. The tables are drawn
by the writer from the format's data, since their shape comes from the format.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "shared" / "report.docx"

# Official faces by name (present on the office's Windows/WPS machines).
FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
# 22 lines in the 225 mm type area.
LINE = Pt(225 / 25.4 * 72 / 22)

STYLES = {
    # name: (font, size pt, bold, alignment, first-line indent in characters)
    "报告标题": (XIAOBIAOSONG, 22, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "发文字号": (FANGSONG, 16, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "一级标题": (HEITI, 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    "二级标题": (KAITI, 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    "三级标题": (FANGSONG, 16, True, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    "表格标题": (HEITI, 14, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "表格文字": (FANGSONG, 10.5, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "落款": (FANGSONG, 16, False, WD_ALIGN_PARAGRAPH.RIGHT, 0),
    "页码": (SONGTI, 14, False, WD_ALIGN_PARAGRAPH.RIGHT, 0),
    "稿件标记": (HEITI, 16, False, WD_ALIGN_PARAGRAPH.RIGHT, 0),
}


def set_fonts(rpr_parent, font: str) -> None:
    """All four font slots named (East-Asian included), no theme fonts, zh-CN language."""
    rpr = rpr_parent.get_or_add_rPr() if hasattr(rpr_parent, "get_or_add_rPr") else rpr_parent
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _indent_chars(style, chars: int) -> None:
    ppr = style.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    ind.set(qn("w:firstLineChars"), str(chars * 100))
    ind.set(qn("w:firstLine"), str(chars * 320))


def _page_field(paragraph) -> None:
    """ "— N —" with N the PAGE field (python-docx has no field API)."""
    paragraph.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text.strip() == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    paragraph.add_run(" —")


def make_template(path: Path = TEMPLATE) -> Path:
    doc = Document()
    # docDefaults: python-docx's default names theme fonts, which fall back to a Japanese face.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    set_fonts(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")), FANGSONG)

    normal = doc.styles["Normal"]
    set_fonts(normal.element, FANGSONG)
    normal.font.size = Pt(16)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _indent_chars(normal, 2)

    for name, (font, size, bold, align, indent) in STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        set_fonts(style.element, font)
        style.font.size = Pt(size)
        style.font.bold = bold
        style.paragraph_format.alignment = align
        _indent_chars(style, indent)
        if name in ("一级标题", "二级标题", "三级标题", "表格标题"):
            style.paragraph_format.keep_with_next = True
        if name == "报告标题":
            style.paragraph_format.line_spacing = Pt(36)
            style.paragraph_format.space_after = Pt(28)
        if name == "表格文字":
            style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if name == "表格标题":
            style.paragraph_format.space_before = Pt(8)

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # The page number sits 7 mm below the type area: 35 - 7 mm from the edge, less its own height.
    section.footer_distance = Mm(23)
    section.header_distance = Mm(20)
    doc.settings.odd_and_even_pages_header_footer = True

    header = section.header.paragraphs[0]
    header.style = doc.styles["稿件标记"]
    header.add_run("{{ draft_mark }}")
    odd = section.footer.paragraphs[0]
    odd.style = doc.styles["页码"]
    odd.paragraph_format.right_indent = Pt(14)  # one character in from the outer edge
    _page_field(odd)
    even = section.even_page_footer.paragraphs[0]
    even.style = doc.styles["页码"]
    even.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(14)
    _page_field(even)
    even_header = section.even_page_header.paragraphs[0]
    even_header.style = doc.styles["稿件标记"]
    even_header.add_run("{{ draft_mark }}")

    body = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    body.style = doc.styles["报告标题"]
    body.add_run("{{ title }}")
    for text, style in (
        ("{%p if record.number %}", "Normal"),
        ("{{ record.number }}", "发文字号"),
        ("{%p endif %}", "Normal"),
        ("{{p body }}", "Normal"),
        ("{%p if record.final %}", "Normal"),
        ("{{ record.issuer }}", "落款"),
        ("{{ record.date_text }}", "落款"),
        ("{%p endif %}", "Normal"),
    ):
        doc.add_paragraph(style=doc.styles[style]).add_run(text)

    props = doc.core_properties
    props.author = props.last_modified_by = "nianbao"
    props.title = "政府信息公开工作年度报告"
    props.comments = "nianbao 的 Word 模板：可在 Word/WPS 中修改样式后放到数据目录的 templates/ 下。"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    _own_package_metadata(path)
    return path


def _own_package_metadata(path: Path) -> None:
    """python-docx's stock package says it was made by "Microsoft Macintosh Word" from
    Normal.dotm and carries a stock thumbnail of someone else's page: every report made
    from it would say so. Our template names nianbao and has no thumbnail."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "docProps/thumbnail.jpeg":
                continue
            if info.filename == "_rels/.rels":
                data = re.sub(rb"<Relationship [^>]*Target=\"docProps/thumbnail.jpeg\"/>", b"", data)
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b'<Default Extension="jpeg" ContentType="image/jpeg"/>', b"")
            elif info.filename == "docProps/app.xml":
                data = re.sub(
                    rb"<Application>[^<]*</Application>", b"<Application>nianbao</Application>", data
                )
                data = re.sub(rb"<AppVersion>[^<]*</AppVersion>|<Template>[^<]*</Template>", b"", data)
            z.writestr(info, data)


if __name__ == "__main__":
    print(make_template(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE))
