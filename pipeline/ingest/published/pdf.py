"""Reads a published report as a PDF file (with a text layer) into cells.

pdfplumber (on pdfminer.six) finds each page's ruled tables and the cells they
draw, from the rules that show (a white borderless box painted behind text, as WPS
does, is no rule) and with a table cut by a page break closed at the cut; each table becomes a grid for the shared core (core.py), a cell's span
counted from the column and row edges it covers. A table continued on the next
page repeats its header there and is read on as the same stream. The text outside
the tables, lines joined into paragraphs (a paragraph starts indented, after a
line ending short of the margin, or with a section heading), gives the sections
一–六; page numbers and lines printed on every page (a draft mark) are not prose.
A PDF with no text at all is a scan: refused, never guessed at.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from pipeline.ingest.published.core import (
    Place,
    PublishedRefused,
    PublishedReport,
    check_year,
    read_tables,
    split_sections,
)
from pipeline.ingest.published.grid import Slot
from pipeline.ingest.published.labels import printed

MAX_BYTES = 30 * 1024 * 1024  # a report with a few scanned seals is a few MB
MAX_PAGES = 300  # a report is 5-40 pages; a district's with every unit's annex a few hundred
EDGE_TOLERANCE = 1.5  # points: edges closer than this are one grid line
_PAGE_NUMBER = re.compile(r"^[—–\-－\s]*\d+[—–\-－\s]*$|^第\s*\d+\s*页(\s*共\s*\d+\s*页)?$")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_WHITESPACE = re.compile(r"\s+")


def _compact(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _open(data: bytes):
    """The pdfplumber document, or the refusal that says why it cannot be opened."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if len(data) > MAX_BYTES:
        raise PublishedRefused(
            f"PDF 文件有 {len(data) / 1024 / 1024:.1f} MB，超过 {MAX_BYTES // 1024 // 1024} MB 的上限，不读取"
        )
    if b"%PDF-" not in data[:1024]:
        raise PublishedRefused("文件不是 PDF（开头没有 %PDF- 标记）")
    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfplumber wraps pdfminer's errors; a hostile file fails anyhow
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise PublishedRefused(
                "PDF 文件已加密（需要密码才能打开），不能读取；请提供未加密的文件"
            ) from None
        raise PublishedRefused(f"PDF 文件已损坏，无法打开（{type(cause).__name__}）") from None


def _declared_pages(pdf) -> int:
    from pdfminer.pdftypes import resolve1

    try:
        return int(resolve1(resolve1(pdf.doc.catalog["Pages"])["Count"]))
    except Exception:  # no count: the pages are counted as they are walked
        return 0


def _edges(values: list[float]) -> list[float]:
    edges: list[float] = []
    for v in sorted(values):
        if not edges or v - edges[-1] > EDGE_TOLERANCE:
            edges.append(v)
    return edges


def _index(edges: list[float], v: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - v))


def table_grid(table) -> list[list[Slot | None]]:
    """The table's grid: each drawn cell in every grid slot its box covers."""
    xs = _edges([c[0] for c in table.cells] + [c[2] for c in table.cells])
    ys = _edges([c[1] for c in table.cells] + [c[3] for c in table.cells])
    grid: list[list[Slot | None]] = [[None] * (len(xs) - 1) for _ in range(len(ys) - 1)]
    for row, texts in zip(table.rows, table.extract()):
        for box, text in zip(row.cells, texts):
            if box is None:
                continue
            c0, c1 = _index(xs, box[0]), _index(xs, box[2])
            r0, r1 = _index(ys, box[1]), _index(ys, box[3])
            slot = Slot(printed(text or ""), r0 + 1, c0 + 1)
            for r in range(r0, max(r1, r0 + 1)):
                for c in range(c0, max(c1, c0 + 1)):
                    grid[r][c] = slot
    return grid


def _visible(obj) -> bool:
    """False for a white filled rectangle drawn without a border: WPS paints one behind
    every paragraph and table cell. It shows nothing on white paper, so its sides are no
    ruling; taken as one, a page of prose becomes a one-column table."""
    if obj.get("object_type") != "rect" or obj.get("stroke") or not obj.get("fill"):
        return True
    color = obj.get("non_stroking_color")
    color = tuple(color) if isinstance(color, list | tuple) else (color,)
    return color not in ((1,), (1, 1, 1), (0, 0, 0, 0))


