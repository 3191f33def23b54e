"""Turn a table definition and its values into grids for templates.

HTML templates get rows of cells with rowspan/colspan, as the official form
merges them; Markdown templates get plain rows with indented labels. Computing
the spans here keeps the templates to simple loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.base import Block, Row, Table


@dataclass
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    cls: str = ""
    # (row code, column code) of a figure's cell, so a page can attach its own data to it.
    key: tuple[str, str] | None = None

    @property
    def scope(self) -> str:
        """For real table headers (GB/T 37668): what a header cell labels."""
        if self.header:
            return "colgroup" if self.colspan > 1 else "col"
        if "label" in self.cls:
            return "rowgroup" if self.rowspan > 1 else "row"
        return ""


@dataclass
class Grid:
    head: list[list[Cell]] = field(default_factory=list)
    body: list[list[Cell]] = field(default_factory=list)
    layout: str = "blocks"  # the table's layout, for styling


@dataclass
class PlainTable:
    """A Markdown-ready table: one header row, then rows (a caption above it, optional)."""

    caption: str
    header: list[str]
    rows: list[list[str]]


Values = dict[tuple[str, str], str]


def _value(values: Values, row: str, column: str) -> str:
    return values.get((row, column), "0")


def html_grids(table: Table, values: Values) -> list[Grid]:
    if table.layout == "matrix":
        return [_matrix_grid(table, values)]
    if table.layout == "wide":
        return [_wide_grid(table, values)]
    return [_block_grid(block, values) for block in table.blocks]


def _block_grid(block: Block, values: Values) -> Grid:
    grid = Grid()
    width = 1 + len(block.columns)
    if block.heading:
        grid.head.append([Cell(block.heading, colspan=width, header=True, cls="block-heading")])
    grid.head.append(
        [Cell(block.label_header, header=True)] + [Cell(c.label, header=True) for c in block.columns]
    )
    for row in block.rows:
        present = {c.code for c in block.row_columns(row)}
        cells = [Cell(row.label, cls="label")]
        cells += [
            Cell(_value(values, row.code, c.code), cls="num", key=(row.code, c.code))
            if c.code in present
            else Cell("", cls="num na")
            for c in block.columns
        ]
        grid.body.append(cells)
    return grid


def _column_header_rows(block: Block, corner: str, depth: int, heading: str) -> list[list[Cell]]:
    """申请人情况 over the columns; grouped columns under their group label."""
    has_groups = any(c.group for c in block.columns)
    rows_needed = 2 + (1 if has_groups else 0)
    first = [Cell(corner, rowspan=rows_needed, colspan=depth, header=True, cls="corner")]
    first.append(Cell(heading, colspan=len(block.columns), header=True))
    second: list[Cell] = []
    third: list[Cell] = []
    seen_groups: set[str] = set()
    for column in block.columns:
        if not column.group:
            second.append(Cell(column.label, rowspan=2 if has_groups else 1, header=True))
        else:
            if column.group not in seen_groups:
                seen_groups.add(column.group)
                span = sum(1 for c in block.columns if c.group == column.group)
                second.append(Cell(column.group, colspan=span, header=True))
            third.append(Cell(column.label, header=True))
    return [first, second] + ([third] if has_groups else [])


def _run_length(rows: tuple[Row, ...], start: int, level: int) -> int:
    prefix = rows[start].path[: level + 1]
    count = 1
    while start + count < len(rows) and rows[start + count].path[: level + 1] == prefix:
        count += 1
    return count


def _matrix_grid(table: Table, values: Values) -> Grid:
    block = table.blocks[0]
    depth = max(len(r.path) for r in block.rows)
    grid = Grid(head=_column_header_rows(block, table.corner, depth, table.columns_heading), layout="matrix")
    rows = block.rows
    for i, row in enumerate(rows):
        cells: list[Cell] = []
        for level, label in enumerate(row.path):
            starts_group = i == 0 or rows[i - 1].path[: level + 1] != row.path[: level + 1]
            if not starts_group:
                continue
            last = level == len(row.path) - 1
            cells.append(
                Cell(
                    label,
                    rowspan=1 if last else _run_length(rows, i, level),
                    colspan=depth - level if last else 1,
                    cls="label",
                )
            )
        cells += [
            Cell(_value(values, row.code, c.code), cls="num", key=(row.code, c.code))
            for c in block.row_columns(row)
        ]
        grid.body.append(cells)
    return grid


def _wide_grid(table: Table, values: Values) -> Grid:
    block = table.blocks[0]
    rows = block.rows
    depth = max(len(r.path) for r in rows)
    width = len(block.columns)
    head: list[list[Cell]] = [[] for _ in range(depth + 1)]
    for i, row in enumerate(rows):
        for level, label in enumerate(row.path):
            if i > 0 and rows[i - 1].path[: level + 1] == row.path[: level + 1]:
                continue
            last = level == len(row.path) - 1
            span = width * (1 if last else _run_length(rows, i, level))
            head[level].append(Cell(label, colspan=span, rowspan=depth - level if last else 1, header=True))
    for _ in rows:
        head[depth].extend(Cell(c.label, header=True) for c in block.columns)
    body = [
        [
            Cell(_value(values, r.code, c.code), cls="num", key=(r.code, c.code))
            for r in rows
            for c in block.row_columns(r)
        ]
    ]
    return Grid(head=[h for h in head if h], body=body, layout="wide")


def placed(rows: list[list[Cell]]) -> list[list[tuple[int, Cell]]]:
    """Each cell with the grid column it starts in, rowspans accounted for (for writers
    such as DOCX that address a fixed grid rather than flowing cells as HTML does)."""
    taken: dict[tuple[int, int], bool] = {}
    out = []
    for r, cells in enumerate(rows):
        column, line = 0, []
        for cell in cells:
            while taken.get((r, column)):
                column += 1
            line.append((column, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken[(r + dr, column + dc)] = True
            column += cell.colspan
        out.append(line)
    return out


def width(rows: list[list[Cell]]) -> int:
    return max((col + cell.colspan for line in placed(rows) for col, cell in line), default=0)


def plain_tables(table: Table, values: Values) -> list[PlainTable]:
    """Markdown tables: readable as plain text, one header row each."""
    if table.layout == "wide":
        block = table.blocks[0]
        return [
            PlainTable(
                "",
                [""] + [c.label for c in block.columns],
                [
                    ["·".join(r.path)] + [_value(values, r.code, c.code) for c in block.row_columns(r)]
                    for r in block.rows
                ],
            )
        ]
    if table.layout == "matrix":
        block = table.blocks[0]
        header = [table.columns_heading] + [
            f"{c.group}·{c.label}" if c.group else c.label for c in block.columns
        ]
        body: list[list[str]] = []
        previous: tuple[str, ...] = ()
        for row in block.rows:
            # A group heading gets a line of its own the first time it appears.
            for level in range(len(row.path) - 1):
                if previous[: level + 1] != row.path[: level + 1]:
                    body.append(["　" * level + row.path[level]] + [""] * len(block.columns))
            body.append(
                ["　" * (len(row.path) - 1) + row.label]
                + [_value(values, row.code, c.code) for c in block.columns]
            )
            previous = row.path
        return [PlainTable("", header, body)]
    return [
        PlainTable(
            block.heading or "",
            [block.label_header] + [c.label for c in block.columns],
            [
                [row.label]
                + [
                    _value(values, row.code, c.code) if c in block.row_columns(row) else ""
                    for c in block.columns
                ]
                for row in block.rows
            ],
        )
        for block in table.blocks
    ]
