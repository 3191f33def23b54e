"""The PDF writer: the report's HTML with print CSS (templates/shared/print.css)
through WeasyPrint. Fonts: the office's licensed faces when present in the data
home's fonts/ folder (a file's name, without extension, is the font's name, e.g.
fonts/仿宋_GB2312.ttf), else Debian's fonts-noto-cjk as stand-ins. WeasyPrint
embeds a subset of every font used (fast with libharfbuzz-subset0). Without any
Chinese font no PDF is written (pipeline/render/fonts.py).

The bytes are reproducible: fixed metadata (title, author, dates from the
publication record) and a fixed document identifier.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path

from markupsafe import Markup

from pipeline.render.fonts import home_fonts, require
from pipeline.render.model import ReportView

PRINT_CSS = Path(__file__).resolve().parents[2] / "templates" / "shared" / "print.css"


def _font_faces(fonts: list[Path]) -> str:
    rules = []
    for path in fonts:
        name = path.stem.replace("\\", "").replace('"', "")
        rules.append(f'@font-face {{ font-family: "{name}"; src: url("{path.resolve().as_uri()}"); }}')
    return "\n".join(rules)


def print_css(view: ReportView, home_root: Path | None) -> Markup:
    """Paged-media rules for this view: the office's fonts, the draft mark as a header line."""
    css = _font_faces(home_fonts(home_root)) + "\n" + PRINT_CSS.read_text(encoding="utf-8")
    if view.draft:
        mark = view.draft_mark
        css += (
            f'\n@page {{ @top-right {{ content: "{mark}"; font-family: "黑体", "SimHei", "Noto Sans CJK SC",'
            " sans-serif; font-size: 16pt; vertical-align: bottom; padding-bottom: 6mm; } }\n"
        )
    return Markup(css)


@cache
def _font_config(fonts: tuple) -> object:
    """One font configuration per font set: Pango remembers how it resolved a family,
    so a font added to the home or the system later needs a fresh configuration."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def render_pdf(
    html: str, view: ReportView, home_root: Path | None = None, base: Path | None = None
) -> tuple[bytes, list[str]]:
    """PDF bytes and WeasyPrint's warnings (a missing glyph or font shows up there)."""
    from weasyprint import HTML

    from pipeline.render.docx import document_date

    fonts = (require(home_root), tuple((str(p), p.stat().st_mtime_ns) for p in home_fonts(home_root)))
    log = logging.getLogger("weasyprint")
    collect = _Collect()
    log.addHandler(collect)
    try:
        document = HTML(string=html, base_url=str(base) if base else None).render(
            font_config=_font_config(fonts)
        )
        stamp = document_date(view).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = document.metadata
        meta.title = view.title
        meta.authors = [view.government]
        meta.created = meta.modified = stamp
        meta.generator = "nianbao"
        meta.lang = "zh-CN"
        identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
        data = document.write_pdf(pdf_identifier=identifier)
    finally:
        log.removeHandler(collect)
    return data, collect.lines
