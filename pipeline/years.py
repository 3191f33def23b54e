"""Which report years exist: one rule for every command and door.

`nianbao build`, `check`, `template`, the portal and the Dagster partitions all
ask here, so a year one of them accepts the others accept too.
"""

from __future__ import annotations

from pathlib import Path

from schemas import FIRST_YEAR, format_for_year, has_form
from schemas.errors import HomeError
from schemas.years import catalogue_path, last_year


def year_problem(year: int, home: Path | None = None) -> str | None:
    """Why `year` cannot be worked on (with the home at `home`, or without a home),
    in one line of Chinese; None when it can."""
    if year < FIRST_YEAR:
        return f"年度 {year} 早于 {FIRST_YEAR} 年，没有年度报告。"
    newest = last_year()
    if year > newest:
        return f"年度 {year} 尚未开始，最晚只能编制 {newest} 年度的报告。"
    try:
        format_for_year(year, home)
    except HomeError as exc:
        return " ".join(str(exc).split())
    return None


def buildable_years(home: Path | None) -> list[str]:
    """Every year `year_problem` may accept, cheaply (no catalogue is parsed: a legacy
    year counts when its catalogue file exists; a broken one is reported by the build).
    Without a home, every year from FIRST_YEAR."""
    years = range(FIRST_YEAR, last_year() + 1)
    if home is None:
        return [str(y) for y in years]
    return [str(y) for y in years if has_form(y) or catalogue_path(home, y).is_file()]
