"""A built year's report views read back from the warehouse, and one unit's DOCX or
PDF made when someone asks for it.

A year's build writes the district's documents and every unit's page; each unit's
DOCX and PDF took 38-43 s of an 80-unit year, for files most units never download.
The portal's download renders the unit's document here the first time it is asked
for and keeps it in reports/<year>/publish/units/ while the unit's report is
unchanged (a later build removes it once outdated); `nianbao build --unit-documents`
writes them all as before.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.locks import year_lock
from pipeline.render.outputs import write_unit_document
from pipeline.warehouse import SECTIONS, Warehouse

# How long a download waits for a build of the same year to finish.
DOCUMENT_WAIT_SECONDS = 120


def load_views(data_home, year: int):
    """The year's format, the district view, the unit views and the status frame, from the warehouse."""
    from pipeline.render.reports import build_views
    from schemas import format_for_year
    from schemas.base import NARRATIVE_TABLE

    config = data_home.config()
    fmt = format_for_year(year, data_home.root)
    warehouse = Warehouse.of(data_home, year)
    frames = {key: warehouse.read_section(key) for key in SECTIONS}
    sections = {
        code: frame[frame["table"] == code] for frame in frames.values() for code in frame["table"].unique()
    }
    for code in [*fmt.tables, NARRATIVE_TABLE]:
        sections.setdefault(code, frames["narrative"].iloc[0:0])
    status = warehouse.read("status")
    # The build's year-over-year table (the office's texts quote it): last year is not read again.
    yoy = warehouse.read("yoy") if warehouse.exists("yoy") else None
    district, units = build_views(fmt, year, config, sections, status, data_home, yoy)
    return fmt, district, units, status


def unit_in_report(data_home, year: int, code: str) -> bool:
    """The last build of `year` has a report of unit `code` (the unit was accepted)."""
    import pandas as pd

    path = Warehouse.of(data_home, year).path("status")
    if not path.is_file():
        return False
    status = pd.read_parquet(path, columns=["unit", "status"])
    return bool(((status["unit"] == code) & (status["status"] == "accepted")).any())


def unit_document(
    data_home, year: int, code: str, name: str, wait: float = DOCUMENT_WAIT_SECONDS
) -> Path | None:
    """reports/<year>/publish/units/<code>.<docx|pdf>, rendered now unless a current one is
    there; None when the last build has no report of the unit. Holds the year's build
    lock (a running build is waited for, `wait` seconds at most: LockTimeout)."""
    with year_lock(data_home.root, year, timeout=wait):
        if not unit_in_report(data_home, year, code):
            return None
        fmt, _district, units, _status = load_views(data_home, year)
        if code not in units:
            return None
        return write_unit_document(data_home.reports_dir(year), fmt, code, units[code], name, data_home.root)
