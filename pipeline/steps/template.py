"""The workbook a unit fills in for a year: one function for the CLI and the portal."""

from __future__ import annotations

from pipeline.home import Home


def template_for(home: Home | None, unit: str, year: int) -> bytes:
    """Unit `unit`'s workbook for `year`: its own part of the format, pre-filled with
    last year's accepted figures. Without a home (a national year), blank and
    labelled with the unit's code."""
    from pipeline.steps.prefill import prefill_for
    from pipeline.workbook.writer import template_bytes
    from schemas import format_for_year
    from schemas.errors import HomeError

    name, prefill = unit, None
    if home is not None:
        registry = home.registry()
        if unit not in registry:
            raise HomeError(registry.unknown_text(unit))
        name = registry.name(unit)
        prefill = prefill_for(home, unit, year)
    fmt = format_for_year(year, home.root if home else None).for_unit(unit)
    return template_bytes(fmt, unit_code=unit, unit_name=name, year=year, prefill=prefill)
