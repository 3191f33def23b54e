"""Report formats, one module each; the report year decides which applies."""

from __future__ import annotations

from pathlib import Path

from schemas.base import ReportFormat

FIRST_YEAR = 2008  # the 2008 regulation (国务院令第492号)


def format_code_for_year(year: int) -> str:
    if year < FIRST_YEAR:
        raise ValueError(f"{year} 年早于《政府信息公开条例》施行（2008 年），没有年度报告格式")
    if year >= 2021:
        return "national-2021"
    if year >= 2019:
        return "trial-2019"
    return "legacy"


def format_for_year(year: int, home: Path | None = None) -> ReportFormat:
    """The format of `year`. Legacy formats are defined per home and year by the
    coordinating office's indicator catalogue, so they need `home`."""
    code = format_code_for_year(year)
    if code == "national-2021":
        from schemas.national_2021 import FORMAT

        return FORMAT
    if code == "trial-2019":
        from schemas.trial_2019 import FORMAT

        return FORMAT
    from schemas.legacy import load_format

    return load_format(home, year)
