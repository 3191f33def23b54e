"""One entry point for any handed-in file: the guards, then the right reader."""

from __future__ import annotations

from pipeline.ingest.cells import ParsedFile, empty_cells
from pipeline.ingest.csv_reader import read_csv
from pipeline.ingest.guards import Refused, check_file_bytes
from schemas.base import ReportFormat
from schemas.catalogue import FileOrigin


def read_submission(data: bytes, *, fmt: ReportFormat, origin: FileOrigin, year: int) -> ParsedFile:
    """Parse one unit's file (`origin.file` is the name it was handed in under).
    Bad input comes back as messages, not exceptions."""
    try:
        reader = check_file_bytes(data, origin.file)
    except Refused as refused:
        return ParsedFile(empty_cells(), [origin.problem(refused.key, **refused.facts)])
    if reader == "xlsx":
        from pipeline.ingest.xlsx_reader import read_xlsx  # openpyxl loads lazily

        return read_xlsx(data, fmt, origin)
    return read_csv(data, origin, year, fmt)
