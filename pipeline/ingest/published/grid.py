"""An HTML table as the grid a reader sees: rowspan and colspan filled out.

Each grid slot keeps the cell it comes from (HTML row and cell index, 1-based)
so a value can say where it was printed, and so a cell spanning several value
columns is recognised as one cell, not several figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.ingest.published.labels import printed

MAX_SPAN = 50  # a form's widest header spans 15 columns; more is a broken page


@dataclass(frozen=True)
class Slot:
    text: str  # as printed, whitespace runs made single spaces
    row: int  # HTML <tr> index in its table, 1-based
    cell: int  # <td>/<th> index in its <tr>, 1-based


def _span(el, name: str) -> int:
    try:
        value = int((el.get(name) or "1").strip() or 1)
    except ValueError:
        return 1
    return min(max(value, 1), MAX_SPAN)


def cell_text(el) -> str:
    """A cell's text, paragraphs and line breaks as spaces."""
    parts = []
    for node in el.iter():
        if node.tag in ("br", "p", "div") and parts:
            parts.append(" ")
        if node.text and node.tag not in ("script", "style"):
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return printed("".join(parts))


def expand(table) -> list[list[Slot | None]]:
    """Rows of the table, each a list of slots by grid column (None where nothing is printed)."""
    grid: list[list[Slot | None]] = []
    pending: dict[tuple[int, int], Slot] = {}  # (grid row, grid column) -> slot spanning into it
    for r, tr in enumerate(table.iter("tr")):
        line: list[Slot | None] = []
        cells = [c for c in tr if c.tag in ("td", "th")]
        for i, td in enumerate(cells, start=1):
            while (r, len(line)) in pending:  # a cell from a row above spans down here
                line.append(pending.pop((r, len(line))))
            slot = Slot(cell_text(td), r + 1, i)
            col, rowspan, colspan = len(line), _span(td, "rowspan"), _span(td, "colspan")
            for dc in range(colspan):
                line.append(slot)
                for dr in range(1, rowspan):
                    pending[(r + dr, col + dc)] = slot
        while (r, len(line)) in pending:
            line.append(pending.pop((r, len(line))))
        grid.append(line)
    width = max((len(line) for line in grid), default=0)
    return [line + [None] * (width - len(line)) for line in grid]
