"""Turn a table definition and its values into grids for templates.

HTML templates get rows of cells with rowspan/colspan, as the official form
merges them; Markdown templates get plain rows with indented labels. Computing
the spans here keeps the templates to simple loops.

Every report of a format has the same tables with other figures, so each table's
layout is computed once as a *shape* (its cells with a `Slot` where a figure goes)
and a report's grid is that shape plus its figures. The cells are made only when a
reader asks for them; the renderers fill the figures into markup rendered once per
shape (pipeline/render/skeleton.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from pipeline.memo import IdentityCache
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


@dataclass(frozen=True, eq=False)
class Slot:
    """Where a figure goes in a shape: the figure of `key`."""

    key: tuple[str, str]


def _slot_keys(rows) -> tuple[tuple[str, str], ...]:
    return tuple(text.key for row in rows for text in row if isinstance(text, Slot))


def _filled(texts, figures) -> list:
    """`texts` with each Slot replaced by the next of `figures`."""
    return [next(figures) if isinstance(text, Slot) else text for text in texts]


def _fresh_cells(rows: tuple[tuple[Cell, ...], ...], figures) -> list[list[Cell]]:
    """Copies of `rows`, each Slot replaced by the next of `figures`."""
    return [
        [replace(c, text=next(figures) if isinstance(c.text, Slot) else c.text) for c in row] for row in rows
    ]


class _Shape:
    """What the grid and Markdown shapes share."""

    @cached_property
    def signature(self) -> str:
        """All a template can see of the shape: keys the renderers' skeletons by content,
        so a shape sent to a worker process (a copy) finds the skeleton of its original."""
        return repr(self)


@dataclass(frozen=True, eq=False)
class GridShape(_Shape):
    """A grid's cells with a Slot as the text of each figure's cell."""

    head: tuple[tuple[Cell, ...], ...]
    body: tuple[tuple[Cell, ...], ...]
    layout: str
    keys: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, grid: Grid) -> GridShape:
        head = tuple(tuple(row) for row in grid.head)
        body = tuple(tuple(row) for row in grid.body)
        return cls(head, body, grid.layout, _slot_keys([[c.text for c in row] for row in head + body]))

    def cells(self, figures) -> tuple[list[list[Cell]], list[list[Cell]]]:
        """Fresh cells (head, body) with `figures` in the slots, in reading order."""
        it = iter(figures)
        return _fresh_cells(self.head, it), _fresh_cells(self.body, it)

    def sample(self, figures) -> Grid:
        """An ordinary grid of this shape with `figures` (to render the shape's markup)."""
        head, body = self.cells(figures)
        return Grid(head, body, self.layout)


class Grid:
    """A table's header rows and body rows of cells, and its layout (for styling).

    A grid is either given its cells, or made from a shape and its figures
    (`Grid.filled`); the cells of the latter are made when first read, and from then
    on it is an ordinary grid (its `shape` is None), whose lists a reader may change.
    """

    def __init__(self, head: list[list[Cell]] | None = None, body: list[list[Cell]] | None = None,
                 layout: str = "blocks") -> None:  # fmt: skip
        self._head = head if head is not None else []
        self._body = body if body is not None else []
        self.layout = layout
        self.shape: GridShape | None = None
        self.figures: tuple[str, ...] = ()

    @classmethod
    def filled(cls, shape: GridShape, figures: tuple[str, ...]) -> Grid:
        grid = cls(layout=shape.layout)
        grid.shape, grid.figures = shape, figures
        return grid

    def _cells(self) -> tuple[list[list[Cell]], list[list[Cell]]]:
        if self.shape is not None:
            self._head, self._body = self.shape.cells(self.figures)
            self.shape, self.figures = None, ()
        return self._head, self._body

    @property
    def head(self) -> list[list[Cell]]:
        return self._cells()[0]

    @property
    def body(self) -> list[list[Cell]]:
        return self._cells()[1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grid):
            return NotImplemented
        return (self.head, self.body, self.layout) == (other.head, other.body, other.layout)

    def __repr__(self) -> str:
        # Part of a view's repr, which keys the render cache: it must show the content.
        if self.shape is not None:
            return f"Grid(shape={self.shape!r}, figures={self.figures!r})"
        return f"Grid(head={self._head!r}, body={self._body!r}, layout={self.layout!r})"


@dataclass(frozen=True, eq=False)
class PlainShape(_Shape):
    """A Markdown table with a Slot for each figure."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str | Slot, ...], ...]
    keys: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, table: PlainTable) -> PlainShape:
        rows = tuple(tuple(row) for row in table.rows)
        return cls(table.caption, tuple(table.header), rows, _slot_keys(rows))

    def cells(self, figures) -> list[list[str]]:
        it = iter(figures)
        return [_filled(row, it) for row in self.rows]

    def sample(self, figures) -> PlainTable:
        return PlainTable(self.caption, list(self.header), self.cells(figures))


class PlainTable:
    """A Markdown-ready table: one header row, then rows (a caption above it, optional).
    Like a Grid, either given its rows or made from a shape and its figures."""

    def __init__(self, caption: str, header: list[str], rows: list[list[str]]) -> None:
        self.caption = caption
        self.header = header
        self._rows = rows
        self.shape: PlainShape | None = None
        self.figures: tuple[str, ...] = ()

    @classmethod
    def filled(cls, shape: PlainShape, figures: tuple[str, ...]) -> PlainTable:
        table = cls(shape.caption, list(shape.header), [])
        table.shape, table.figures = shape, figures
        return table

    @property
    def rows(self) -> list[list[str]]:
        if self.shape is not None:
            self._rows = self.shape.cells(self.figures)
            self.shape, self.figures = None, ()
        return self._rows

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PlainTable):
            return NotImplemented
        return (self.caption, self.header, self.rows) == (other.caption, other.header, other.rows)

    def __repr__(self) -> str:
        if self.shape is not None:
            return f"PlainTable(shape={self.shape!r}, figures={self.figures!r})"
        return f"PlainTable(caption={self.caption!r}, header={self.header!r}, rows={self._rows!r})"


Values = dict[tuple[str, str], str]


class _Slots(dict):
    """Values that answer every lookup with a Slot: the builders below, given these,
    make a table's shape."""

    def get(self, key, default=None):
        return Slot(key)


@dataclass(frozen=True)
class TableShapes:
    grids: tuple[GridShape, ...]
    plain: tuple[PlainShape, ...]


def _table_shapes(table: Table) -> TableShapes:
    slots = _Slots()
    return TableShapes(
        tuple(GridShape.of(g) for g in _html_grids(table, slots)),
        tuple(PlainShape.of(t) for t in _plain_tables(table, slots)),
    )


# Per table object: formats are made once, so this stays small.
table_shapes = IdentityCache(_table_shapes)


def _figures(keys: tuple[tuple[str, str], ...], values: Values) -> tuple[str, ...]:
    return tuple([_value(values, row, column) for row, column in keys])


def html_grids(table: Table, values: Values) -> list[Grid]:
    return [Grid.filled(shape, _figures(shape.keys, values)) for shape in table_shapes(table).grids]


def plain_tables(table: Table, values: Values) -> list[PlainTable]:
    """Markdown tables: readable as plain text, one header row each."""
    return [PlainTable.filled(shape, _figures(shape.keys, values)) for shape in table_shapes(table).plain]


def _value(values: Values, row: str, column: str) -> str:
    return values.get((row, column), "0")


def _html_grids(table: Table, values: Values) -> list[Grid]:
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


def _plain_tables(table: Table, values: Values) -> list[PlainTable]:
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
