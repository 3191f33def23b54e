"""Render a table's markup once per shape, then fill each report's figures into it.

Every report of a format has the same tables; only the figures differ, and rendering
the table template cell by cell was most of a report's render time. The template
stays the source of the markup: it is rendered once per (template, shape) with a
sentinel in each figure's place, the output is cut at the sentinels, and a report's
table is those pieces with its figures between them, cleaned and escaped as the
template would have. Before a skeleton is used, filling it must give what the
template gives for a few probe figures; a template that drops, repeats or reorders
a figure, branches on one, or escapes it otherwise is rendered as usual.

Skeletons are kept per environment (each has its own renderers) and per compiled
template object, so another template folder, or a template reloaded after an edit,
never uses a skeleton made from other markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from jinja2 import Environment, Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

# Private-use characters: strip_controls keeps them and neither escaping touches them.
OPEN, CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(f"{OPEN}(\\d+){CLOSE}")

# Figures the skeleton must render exactly as the template does: a zero (which a
# template might print otherwise) and text with letters, everything either escaping
# changes, control characters and line breaks, and the sentinel characters themselves.
_HOSTILE = "aZ中<&>\"'|*_`\\[]~#-+=!1. \n\r\r\n\x00\x1b\x7f\u202e\u2028" + OPEN + "0" + CLOSE + OPEN
_ESCAPED_CACHE_SIZE = 10_000


class RenderedTable(Markup):
    """A table's finished markup: printed as it is (its figures are already clean and
    escaped, as the output of an include would be)."""


@dataclass(frozen=True)
class Skeleton:
    pieces: tuple[str, ...]  # the markup around the figures: one more piece than figures

    def fill(self, texts: Sequence[str]) -> str:
        out = [self.pieces[0]]
        for text, piece in zip(texts, self.pieces[1:], strict=True):
            out.append(text)
            out.append(piece)
        return "".join(out)


def sentinels(count: int) -> list[str]:
    return [f"{OPEN}{i}{CLOSE}" for i in range(count)]


def cut(rendered: str, count: int) -> Skeleton | None:
    """The pieces around sentinels 0..count-1, each found once and in order; else None."""
    parts = _SENTINEL.split(rendered)  # piece, index, piece, index, …, piece
    pieces = parts[0::2]
    if parts[1::2] != [str(i) for i in range(count)]:
        return None
    if any(OPEN in piece or CLOSE in piece for piece in pieces):
        return None  # a label holding the sentinel characters: cannot tell them apart
    return Skeleton(tuple(pieces))


class TableRenderer:
    """Renders one kind of table (a layout grid, a Markdown table) with the template
    `name` of `env`, given to it as the variable `variable`. `escape` turns a figure
    into what the template prints for it."""

    def __init__(self, env: Environment, name: str, variable: str, escape: Callable[[str], str]) -> None:
        self.env = env
        self.name = name
        self.variable = variable
        self.escape = escape
        # template object -> shape's signature -> its skeleton, or None where the template is rendered as usual
        self._skeletons: WeakKeyDictionary[Template, dict[str, Skeleton | None]] = WeakKeyDictionary()
        self._escaped: dict[str, str] = {}  # figures repeat ("0", small counts): escape each once

    def render(self, table: Any, context: Context | None = None) -> RenderedTable:
        """`table` (a Grid or PlainTable) as the template renders it; `context`: the
        including template's, whose variables an ordinary render sees (as an include's would)."""
        template = self.env.get_template(self.name)
        skeleton = self.skeleton(template, table.shape) if table.shape is not None else None
        if skeleton is None:
            variables = context.get_all() if context is not None else {}
            return RenderedTable(template.render({**variables, self.variable: table}))
        return RenderedTable(skeleton.fill([self._escape(text) for text in table.figures]))

    def skeleton(self, template: Template, shape: Any) -> Skeleton | None:
        known = self._skeletons.setdefault(template, {})
        if shape.signature not in known:
            known[shape.signature] = self._make_skeleton(template, shape)
        return known[shape.signature]

    def _make_skeleton(self, template: Template, shape: Any) -> Skeleton | None:
        count = len(shape.keys)
        try:
            skeleton = cut(self._sample(template, shape, sentinels(count)), count)
            probes = (["0"] * count, [f"{_HOSTILE}{i}" for i in range(count)])
            for figures in probes if skeleton else ():
                if self._sample(template, shape, figures) != skeleton.fill([self.escape(f) for f in figures]):
                    return None
        except Exception:  # noqa: BLE001 - e.g. a template using more than the table: render as usual
            return None
        return skeleton

    def _sample(self, template: Template, shape: Any, figures: list[str]) -> str:
        # Only the table itself: a template that needs more has no skeleton (StrictUndefined).
        return template.render({self.variable: shape.sample(figures)})

    def _escape(self, text: str) -> str:
        if type(text) is not str:
            return self.escape(text)  # remembered by value, 1 and 1.0 would share an entry
        escaped = self._escaped.get(text)
        if escaped is None:
            if len(self._escaped) >= _ESCAPED_CACHE_SIZE:
                self._escaped.clear()
            escaped = self._escaped[text] = self.escape(text)
        return escaped


def install(env: Environment) -> None:
    """The globals the report templates print tables with: `grid_html(grid)` renders
    shared/grid.html.j2, `md_table(table)` renders shared/table.md.j2."""
    finalize = env.finalize or (lambda value: value)
    md_inline = env.filters["md_inline"]
    renderers = {
        "grid_html": TableRenderer(env, "shared/grid.html.j2", "grid", lambda t: str(escape(finalize(t)))),
        "md_table": TableRenderer(env, "shared/table.md.j2", "table", lambda t: str(finalize(md_inline(t)))),
    }
    for name, renderer in renderers.items():
        env.globals[name] = _global(renderer)


def _global(renderer: TableRenderer):
    @pass_context
    def render(context: Context, table: Any) -> RenderedTable:
        return renderer.render(table, context)

    render.renderer = renderer  # type: ignore[attr-defined]  # for the tests
    return render
