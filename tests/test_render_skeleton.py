"""Tables rendered from a skeleton (pipeline/render/skeleton.py) are exactly what the
templates render cell by cell, for any figures; a template the skeleton cannot stand
for is rendered as usual."""

from __future__ import annotations

import pickle
import random

import pytest
from jinja2 import ChoiceLoader, DictLoader

from pipeline.render.layout import Cell, Grid, PlainTable, html_grids, plain_tables, table_shapes
from pipeline.render.model import Para, Record, ReportView, SectionView
from pipeline.render.reports import new_environment
from pipeline.render.skeleton import CLOSE, OPEN
from pipeline.render.writers import RenderContext
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.trial_2019 import FORMAT as TRIAL

FORMATS = [NATIONAL, TRIAL]
TABLES = [(fmt, code) for fmt in FORMATS for code in fmt.tables]
GRID = "shared/grid.html.j2"
MD_TABLE = "shared/table.md.j2"

# Figures as a unit might send them, and worse: markup, Markdown, controls, line
# breaks, and the sentinel characters themselves (alone, paired, or as a sentinel).
NASTY = [
    "0", "12", "3.5", "", " ", "<b>", "&amp;", "a|b", "*x*", "_", "`", "\\", "[x](y)", "~",
    "\x00", "\x1b[31m", "\u202e", "\r\n", "\u2028", "#", "- ", "1.", "'\"",
    OPEN, CLOSE, f"{OPEN}0{CLOSE}", f"{OPEN}1{CLOSE}", f"{CLOSE}{OPEN}", f"a{OPEN}99{CLOSE}b",
]  # fmt: skip


def random_values(table, rng: random.Random) -> dict[tuple[str, str], str]:
    values = {}
    for row, column, _ in table.cells():
        if rng.random() < 0.2:
            continue  # missing: printed as "0"
        values[(row, column)] = "".join(rng.choice(NASTY) for _ in range(rng.randint(1, 3)))
    return values


def renderer(env, name: str):
    return env.globals[name].renderer


def ordinary(env, name: str, variable: str, table) -> str:
    """The template rendered cell by cell (reading the cells makes the table an ordinary one)."""
    table.head if isinstance(table, Grid) else table.rows  # noqa: B018
    assert table.shape is None
    return env.get_template(name).render({variable: table})


@pytest.mark.parametrize("fmt,code", TABLES, ids=[f"{f.code}-{c}" for f, c in TABLES])
def test_skeleton_fill_equals_the_template_for_random_figures(fmt, code):
    table = fmt.tables[code]
    env = new_environment()
    rng = random.Random(f"{fmt.code}-{code}")
    for _ in range(20):
        values = random_values(table, rng)
        for fast, slow in zip(html_grids(table, values), html_grids(table, values)):
            assert fast.shape is not None
            assert str(renderer(env, "grid_html").render(fast)) == ordinary(env, GRID, "grid", slow)
        for fast, slow in zip(plain_tables(table, values), plain_tables(table, values)):
            assert str(renderer(env, "md_table").render(fast)) == ordinary(env, MD_TABLE, "table", slow)
    # The fills above came from skeletons, not from the fallback.
    shapes = table_shapes(table)
    for name, template, kinds in (("grid_html", GRID, shapes.grids), ("md_table", MD_TABLE, shapes.plain)):
        for shape in kinds:
            assert renderer(env, name).skeleton(env.get_template(template), shape) is not None


def unit_view(fmt, values_by_table) -> ReportView:
    sections = []
    for section in fmt.sections:
        view = SectionView(section.code, section.heading)
        if section.table:
            table = fmt.tables[section.table]
            view.grids = html_grids(table, values_by_table[section.table])
            view.plain_tables = plain_tables(table, values_by_table[section.table])
        else:
            view.items = [Para(f"{section.heading}<&>|*")]
        sections.append(view)
    record = Record(title="某单位年度报告", issuer="某单位")
    return ReportView("unit", "某单位年度报告", 2025, "某单位", fmt.name, record, [], sections)


def materialised(view: ReportView) -> ReportView:
    for section in view.sections:
        for grid in section.grids:
            grid.body  # noqa: B018
        for table in section.plain_tables:
            table.rows  # noqa: B018
    return view


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.code for f in FORMATS])
def test_whole_reports_are_the_same_either_way(fmt):
    rng = random.Random(fmt.code)
    values = {code: random_values(table, rng) for code, table in fmt.tables.items()}
    ctx = RenderContext(fmt)
    fast, slow = unit_view(fmt, values), materialised(unit_view(fmt, values))
    assert ctx.html(fast) == ctx.html(slow)
    assert ctx.markdown(fast) == ctx.markdown(slow)


