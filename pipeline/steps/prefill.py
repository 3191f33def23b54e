"""Last year's accepted figures that this year's form refers to (pre-filled in templates)."""

from __future__ import annotations

from pipeline.home import Home


def prefill_for(home: Home, unit: str, year: int) -> dict[tuple[str, str, str], str]:
    """What the format's cross-year rules carry: for a carry-over rule, this year's
    row `left[0]` from last year's row `right[0]`; for a stock-and-flow rule, the
    stock column of each of its rows. Only cells this year's format has are
    returned; the unit can overwrite them."""
    from pipeline.warehouse import Warehouse
    from schemas import format_for_year

    last_year = Warehouse.of(home, year - 1)
    if not last_year.exists("accepted"):
        return {}
    fmt = format_for_year(year, home.root)
    kinds = fmt.cell_kinds()
    # (table, last year's row or "*", last year's column or "*") -> this year's (row, column)
    carried: dict[tuple[str, str, str], tuple[str, str] | None] = {}
    for rule in fmt.rules_of("carry_over"):
        carried[(rule.table, rule.right[0], "*")] = (rule.left[0], "*")
    for rule in fmt.rules_of("stock_flow"):
        for row in rule.left:
            carried[(rule.table, row, rule.stock)] = (row, rule.stock)
    last = last_year.read("accepted")
    last = last[last["unit"] == unit]
    out: dict[tuple[str, str, str], str] = {}
    for row in last.itertuples():
        target = carried.get((row.table, row.row, "*")) or carried.get((row.table, row.row, row.column))
        if target is None:
            continue
        key = (row.table, target[0], row.column if target[1] == "*" else target[1])
        if key in kinds:
            out[key] = row.value
    return out
