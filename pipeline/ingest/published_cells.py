"""A published report as one unit's record for a year: the report read by its reader
(pipeline/ingest/published/) into the cells a submission gives, each located where it
was printed and marked as imported from the published report.

A report that cannot be read, or has cells that could not be read, is the unit's file
problem (F11): an imported record never holds a guessed or missing figure.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.ingest.cells import ParsedFile, cells_frame, empty_cells
from pipeline.ingest.published.core import PublishedRefused
from pipeline.ingest.published.files import LIMITS, NAMES, READERS, describe, kind_of
from schemas.base import NARRATIVE_TABLE
from schemas.catalogue import FileOrigin

MARK = "据已公开年报导入"  # how a published report's figures show wherever they appear


def read_published(data: bytes, origin: FileOrigin, year: int) -> ParsedFile:
    """The cells of the published report `data` (named `origin.file`) for `year`."""
    kind = kind_of(Path(origin.file), data[:8])
    try:
        if len(data) > LIMITS[kind]:
            raise PublishedRefused(
                f"{NAMES[kind]}有 {len(data) / 1024 / 1024:.1f} MB，超过 {LIMITS[kind] // 1024 // 1024} MB 的上限"
            )
        report = READERS[kind](data, year)
    except PublishedRefused as exc:
        return ParsedFile(empty_cells(), [origin.problem("F11.published_refused", why=str(exc).rstrip("。"))])
    problems = [
        origin.problem("F11.published_unread", location=MARK, what=describe(u, year)) for u in report.unread
    ]
    records = [
        (c.table, c.row, c.column, c.value, "", f"{MARK}：{c.source.where()}" if c.source else MARK)
        for c in report.cells
    ]
    records += [
        (table, row, column, value, "", f"{MARK}：正文")
        for table, row, column, value in report.rows()
        if table == NARRATIVE_TABLE
    ]
    return ParsedFile(cells_frame(records), problems)
