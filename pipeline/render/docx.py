"""The DOCX writer: a report view into a Word document in GB/T 9704 style.

docxtpl fills the Word template (page setup, styles, footers with the PAGE
field, the draft-mark header line, title and signature); the body is a
python-docx sub-document drawn from the view: headings, paragraphs and the
official tables with their merged headers (gridSpan/vMerge, from layout.py) and
header rows repeated on every page. The template is looked up in the data home's
templates/ first, so an office can restyle its own copy in Word or WPS. Office
templates render in a jinja2 sandbox; every value is XML-escaped.

The bytes are reproducible: zip entries carry a fixed time and the document's
dates come from the publication record (or the end of the report year).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from pipeline.render.layout import Grid, placed, width
from pipeline.render.model import ReportView
from schemas.text import strip_controls

SHIPPED = Path(__file__).resolve().parents[2] / "templates"
TYPE_AREA_MM = 156
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
HEADING_STYLE = {"h3": "二级标题", "h4": "三级标题"}
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def template_path(template_dir: str, home_root: Path | None) -> Path:
    """The first of <home>/templates/<era>/report.docx, <home>/templates/report.docx,
    templates/<era>/report.docx, templates/shared/report.docx."""
    candidates = []
    if home_root is not None:
        candidates += [
            home_root / "templates" / template_dir / "report.docx",
            home_root / "templates" / "report.docx",
        ]
    candidates += [SHIPPED / template_dir / "report.docx", SHIPPED / "shared" / "report.docx"]
    return next(p for p in candidates if p.is_file())


def _clean(text: str) -> str:
    # XML 1.0 cannot hold most control characters; the HTML/Markdown writers drop them too.
    return strip_controls(str(text))


def _column_widths(grid: Grid, columns: int) -> list[int]:
    """Label columns wider than figure columns; all within the 156 mm type area."""
    if grid.layout == "indicators":
        return [96, 30, 30]
    label_columns = 0
    for line in placed(grid.body):
        for col, cell in line:
            if "label" in cell.cls:
                label_columns = max(label_columns, min(col + cell.colspan, columns - 1))
    if label_columns == 0:
        return [TYPE_AREA_MM // columns] * columns
    figures = columns - label_columns
    figure_width = max(11, min(24, (TYPE_AREA_MM * 45 // 100) // figures))
    label_width = (TYPE_AREA_MM - figure_width * figures) // label_columns
    return [label_width] * label_columns + [figure_width] * figures


def _twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


def _run(text: str, bold: bool = False) -> str:
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(_clean(text))}</w:t></w:r>'


def _paragraph(text: str, style_id: str) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{_run(text)}</w:p>'


BORDERS = "".join(
    f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    for side in ("top", "left", "bottom", "right", "insideH", "insideV")
)


def _tc(width_twips: int, props: str, paragraph: str) -> str:
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width_twips}" w:type="dxa"/>{props}<w:vAlign w:val="center"/></w:tcPr>'
        f"{paragraph}</w:tc>"
    )


def grid_xml(grid: Grid, text_style: str, widths: list[int] | None = None) -> str:
    """A Word table drawn from a layout grid: merged cells as gridSpan (across) and vMerge
    (down), header rows repeated on each page, no row split across pages. Written as XML
    directly: python-docx's cell merging walks the whole table for each cell, too slow
    for every unit's document. `widths` (mm) when the caller knows its columns better."""
    rows = grid.head + grid.body
    widths = widths or _column_widths(grid, width(rows))
    out = [
        "<w:tbl><w:tblPr>",
        f'<w:tblW w:w="{_twips(sum(widths))}" w:type="dxa"/><w:jc w:val="center"/>',
        f'<w:tblBorders>{BORDERS}</w:tblBorders><w:tblLayout w:type="fixed"/>',
        '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>',
        "</w:tblPr><w:tblGrid>",
        *(f'<w:gridCol w:w="{_twips(w)}"/>' for w in widths),
        "</w:tblGrid>",
    ]
    empty = f'<w:p><w:pPr><w:pStyle w:val="{text_style}"/></w:pPr></w:p>'
    # Cells continuing a vertical merge from a row above: row -> [(column, span)].
    below: dict[int, list[tuple[int, int]]] = {}
    for r, line in enumerate(placed(rows)):
        out.append(f"<w:tr><w:trPr><w:cantSplit/>{'<w:tblHeader/>' if r < len(grid.head) else ''}</w:trPr>")
        cells: list[tuple[int, object]] = [*line, *below.pop(r, [])]
        for col, cell in sorted(cells, key=lambda item: item[0]):
            if isinstance(cell, int):
                span = f'<w:gridSpan w:val="{cell}"/>' if cell > 1 else ""
                out.append(_tc(_twips(sum(widths[col : col + cell])), span + "<w:vMerge/>", empty))
                continue
            for extra in range(1, cell.rowspan):
                below.setdefault(r + extra, []).append((col, cell.colspan))
            span = f'<w:gridSpan w:val="{cell.colspan}"/>' if cell.colspan > 1 else ""
            merge = '<w:vMerge w:val="restart"/>' if cell.rowspan > 1 else ""
            left = "label" in cell.cls or cell.cls in ("group", "block-heading")
            align = '<w:jc w:val="left"/>' if left else ""
            bold = cell.cls in ("group", "block-heading")
            paragraph = (
                f'<w:p><w:pPr><w:pStyle w:val="{text_style}"/>{align}</w:pPr>{_run(cell.text, bold)}</w:p>'
            )
            out.append(_tc(_twips(sum(widths[col : col + cell.colspan])), span + merge, paragraph))
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def body_xml(view: ReportView, style_ids: dict[str, str]) -> str:
    """Headings, paragraphs and tables of the report, in the template's named styles."""
    normal, h1, table_title = style_ids["Normal"], style_ids["一级标题"], style_ids["表格标题"]
    text_style = style_ids["表格文字"]
    out: list[str] = []

    def items(paragraphs) -> None:
        for p in paragraphs:
            style = style_ids[HEADING_STYLE[p.kind]] if p.kind in HEADING_STYLE else normal
            out.append(_paragraph(p.text, style))

    def tables(grids) -> None:
        # A paragraph after each table: Word joins tables that touch into one (and their header rows).
        for grid in grids:
            out.append(grid_xml(grid, text_style))
            out.append(f'<w:p><w:pPr><w:pStyle w:val="{text_style}"/></w:pPr></w:p>')

    items(view.preamble)
    for section in view.sections:
        out.append(_paragraph(section.heading, h1))
        items(section.items)
        tables(section.grids)
    if view.appendix:
        out.append(_paragraph(view.appendix_heading, h1))
        for section in view.appendix:
            out.append(_paragraph(section.heading, table_title))
            tables(section.grids)
    if view.coverage:
        c = view.coverage
        text = f"应报送单位 {c['expected']} 个，采用 {len(c['accepted'])} 个"
        if c["rejected"]:
            text += f"；未通过审核、未计入汇总 {len(c['rejected'])} 个：{'、'.join(c['rejected'])}"
        if c["missing"]:
            text += f"；未报送 {len(c['missing'])} 个：{'、'.join(c['missing'])}"
        out += [_paragraph("附：单位报送情况", h1), _paragraph(text + "。", normal)]
    return "".join(out)


