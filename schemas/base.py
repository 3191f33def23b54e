"""The data model every report format is written in.

A format is data: sections, tables (rows, columns, verbatim labels, layout), the
rules that must hold, and the folder of its templates. Code elsewhere never
branches on a format's name; it reads these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# What a cell may hold. "count": integer >= 0; "signed": any integer;
# "decimal": number >= 0, written to its column's `places` (more are rounded, with a
# WARNING); "share": 0-100 (percent);
# "text": free text (narrative).
CellKind = Literal["count", "signed", "decimal", "share", "text"]
Severity = Literal["ERROR", "WARNING"]
# A kind of rule: one of schemas.rules.registry.KIND_ORDER, where every kind is declared
# once, in the order the engine checks them; each has one checking function registered.
RuleKind = str

NARRATIVE_TABLE = "narrative"
NARRATIVE_COLUMN = "text"


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    kind: CellKind = "count"
    # Label of a header spanning several columns (e.g. 法人或其他组织).
    group: str | None = None
    # "decimal" only: the decimal places figures are written to, and what that means
    # in the column's unit (amounts in 万元 to the fen: 6 places, "万元精确到分").
    places: int = 4
    precision: str = ""


@dataclass(frozen=True)
class Row:
    code: str
    # Labels from the outermost group heading down to the row's own label,
    # e.g. ("三、本年度办理结果", "（三）不予公开", "1.属于国家秘密").
    # Renderers merge equal prefixes into spanning cells, as the official form does.
    path: tuple[str, ...]
    # Column codes this row has; None = every column of its block.
    columns: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class Block:
    """Rows sharing one header; a table has one block or several stacked ones."""

    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    heading: str | None = None
    # Header of the first (label) column, e.g. 信息内容.
    label_header: str = ""

    def row_columns(self, row: Row) -> tuple[Column, ...]:
        if row.columns is None:
            return self.columns
        return tuple(c for c in self.columns if c.code in row.columns)


@dataclass(frozen=True)
class Table:
    code: str
    title: str
    blocks: tuple[Block, ...]
    # "blocks": stacked blocks, rows down the side (proactive);
    # "matrix": one block, hierarchical rows, grouped columns (applications);
    # "wide": each row becomes a group of columns in one data line (review_litigation).
    layout: Literal["blocks", "matrix", "wide"] = "blocks"
    # Text of the top-left header cell (the form's identity note in applications).
    corner: str = ""
    # Header spanning all value columns (申请人情况).
    columns_heading: str = ""
    # The section asset holding this table's values (pipeline/defs/assets/sections.py);
    # "" = the table's own code. Legacy indicator tables share "indicators".
    section: str = ""

    @property
    def section_asset(self) -> str:
        return self.section or self.code

    @property
    def rows(self) -> tuple[Row, ...]:
        return tuple(r for b in self.blocks for r in b.rows)

    def cells(self) -> list[tuple[str, str, Column]]:
        """Every (row, column) this table defines, in form order."""
        return [(r.code, c.code, c) for b in self.blocks for r in b.rows for c in b.row_columns(r)]

    def row(self, code: str) -> Row:
        for r in self.rows:
            if r.code == code:
                return r
        raise KeyError(code)

    def column(self, code: str) -> Column:
        for b in self.blocks:
            for c in b.columns:
                if c.code == code:
                    return c
        raise KeyError(code)


@dataclass(frozen=True)
class Section:
    code: str
    heading: str
    # Table code for a statistics section; None for a narrative (text) section.
    table: str | None = None


@dataclass(frozen=True)
class Rule:
    """One rule with its id (N1…), kind, severity and a Chinese description.

    The fields a kind reads:
      identity    sum(left) == sum(right) + constant (op "==") or <= (op "<="),
                  terms on `axis` ("rows": checked for every column in `over`,
                  "columns": for every row in `over`; None = all) of `table`;
      range       every cell of `table` in rows `left` (all when empty) within [low, high];
      carry_over  value(table, left[0], col, Y) == value(table, right[0], col, Y-1);
      stock_flow  for each row in `left`: stock(Y) == stock(Y-1) + inflow(Y) - outflow(Y),
                  `stock`, `inflow`, `outflow` being column codes of `table`;
      relation    a legacy catalogue's relation (schemas/legacy/checks.py);
      prose_fee, prose_problems, prose_length
                  the text section `left[0]` (a row of the narrative table);
      unhandled   rows `left` (received, carried over) of `table` in column `over[0]`
                  are not all 0 while row `right[0]` (handled) is 0;
      level       rows `left` of `table` hold 0 at a level of government that cannot
                  make them (schemas/rules/insight.py);
      the others  take no fields.
    """

    id: str
    kind: RuleKind
    severity: Severity
    description: str
    table: str = ""
    axis: Literal["rows", "columns"] = "rows"
    left: tuple[str, ...] = ()
    right: tuple[str, ...] = ()
    op: Literal["==", "<="] = "=="
    # For "identity" with axis="rows": the columns it is checked on (None = all).
    # With axis="columns": the rows it is checked on (None = all).
    over: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    # Added to the right-hand side (shares of one whole: parts == 100).
    constant: float = 0.0
    # Allowed absolute difference (shares that must sum to 100 ± 1).
    tolerance: float = 0.0
    # stock_flow: column codes of the stock and of what adds to and removes from it.
    stock: str = ""
    inflow: str = ""
    outflow: str = ""


CellRef = tuple[str, str, str]  # (table, row, column)


@dataclass(frozen=True)
class Indicator:
    """A rate regional leaders read, computed from a district's accepted figures:
    sum(numerator) / (sum(denominator) - sum(less)), in percent. Below `minimum` cases
    in the denominator there is no card: one case would move the rate by more than
    100 / minimum points (3.3 at 30), so the colour would say more about chance than
    about the district."""

    code: str  # stable ASCII code, the home.toml key: [indicators.<code>]
    label: str  # 实质公开率
    definition: str  # the definition in words, verbatim as the card shows it
    numerator: tuple[CellRef, ...]
    denominator: tuple[CellRef, ...]
    # "higher": higher is better (red below its red line); "lower": lower is better.
    direction: Literal["higher", "lower"]
    less: tuple[CellRef, ...] = ()  # subtracted from the denominator (尚未审结)
    minimum: int = 30
    denominator_label: str = ""  # what the denominator counts, for the no-card reason (办结)

    def cells(self) -> tuple[CellRef, ...]:
        return self.numerator + self.denominator + self.less


@dataclass(frozen=True)
class ReportFormat:
    code: str
    name: str  # e.g. 国办公开办函〔2021〕30号
    sections: tuple[Section, ...]
    tables: dict[str, Table]
    rules: tuple[Rule, ...]
    # Folder under templates/ for the format's own templates (report.html.j2, report.md.j2,
    # report.docx, district_overview.txt.j2); what it lacks comes from templates/shared/.
    template_dir: str
    # Row codes of narrative sections that units fill in.
    narrative_rows: tuple[str, ...] = ()
    # "tables": the report is the official sections (tables and units' text);
    # "narrative": the office writes the report as a narrative template (legacy era).
    report_kind: Literal["tables", "narrative"] = "tables"
    # Year-over-year across a format change: previous format code -> {this format's
    # (table, row, column): that format's cell meaning the same}. Within one format
    # every shared cell compares with itself (schemas.comparable).
    comparable: dict[str, dict[tuple[str, str, str], tuple[str, str, str]]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    # What each claim of schemas/phrases.py means in this format's cells (summed), for the
    # prose rules: "received" -> (("applications", "received", "total"),), …
    claims: dict[str, tuple[tuple[str, str, str], ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    # The leaders' indicators (issue 18; pipeline/steps/indicators.py), where its cells allow.
    indicators: tuple[Indicator, ...] = field(default=(), compare=False, hash=False, repr=False)

    def cell_kinds(self) -> dict[tuple[str, str, str], CellKind]:
        """(table, row, column) -> kind for every cell this format defines."""
        kinds: dict[tuple[str, str, str], CellKind] = {}
        for t in self.tables.values():
            for row, col, c in t.cells():
                kinds[(t.code, row, col)] = c.kind
        for row in self.narrative_rows:
            kinds[(NARRATIVE_TABLE, row, NARRATIVE_COLUMN)] = "text"
        return kinds

    def cell_places(self) -> dict[tuple[str, str, str], int]:
        """(table, row, column) -> decimal places of every "decimal" cell."""
        return {
            (t.code, row, col): c.places
            for t in self.tables.values()
            for row, col, c in t.cells()
            if c.kind == "decimal"
        }

    def column_of(self, table: str, row: str, column: str) -> Column | None:
        """The Column defining one cell (None for text and unknown cells)."""
        t = self.tables.get(table)
        if t is None:
            return None
        for r, c, col in t.cells():
            if r == row and c == column:
                return col
        return None

    def for_unit(self, unit: str) -> ReportFormat:
        """The part of the format one unit fills in: all of it here; a legacy
        catalogue gives each unit only its own indicators (LegacyFormat)."""
        return self

    def rules_of(self, kind: RuleKind) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind]

    def fingerprint(self) -> str:
        """Changes whenever what a reader looks for changes (codes, labels, layout):
        part of the parse cache's key, so an edited catalogue re-reads the files."""
        import hashlib

        return hashlib.sha256(repr((self.code, self.tables, self.narrative_rows)).encode()).hexdigest()[:16]

    def section_heading(self, code: str) -> str:
        for s in self.sections:
            if s.code == code:
                return s.heading
        return code

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)
