"""Reads a published annual report (an HTML page as portals publish it) into cells.

lxml parses the page as browsers do (it survives portal markup and never runs a
script: scripts, styles and templates are dropped before anything is read). Every
leaf <table> becomes a grid (rowspan/colspan filled out, grid.py) for the shared
core (core.py); the report's text outside the tables, one line per block element,
gives the sections 一–六.
"""

from __future__ import annotations

import copy
import re

from lxml import etree
from lxml import html as lxml_html

from pipeline.ingest.published.core import (
    MAX_TABLE_SLOTS,
    Place,
    PublishedRefused,
    PublishedReport,
    check_year,
    heading_pattern,
    read_tables,
    split_sections,
)
from pipeline.ingest.published.grid import expand
from pipeline.ingest.published.labels import printed, squeeze

MAX_BYTES = 10 * 1024 * 1024  # a report page with its portal around it is under 1 MB
# Text of a page whose tables were flattened: the form's labels with no table around them.
_FORM_MARKERS = ("本年新收政府信息公开申请数量", "第二十条第（一）项", "结转下年度继续办理")

__all__ = ["MAX_BYTES", "MAX_TABLE_SLOTS", "read_html"]


# ---------------------------------------------------------------- parsing


def _parse(data: bytes):
    if len(data) > MAX_BYTES:
        raise PublishedRefused(
            f"网页有 {len(data) / 1024 / 1024:.1f} MB，超过 {MAX_BYTES // 1024 // 1024} MB 的上限，不读取"
        )
    if not data.strip():
        raise PublishedRefused("网页是空的")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise PublishedRefused(
                f"网页既不是 UTF-8 也不是 GB18030 编码（第 {exc.start} 字节处无法解码）"
            ) from None
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)  # lxml refuses str input with an encoding declaration
    try:
        doc = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise PublishedRefused(f"无法解析网页（{exc}）") from None
    # Scripts are never run, only dropped; a page's navigation and footer are not the report.
    for el in doc.xpath("//script|//style|//noscript|//template|//nav|//footer"):
        el.drop_tree()
    return doc


def _leaf_tables(doc) -> list:
    return [t for t in doc.iter("table") if not t.xpath(".//table")]


# ---------------------------------------------------------------- prose


def _lines(root) -> list[str]:
    """The text of `root` outside its tables, one line per block element."""
    root = copy.deepcopy(root)  # tails are edited below
    for table in root.xpath(".//table"):
        tail = table.tail
        table.clear()  # the tables' text is read as cells, not as prose
        table.tail = "\n" + (tail or "")
    for el in root.iter("p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section"):
        el.tail = "\n" + (el.tail or "")
    text = "".join(root.itertext())
    return [line for line in (printed(x) for x in text.split("\n")) if line]


def _article(doc, tables: list):
    """The smallest element holding every table and the headings 一 and 六: the report
    without the portal's navigation and footer."""
    first, last = heading_pattern("一、总体情况"), heading_pattern("六、其他需要报告的事项")
    el = tables[0] if tables else doc
    while el is not None:
        text_lines = _lines(el) if el.tag != "table" else []
        if (
            any(first.match(x) for x in text_lines)
            and any(last.match(x) for x in text_lines)
            and all(el is t or el in t.iterancestors() for t in tables)
        ):
            return el
        el = el.getparent()
    return doc


def read_html(data: bytes, year: int) -> PublishedReport:
    """A published report page's cells, sections, provenance, notes and unread cells.

    Raises PublishedRefused when the page cannot be read at all (too large, not HTML,
    no tables, tables flattened to text, a year without a printed form)."""
    fmt = check_year(year)
    doc = _parse(data)
    tables = _leaf_tables(doc)
    text = squeeze(doc.text_content())
    if not tables:
        if any(squeeze(m) in text for m in _FORM_MARKERS):
            raise PublishedRefused(
                "网页中的统计表已被展平为文字（页面没有 <table> 表格，各格数字连在一起），"
                "无法确定每个数字属于哪一格，拒绝读取；请改用保留表格的网页或原始 Word/PDF 文件"
            )
        raise PublishedRefused("网页中没有年度报告的统计表（没有 <table> 表格，也没有表格的标签）")
    grids = (
        (Place("html", index), expand(table))
        for index, table in enumerate(doc.iter("table"), start=1)
        if not table.xpath(".//table")
    )
    report = read_tables(year, grids)
    report.sections = split_sections(_lines(_article(doc, tables)), fmt)
    return report
