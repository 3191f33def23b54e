"""Check one file without handing it in: the same messages a build gives it.

Used by `nianbao check` and by the portal, which shows them at once on upload.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.ingest.cells import ParsedFile
from schemas.messages import Message


def check_submission(
    path: Path, unit: str, year: int, home=None, *, name: str | None = None
) -> tuple[list[Message], ParsedFile]:
    """Messages for the file at `path` as unit `unit`'s submission for `year`,
    and what was read from it. `name` is the name handed in (default: the path's)."""
    import pandas as pd

    from pipeline.ingest.read import read_submission
    from pipeline.steps.intake import declared_mismatch
    from pipeline.steps.validate import previous_year
    from schemas import format_for_year
    from schemas.rules import check_cells

    name = name or path.name
    names = {}
    if home is not None:
        registry = home.registry()
        names = dict(zip(registry["code"], registry["name"]))
    label = f"{names[unit]}（{unit}）" if unit in names else unit
    fmt = format_for_year(year, home.root if home else None)
    parsed = read_submission(
        path.read_bytes(), name=name, fmt=fmt, unit=label, unit_code=unit, year=year, path=path
    )
    messages = list(parsed.problems)
    messages += declared_mismatch(label, unit, year, name, parsed.declared_units, parsed.declared_years)
    if home is not None and unit not in names:
        messages.append(
            Message("ERROR", "F7", unit, name, "", "", "单位代码不在单位名册中。请核对单位代码。", unit)
        )
    if not parsed.cells.empty:
        cells = parsed.cells.assign(unit=unit, year=year, file=name)
        previous, previous_format = previous_year(home, year) if home else (None, None)
        messages += check_cells(
            pd.DataFrame(cells), fmt, unit_names=names, previous=previous, previous_format=previous_format
        ).messages
    return messages, parsed


def check_file(path: Path, unit: str, year: int, home=None) -> list[Message]:
    return check_submission(path, unit, year, home)[0]
