"""The coordinating office's own texts for the district report (texts/<year>/<section>.md),
and the year-over-year values (`yoy`) their templates may quote. Read by the reports,
the review page and the insight checks alike."""

from __future__ import annotations

import re

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from pipeline.home import Home, HomeError


def office_texts(home: Home, year: int) -> dict[str, str]:
    """The coordinating office's own text for the district report: texts/<year>/<section>.md."""
    folder = home.root / "texts" / str(year)
    if not folder.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def office_template_context(yoy, v) -> dict:
    """`yoy(table, row, column="total")` (pipeline.steps.yoy.district_changes of the build's
    year-over-year table; None without one) and `v(table, row, column)` for the office's texts."""
    if yoy is None:
        return {}
    return {"yoy": yoy, "v": v}


_TEMPLATE_MARK = re.compile(r"\{\{|\{%")


def render_office_texts(texts: dict[str, str], context: dict) -> dict[str, str]:
    """Office texts that use template syntax are rendered in a sandbox (the office's own
    files, trusted, but given no loader and no file access); plain texts are left as written."""
    if not context.get("yoy"):
        return texts
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    out = {}
    for name, text in texts.items():
        if not _TEMPLATE_MARK.search(text):
            out[name] = text
            continue
        try:
            out[name] = env.from_string(text).render(**context)
        except TemplateError as exc:
            raise HomeError(
                f"政务公开办的文字 texts/{context['year']}/{name}.md 无法生成：{exc}。"
                '可用 {{ yoy("applications", "received") }} 写入与上年的比较。'
            ) from exc
    return out