def _cut_ends(page) -> list[dict]:
    """Rules closing a table where the page cuts it: a table continued over a page break is
    printed with its vertical rules running to the cut and no rule (or part of one) across
    it. The rules ending at the page's first table top and last table bottom (vertical
    rules joined first: a writer may draw each cell's sides apart) are ruled across there;
    nowhere else, so a cell spanning rows is never cut."""
    from pdfplumber.table import merge_edges

    edges = [e for e in page.edges if e["orientation"] == "v"]
    verticals = merge_edges(edges, EDGE_TOLERANCE, EDGE_TOLERANCE, EDGE_TOLERANCE, EDGE_TOLERANCE)
    if not verticals:
        return []
    rules = []
    for end, y in (
        ("top", min(e["top"] for e in verticals)),
        ("bottom", max(e["bottom"] for e in verticals)),
    ):
        xs = [e["x0"] for e in verticals if abs(e[end] - y) <= EDGE_TOLERANCE]
        if len(xs) > 1:
            left, right = min(xs), max(xs)
            rules.append({"object_type": "line", "x0": left, "x1": right, "top": y, "bottom": y,
                          "width": right - left, "height": 0})  # fmt: skip
    return rules


def _outside(boxes):
    def keep(obj) -> bool:
        if obj.get("object_type") != "char":
            return True
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    return keep


def paragraphs(pages_lines: list[list[dict]], headings: tuple[str, ...]) -> list[str]:
    """Lines of every page joined into paragraphs, without page furniture. A line
    starting with one of `headings` (whitespace aside) always starts a paragraph:
    after a body line that happens to fill the width it would otherwise be glued on
    and the section lost."""
    starts = tuple(_compact(h) for h in headings)
    every = [line for lines in pages_lines for line in lines]
    if not every:
        return []
    furniture = _furniture(pages_lines)
    left = Counter(round(x["x0"]) for x in every).most_common(1)[0][0]
    right = max(x["x1"] for x in every)
    out: list[str] = []
    open_paragraph = False
    for line in every:
        text = printed(line["text"])
        if not text or text in furniture or _PAGE_NUMBER.match(text):
            continue
        size = max(line["bottom"] - line["top"], 1.0)
        indented = line["x0"] > left + size * 0.8
        if open_paragraph and not indented and not _compact(text).startswith(starts):
            out[-1] += _glue(out[-1], text) + text
        else:
            out.append(text)
        open_paragraph = line["x1"] >= right - size * 1.5  # a full line: the paragraph goes on
    return out


def _furniture(pages_lines: list[list[dict]]) -> set[str]:
    """Lines printed on more than half of the pages (running heads and feet)."""
    if len(pages_lines) < 2:
        return set()
    repeated = Counter(
        printed(x["text"]) for lines in pages_lines for x in {printed(y["text"]): y for y in lines}.values()
    )
    return {t for t, n in repeated.items() if n > len(pages_lines) / 2}


def _glue(before: str, after: str) -> str:
    """A space between two ASCII words joined across a line break, nothing between CJK."""
    return " " if _ASCII_WORD.match(before[-1]) and _ASCII_WORD.match(after[0]) else ""


def read_pdf(data: bytes, year: int) -> PublishedReport:
    """A published PDF report's cells, sections, provenance, notes and unread cells."""
    fmt = check_year(year)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # a broken file's warnings are not the message
    pdf = _open(data)
    declared = _declared_pages(pdf)
    if declared > MAX_PAGES:  # refused before the page tree is walked (pdf.close() would walk it)
        raise PublishedRefused(f"PDF 文件有 {declared} 页，超过 {MAX_PAGES} 页的上限，不读取")
    with pdf:
        grids: list[tuple[Place, list[list[Slot | None]]]] = []
        pages_lines: list[list[dict]] = []
        has_text = False
        try:
            for number, page in enumerate(pdf.pages, start=1):
                if number > MAX_PAGES:
                    raise PublishedRefused(f"PDF 文件超过 {MAX_PAGES} 页的上限，不读取")
                if not page.chars:
                    continue
                has_text = True
                ruled = page.filter(_visible)
                tables = ruled.find_tables({"explicit_horizontal_lines": _cut_ends(ruled)})
                for index, table in enumerate(tables, start=1):
                    grids.append((Place("pdf", index, number), table_grid(table)))
                prose = page.filter(_outside([t.bbox for t in tables]))
                pages_lines.append(prose.extract_text_lines(return_chars=False))
        except PublishedRefused:
            raise
        except Exception as exc:  # a page pdfminer cannot interpret: this file's refusal
            raise PublishedRefused(f"PDF 文件已损坏，无法读取其中的页面（{type(exc).__name__}）") from None
    if not has_text:
        raise PublishedRefused(
            "PDF 文件没有文字层（是扫描件或图片），不能读取其中的数字；请提供可复制文字的 PDF、Word 文档或网页"
        )
    if not grids:
        raise PublishedRefused("PDF 文件中没有找到带表格线的统计表，不能确定每个数字属于哪一格，拒绝读取")
    report = read_tables(year, grids)
    report.sections = split_sections(paragraphs(pages_lines, tuple(s.heading for s in fmt.sections)), fmt)
    return report