def _body(tpl: DocxTemplate, view: ReportView):
    """The body as a docxtpl sub-document (inserted at the template's {{p body }})."""
    return subdoc(tpl, body_xml(view, style_ids(tpl)))


def style_ids(tpl: DocxTemplate) -> dict[str, str]:
    """The template's style names -> their ids (an office's copy may number them otherwise)."""
    tpl.init_docx()  # docxtpl opens the document on first use
    return {s.name: s.style_id for s in tpl.docx.styles}


def subdoc(tpl: DocxTemplate, xml: str):
    """Body XML (paragraphs and tables) as a docxtpl sub-document."""
    sub = tpl.new_subdoc()
    body = parse_xml(f'<w:body xmlns:w="{W_NS}">{xml}</w:body>')
    target = sub.subdocx.element.body
    for element in list(body):
        target.append(element)
    return sub


def document_date(view: ReportView) -> datetime:
    if view.record.final:
        try:
            return datetime.fromisoformat(view.record.date).replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime(view.year, 12, 31, tzinfo=UTC)


def _fixed_zip(data: bytes) -> bytes:
    """Same entries, same order, fixed times and permissions: equal inputs, equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def render_docx(view: ReportView, template_dir: str, home_root: Path | None = None) -> bytes:
    tpl = DocxTemplate(template_path(template_dir, home_root))
    record = view.record
    context = {
        "title": _clean(view.title),
        "draft_mark": view.draft_mark,
        "draft": view.draft,
        "record": {
            "number": _clean(record.number) if record.final else "",
            "issuer": _clean(record.issuer),
            "date_text": _clean(record.date_text),
            "final": record.final and view.kind == "district",
        },
        "body": _body(tpl, view),
        "year": view.year,
        "government": _clean(view.government),
    }
    return filled_bytes(tpl, context, title=view.title, author=view.government, stamp=document_date(view))


def filled_bytes(tpl: DocxTemplate, context: dict, *, title: str, author: str, stamp: datetime) -> bytes:
    """The template filled in a jinja2 sandbox, its properties set from the document (not
    the clock) and its zip entries fixed: equal inputs, equal bytes."""
    tpl.render(context, jinja_env=SandboxedEnvironment(undefined=StrictUndefined, autoescape=True))
    props = tpl.docx.core_properties
    # Only dc:/dcterms: properties: docxcompose rebinds the "cp" prefix, so python-docx would
    # add cp: elements (lastModifiedBy, revision) in the wrong namespace; the template holds those.
    props.created = props.modified = stamp.replace(tzinfo=None)
    props.title = _clean(title)
    props.author = _clean(author)
    props.language = "zh-CN"
    buffer = io.BytesIO()
    tpl.save(buffer)
    return _fixed_zip(buffer.getvalue())
