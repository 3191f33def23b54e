"""Reads a published report as a Word document (.docx) into cells.

python-docx opens the package (its XML parser resolves no entities); the reader
walks the body's XML in order: each w:tbl becomes a grid for the shared core
(core.py) — w:gridSpan across, w:vMerge down, w:gridBefore for rows starting
further right — and each w:p outside the tables is a line of the sections 一–六.
The package is checked before python-docx opens it, as submitted workbooks are
(pipeline/ingest/guards.py): declared sizes, compression ratio, parts.
"""

from __future__ import annotations

import io
import zipfile

from pipeline.ingest.published.core import (
    Place,
    PublishedRefused,
    PublishedReport,
    check_year,
    read_tables,
    split_sections,
)
from pipeline.ingest.published.grid import MAX_SPAN, Slot
from pipeline.ingest.published.labels import printed

MAX_BYTES = 30 * 1024 * 1024  # a report with a few photographs is a few MB
MAX_UNPACKED = 100 * 1024 * 1024  # declared total of all parts, unpacked (zip bombs)
MAX_RATIO = 100  # unpacked/packed for a part over RATIO_MIN_SIZE: XML packs about 10:1
RATIO_MIN_SIZE = 1024 * 1024
MAX_PARTS = 1000  # a report has a few dozen parts
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def check_package(data: bytes) -> None:
    """Refuse what python-docx should not open: too big, not a .docx, a zip bomb."""
    if len(data) > MAX_BYTES:
        raise PublishedRefused(
            f"Word 文档有 {len(data) / 1024 / 1024:.1f} MB，超过 {MAX_BYTES // 1024 // 1024} MB 的上限，不读取"
        )
    if data.startswith(OLE_MAGIC):
        raise PublishedRefused("这是加密的 Word 文档或旧版 .doc 文件，不能读取；请去掉密码并另存为 .docx")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise PublishedRefused("Word 文档已损坏或不是 .docx 文件（无法作为 zip 包打开）") from None
    with package:
        parts = package.infolist()
        if len(parts) > MAX_PARTS:
            raise PublishedRefused(f"Word 文档有 {len(parts)} 个内部部件，超过 {MAX_PARTS} 个的上限，不读取")
        total = sum(p.file_size for p in parts)
        if total > MAX_UNPACKED:
            raise PublishedRefused(
                f"Word 文档解压后约 {total / 1024 / 1024:.0f} MB，超过 {MAX_UNPACKED // 1024 // 1024} MB "
                "的上限（疑为压缩炸弹），不读取"
            )
        for p in parts:
            if p.file_size > RATIO_MIN_SIZE and p.file_size > MAX_RATIO * max(p.compress_size, 1):
                raise PublishedRefused(f"Word 文档的部件 {p.filename} 压缩比异常（疑为压缩炸弹），不读取")
        if "word/document.xml" not in package.namelist():
            raise PublishedRefused("文件不是 Word 文档（.docx 包中没有 word/document.xml）")


def _children(el, tag: str):
    """Direct children named `tag`, looking through content controls (w:sdt) around them."""
    for child in el:
        if child.tag == W + tag:
            yield child
        elif child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _children(content, tag)


def _blocks(body):
    for child in body:
        if child.tag in (W + "p", W + "tbl"):
            yield child
        elif child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _blocks(content)


def _paragraph_text(p) -> str:
    """A paragraph's text; tabs as spaces, line breaks as new lines."""
    parts = []
    for node in p.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if node.tag == W + "t":
            parts.append(node.text or "")
        else:
            parts.append(" " if node.tag == W + "tab" else "\n")
    return "".join(parts)


def _value(el, tag: str) -> str | None:
    found = el.find(f"{W}tcPr/{W}{tag}") if tag != "gridBefore" else el.find(f"{W}trPr/{W}{tag}")
    return None if found is None else (found.get(W + "val") or "")


def _number(text: str | None) -> int:
    try:
        return min(max(int(text or "1"), 1), MAX_SPAN)
    except ValueError:
        return 1


def table_grid(tbl) -> list[list[Slot | None]]:
    """Rows of the table by grid column; a vertically merged cell is the same slot in each row."""
    grid: list[list[Slot | None]] = []
    above: dict[int, Slot] = {}  # grid column -> the slot last placed there
    for r, tr in enumerate(_children(tbl, "tr"), start=1):
        before = _value(tr, "gridBefore")
        line: list[Slot | None] = [None] * (_number(before) if before else 0)
        for i, tc in enumerate(_children(tr, "tc"), start=1):
            span, merge, col = _number(_value(tc, "gridSpan")), _value(tc, "vMerge"), len(line)
            if merge is not None and merge != "restart" and col in above:
                slot = above[col]  # continues the cell above
            else:
                text = " ".join(_paragraph_text(p) for p in tc.iter(W + "p"))
                slot = Slot(printed(text), r, i)
            for k in range(span):
                line.append(slot)
                above[col + k] = slot
        grid.append(line)
    width = max((len(line) for line in grid), default=0)
    return [line + [None] * (width - len(line)) for line in grid]


def read_docx(data: bytes, year: int) -> PublishedReport:
    """A published Word report's cells, sections, provenance, notes and unread cells."""
    fmt = check_year(year)
    check_package(data)
    import docx  # python-docx; loaded only when a Word document is read

    try:
        body = docx.Document(io.BytesIO(data)).element.body
    except Exception as exc:  # any failure of a hostile package is this file's refusal
        raise PublishedRefused(f"无法打开 Word 文档（{type(exc).__name__}），文件可能已损坏") from None
    lines: list[str] = []
    grids: list[tuple[Place, list[list[Slot | None]]]] = []
    for block in _blocks(body):
        if block.tag == W + "tbl":
            grids.append((Place("docx", len(grids) + 1), table_grid(block)))
        else:
            lines += [x for x in (printed(t) for t in _paragraph_text(block).split("\n")) if x]
    if not grids:
        raise PublishedRefused("Word 文档中没有表格，找不到年度报告的统计表")
    report = read_tables(year, grids)
    report.sections = split_sections(lines, fmt)
    return report
