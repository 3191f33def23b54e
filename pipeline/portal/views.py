"""Page models: an upload's cells laid out as on the form, each message beside
the cell it concerns (matched by sheet and cell address, or CSV line). The
tables use the reports' own layout (pipeline/render/layout.py): merged group
headings, the row groups and the column groups exactly as the official form."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.render.layout import Grid, html_grids
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE, ReportFormat

SEVERITY_TEXT = {"ERROR": "错误", "WARNING": "提醒"}


@dataclass
class CellView:
    id: str
    applicable: bool
    value: str = ""
    where: str = ""
    messages: list[dict] = field(default_factory=list)

    @property
    def severity(self) -> str:
        if any(m["severity"] == "ERROR" for m in self.messages):
            return "error"
        return "warning" if self.messages else ""


@dataclass
class TableView:
    code: str
    title: str
    grids: list[Grid]
    # The figure cells by (row, column) code, matched to the grids' cells by their key.
    cells: dict[tuple[str, str], CellView]
    messages: int = 0


@dataclass
class FormView:
    tables: list[TableView]
    narrative: list[tuple[str, CellView]]
    general: list[dict]  # messages not tied to one cell
    has_cells: bool


def cell_id(table: str, row: str, column: str) -> str:
    return f"cell-{table}-{row}-{column}"


def where_text(message: dict) -> str:
    parts = []
    if message.get("sheet"):
        parts.append(f"工作表「{message['sheet']}」")
    if message.get("location"):
        parts.append(message["location"])
    return " ".join(parts)


def form_view(fmt: ReportFormat, cells: list[dict], messages: list[dict]) -> FormView:
    by_key: dict[tuple[str, str, str], dict] = {}
    by_place: dict[tuple[str, str], tuple[str, str, str]] = {}
    for c in cells:
        key = (c["table"], c["row"], c["column"])
        by_key.setdefault(key, c)
        if c.get("location"):
            by_place.setdefault((c.get("sheet", ""), c["location"]), key)
    attached: dict[tuple[str, str, str], list[dict]] = {}
    general = []
    for m in messages:
        key = by_place.get((m.get("sheet", ""), m.get("location", ""))) if m.get("location") else None
        if key is None:
            general.append(m)
        else:
            attached.setdefault(key, []).append(m)

    def view(key: tuple[str, str, str], applicable: bool = True) -> CellView:
        c = by_key.get(key)
        where = ""
        if c and c.get("location"):
            where = f"{c['sheet']}!{c['location']}" if c.get("sheet") else c["location"]
        return CellView(cell_id(*key), applicable, c["raw"] if c else "", where, attached.pop(key, []))

    tables = []
    for table in fmt.tables.values():
        cells = {(row, column): view((table.code, row, column)) for row, column, _ in table.cells()}
        values = {key: c.value for key, c in cells.items()}
        count = sum(len(c.messages) for c in cells.values())
        tables.append(TableView(table.code, table.title, html_grids(table, values), cells, count))
    narrative = [
        (fmt.section_heading(code), view((NARRATIVE_TABLE, code, NARRATIVE_COLUMN)))
        for code in fmt.narrative_rows
    ]
    # Messages at cells that are not on the form (unknown codes, N6) stay in the list.
    for key_messages in attached.values():
        general.extend(key_messages)
    return FormView(tables, narrative, general, bool(cells))
