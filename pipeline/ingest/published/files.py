"""One published report file -> its reader, by kind, within the size limits.

The kind is the file's own: its first bytes (%PDF-, a zip package) and then its
name; what is neither PDF nor Word is read as a web page. A file over its kind's
limit is refused from its size on disk, before it is read into memory.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.ingest.published import html, pdf, word
from pipeline.ingest.published.core import PublishedRefused, PublishedReport, Unread
from pipeline.ingest.published.labels import TABLE_NUMBERS
from schemas import format_for_year

READERS = {"html": html.read_html, "docx": word.read_docx, "pdf": pdf.read_pdf}
LIMITS = {"html": html.MAX_BYTES, "docx": word.MAX_BYTES, "pdf": pdf.MAX_BYTES}
NAMES = {"html": "网页", "docx": "Word 文档", "pdf": "PDF 文件"}


def kind_of(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF-") or suffix == ".pdf":
        return "pdf"
    if head.startswith(b"PK") or head.startswith(word.OLE_MAGIC) or suffix in (".docx", ".doc"):
        return "docx"
    return "html"


def read_report(path: Path, year: int) -> PublishedReport:
    """The report in `path` read for `year`, or PublishedRefused (the message names the file)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            kind = kind_of(path, fh.read(8))
            if size > LIMITS[kind]:
                raise PublishedRefused(
                    f"{NAMES[kind]}有 {size / 1024 / 1024:.1f} MB，超过 {LIMITS[kind] // 1024 // 1024} MB 的上限，不读取"
                )
            fh.seek(0)
            data = fh.read()
    except OSError as exc:
        raise PublishedRefused(f"无法读取文件（{exc.strerror or exc}）") from None
    return READERS[kind](data, year)


def describe(u: Unread, year: int) -> str:
    """“表三 行“…” 列“…”：why” for one cell not read."""
    table = format_for_year(year).tables[u.table]
    try:
        row = " ".join(table.row(u.row).path) if table.layout == "matrix" else table.row(u.row).label
    except KeyError:
        row = u.row
    try:
        column = table.column(u.column).label
    except KeyError:
        column = u.column
    return f"{TABLE_NUMBERS.get(u.table, u.table)} 行“{row}” 列“{column}”：{u.why}"
