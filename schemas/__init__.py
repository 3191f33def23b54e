"""Report formats, one module each; the report year decides which applies.

`FORMATS` is the one table of formats: the first report year each applies to, its
code, and the module defining it. A module holds `FORMAT` (a national format, the
same in every home) or `load_format(home, year)` (the legacy era's, defined per home
by the coordinating office's catalogue). A new national format (a 2026 revision) is
one module and one row here; its templates fall back to templates/shared/.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from schemas.base import ReportFormat

FIRST_YEAR = 2008  # the 2008 regulation (国务院令第492号)


@dataclass(frozen=True)
class FormatEntry:
    first_year: int  # the first report year the format applies to (until the next row's)
    code: str
    module: str  # importable module with FORMAT, or load_format(home, year)
    # A printed national form, the same in every home (published reports are read against
    # it); the legacy era's indicators differ from district to district.
    form: bool = True


FORMATS: list[FormatEntry] = [
    FormatEntry(FIRST_YEAR, "legacy", "schemas.legacy", form=False),
    FormatEntry(2019, "trial-2019", "schemas.trial_2019"),  # 国办公开办函〔2019〕60号
    FormatEntry(2021, "national-2021", "schemas.national_2021"),  # 国办公开办函〔2021〕30号
]


def format_entry(year: int) -> FormatEntry:
    """The row of FORMATS whose years include `year`."""
    if year < FIRST_YEAR:
        raise ValueError(f"{year} 年早于《政府信息公开条例》施行（2008 年），没有年度报告格式")
    return max((f for f in FORMATS if f.first_year <= year), key=lambda f: f.first_year)


def format_code_for_year(year: int) -> str:
    return format_entry(year).code


def has_form(year: int) -> bool:
    """Whether `year`'s format is a printed national form (not the legacy era's)."""
    return format_entry(year).form


def form_formats() -> list[ReportFormat]:
    """Every printed national form, newest first."""
    return [format_for_year(f.first_year) for f in sorted(FORMATS, key=lambda f: -f.first_year) if f.form]


def format_for_year(year: int, home: Path | None = None) -> ReportFormat:
    """The format of `year`. Legacy formats are defined per home and year by the
    coordinating office's indicator catalogue, so they need `home`."""
    module = importlib.import_module(format_entry(year).module)
    if hasattr(module, "FORMAT"):
        return module.FORMAT
    return module.load_format(home, year)