def test_a_legacy_grid_without_a_shape_renders_as_the_include_did():
    grid = Grid(head=[[Cell(h, header=True) for h in ("指标", "计量单位", "数值")]], layout="indicators")
    grid.body.append([Cell("组<&>", colspan=3, cls="group")])
    grid.body.append([Cell("件数", cls="label indent1"), Cell("件"), Cell("1,591\x1b", cls="num")])
    env = new_environment()
    assert grid.shape is None
    assert str(renderer(env, "grid_html").render(grid)) == env.get_template(GRID).render(grid=grid)
    table = PlainTable("", ["指标", "计量单位", "数值"], [["件数|", "件", "1*2"]])
    assert str(renderer(env, "md_table").render(table)) == env.get_template(MD_TABLE).render(table=table)


def environment_with(templates: dict[str, str]):
    env = new_environment()
    env.loader = ChoiceLoader([DictLoader(templates), env.loader])
    return env


GRID_SOURCE = new_environment().loader.get_source(new_environment(), GRID)[0]
# Templates a skeleton cannot stand for: each must be rendered as usual.
ODD_GRIDS = {
    "drops a figure": GRID_SOURCE.replace("{{ cell.text }}</{{ tag }}>", "{% if loop.index != 2 %}{{ cell.text }}{% endif %}</{{ tag }}>"),
    "repeats a figure": GRID_SOURCE.replace("{{ cell.text }}</{{ tag }}>", "{{ cell.text }}{{ cell.text }}</{{ tag }}>"),
    "branches on a figure": GRID_SOURCE.replace("{{ cell.text }}</{{ tag }}>", "{{ '-' if cell.text == '0' else cell.text }}</{{ tag }}>"),
    "escapes otherwise": GRID_SOURCE.replace("{{ cell.text }}</{{ tag }}>", "{{ cell.text|upper }}</{{ tag }}>"),
    "uses the report": GRID_SOURCE.replace("<tbody>", "<tbody data-year=\"{{ report.year }}\">"),
}  # fmt: skip


@pytest.mark.parametrize("why", ODD_GRIDS)
def test_a_template_the_skeleton_cannot_stand_for_is_rendered_as_usual(why):
    assert ODD_GRIDS[why] != GRID_SOURCE
    env = environment_with({GRID: ODD_GRIDS[why]})
    fmt = NATIONAL
    rng = random.Random(why)
    values = {code: random_values(table, rng) for code, table in fmt.tables.items()}
    fast, slow = unit_view(fmt, values), materialised(unit_view(fmt, values))
    ctx = RenderContext(fmt, env=env)
    assert ctx.html(fast) == ctx.html(slow)
    template = env.get_template(GRID)
    for shape in table_shapes(fmt.tables["applications"]).grids:
        assert renderer(env, "grid_html").skeleton(template, shape) is None


def test_a_markdown_table_template_that_drops_a_figure_is_rendered_as_usual():
    source = new_environment().loader.get_source(new_environment(), MD_TABLE)[0]
    odd = source.replace("{{ md_row(cells) }}", "{{ md_row(cells[:-1]) }}")
    assert odd != source
    env = environment_with({MD_TABLE: odd})
    rng = random.Random(1)
    values = {code: random_values(table, rng) for code, table in NATIONAL.tables.items()}
    ctx = RenderContext(NATIONAL, env=env)
    assert ctx.markdown(unit_view(NATIONAL, values)) == ctx.markdown(
        materialised(unit_view(NATIONAL, values))
    )


def test_skeletons_follow_the_environment_and_an_edited_template():
    """Another template folder, or the template edited after a skeleton was made,
    never reuses the skeleton of other markup."""
    table = NATIONAL.tables["proactive"]
    plain, marked = (
        new_environment(),
        environment_with({GRID: GRID_SOURCE.replace("<table", "<table data-a")}),
    )
    grid = lambda: html_grids(table, {})[0]  # noqa: E731
    assert "data-a" not in renderer(plain, "grid_html").render(grid())
    assert "data-a" in renderer(marked, "grid_html").render(grid())
    templates = {GRID: GRID_SOURCE}
    edited = environment_with(templates)
    assert "data-b" not in renderer(edited, "grid_html").render(grid())
    templates[GRID] = GRID_SOURCE.replace("<table", "<table data-b")  # DictLoader reloads a changed source
    assert "data-b" in renderer(edited, "grid_html").render(grid())


def test_a_grid_sent_to_a_worker_process_finds_the_skeleton_of_its_original():
    """Publication documents are rendered in worker processes from pickled views."""
    env = new_environment()
    html = renderer(env, "grid_html")
    table = NATIONAL.tables["applications"]
    grid = html_grids(table, {})[0]
    first = html.render(grid)
    copy = pickle.loads(pickle.dumps(html_grids(table, {})[0]))
    assert copy.shape is not grid.shape and copy.shape is not None
    assert html.render(copy) == first
    assert len(html._skeletons[env.get_template(GRID)]) == 1
