"""The writers: each turns one report view into the bytes of one output type.

Adding an output type is one `register(Writer(...))` here with a function
`(view, context) -> bytes`: the registry alone decides what a build writes, where,
and what the portal serves (see `Writer`). `document=True` marks a publication
document (slow to make): it is written by the documents asset into
reports/<year>/publish/, after the reports, so the HTML and Markdown never wait for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment

from pipeline.render.model import ReportView
from pipeline.render.reports import environment
from schemas.base import ReportFormat


@dataclass
class RenderContext:
    fmt: ReportFormat
    home_root: Path | None = None
    env: Environment = field(default_factory=environment)
    # Warnings a writer met (e.g. WeasyPrint's), for the asset's metadata and the tests.
    warnings: list[str] = field(default_factory=list)

    def template(self, name: str):
        """templates/<the format's folder>/<name> where the format has its own, else templates/shared/."""
        return self.env.select_template([f"{self.fmt.template_dir}/{name}", f"shared/{name}"])

    def html(self, view: ReportView, *, document: bool = False) -> str:
        print_css = ""
        if document:
            from pipeline.render.pdf import print_css as make_print_css

            print_css = make_print_css(view, self.home_root)
        template = self.template("report.html.j2")
        return template.render(report=view, document=document, print_css=print_css)

    def markdown(self, view: ReportView) -> str:
        md = self.template("report.md.j2").render(report=view)
        # Template control lines leave runs of blank lines; Markdown needs at most one.
        return re.sub(r"\n{3,}", "\n\n", md).strip() + "\n"


@dataclass(frozen=True)
class Writer:
    """One output type. Where its files go follows from its flags (pipeline/render/outputs.py):
    a quick output (not `document`) is written with the reports, reports/<year>/report<suffix>
    and units/<code><suffix>; `published` puts it in the publication bundle too (publish/);
    a `document` is slow to make, so it goes to publish/ only, after the reports, and a
    unit's is made when the unit downloads it from the portal (`label` names it on the
    button) or by a build with --unit-documents. `render` is a module-level function: the
    units' documents are rendered in worker processes, which receive the writer pickled."""

    name: str
    suffix: str
    render: Callable[[ReportView, RenderContext], bytes]
    document: bool = False
    published: bool = False
    media_type: str = "application/octet-stream"
    label: str = ""


WRITERS: dict[str, Writer] = {}


def register(writer: Writer) -> Writer:
    WRITERS[writer.name] = writer
    return writer


def quick(formats) -> list[Writer]:
    """The writers of `formats` written with the reports (reports/<year>/), in registry order."""
    return [w for w in WRITERS.values() if w.name in formats and not w.document]


def bundled(formats) -> list[Writer]:
    """The writers of `formats` in the publication bundle (publish/), in registry order."""
    return [w for w in WRITERS.values() if w.name in formats and (w.document or w.published)]


def documents() -> dict[str, Writer]:
    """The publication documents, by name: what the portal offers a unit to download."""
    return {w.name: w for w in WRITERS.values() if w.document}


def _html(view: ReportView, ctx: RenderContext) -> bytes:
    return ctx.html(view).encode("utf-8")


def _markdown(view: ReportView, ctx: RenderContext) -> bytes:
    return ctx.markdown(view).encode("utf-8")


def _docx(view: ReportView, ctx: RenderContext) -> bytes:
    from pipeline.render.docx import render_docx

    return render_docx(view, ctx.fmt.template_dir, ctx.home_root)


def _pdf(view: ReportView, ctx: RenderContext) -> bytes:
    from pipeline.render.pdf import render_pdf

    data, warnings = render_pdf(ctx.html(view, document=True), view, ctx.home_root)
    ctx.warnings += warnings
    return data


# The order here is the order of --formats and of the files listed after a build.
register(Writer("html", ".html", _html, published=True, media_type="text/html"))
register(Writer("md", ".md", _markdown, media_type="text/markdown"))
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
register(Writer("docx", ".docx", _docx, document=True, media_type=DOCX_TYPE, label="Word"))
register(Writer("pdf", ".pdf", _pdf, document=True, media_type="application/pdf", label="PDF"))


def parse_formats(text: str | None) -> tuple[str, ...]:
    """`--formats html,md,docx,pdf` (default: every writer); unknown names are refused in Chinese."""
    if not text:
        return tuple(WRITERS)
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in WRITERS]
    if unknown:
        raise ValueError(f"未知的输出格式：{'、'.join(unknown)}。可用的格式：{'、'.join(WRITERS)}。")
    return names
