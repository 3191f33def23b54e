"""Last year's accepted figures that this year's form refers to (pre-filled in templates)."""

from __future__ import annotations

from pipeline.home import Home


def prefill_for(home: Home, unit: str, year: int) -> dict[tuple[str, str, str], str]:
    """carried_over <- last year's carried_forward; in_force <- last year's in_force.

    Only cells the new year's format has are returned; the unit can overwrite them.
    """
    import pandas as pd

    from schemas import format_for_year

    path = home.warehouse_dir(year - 1) / "accepted.parquet"
    if not path.exists():
        return {}
    fmt = format_for_year(year, home.root)
    kinds = fmt.cell_kinds()
    last = pd.read_parquet(path)
    last = last[last["unit"] == unit]
    out: dict[tuple[str, str, str], str] = {}
    for row in last.itertuples():
        if row.table == "applications" and row.row == "carried_forward":
            key = ("applications", "carried_over", row.column)
        elif row.table == "proactive" and row.column == "in_force":
            key = ("proactive", row.row, "in_force")
        else:
            continue
        if key in kinds:
            out[key] = row.value
    return out
