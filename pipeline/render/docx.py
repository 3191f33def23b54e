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

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.shared import Mm
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


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        el = OxmlElement(tag)
        tr_pr.append(el)


def _cant_split(row) -> None:
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _column_widths(grid: Grid, columns: int) -> list[int]:
    """Label columns wider than figure columns; all within the 156 mm type area."""
    label_columns = 0
    for line in placed(grid.body):
        for col, cell in line:
            if "label" in cell.cls or cell.cls == "group":
                label_columns = max(label_columns, min(col + cell.colspan, columns - 1))
    if grid.layout == "indicators":
        return [96, 30, 30]
    if label_columns == 0:
        return [TYPE_AREA_MM // columns] * columns
    figures = columns - label_columns
    figure_width = max(11, min(24, (TYPE_AREA_MM * 45 // 100) // figures))
    label_width = (TYPE_AREA_MM - figure_width * figures) // label_columns
    return [label_width] * label_columns + [figure_width] * figures


def add_grid(doc, grid: Grid) -> None:
    rows = grid.head + grid.body
    columns = width(rows)
    table = doc.add_table(rows=len(rows), cols=columns)
    table.style = doc.styles["Table Grid"] if "Table Grid" in [s.name for s in doc.styles] else None
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _column_widths(grid, columns)
    for i, w in enumerate(widths):
        table.columns[i].width = Mm(w)
    style = doc.styles["表格文字"]
    for r, line in enumerate(placed(rows)):
        row = table.rows[r]
        if r < len(grid.head):
            _repeat_header(row)
        else:
            _cant_split(row)
        for col, cell in line:
            target = row.cells[col]
            if cell.rowspan > 1 or cell.colspan > 1:
                target = target.merge(table.rows[r + cell.rowspan - 1].cells[col + cell.colspan - 1])
            paragraph = target.paragraphs[0]
            paragraph.style = style
            if "label" in cell.cls or cell.cls == "group" or cell.cls == "block-heading":
                paragraph.alignment = 0  # left
            run = paragraph.add_run(_clean(cell.text))
            if cell.header or cell.cls in ("group", "block-heading"):
                run.bold = cell.cls in ("group", "block-heading")
    for row in table.rows:
        for i, c in enumerate(row.cells):
            c.width = Mm(widths[min(i, len(widths) - 1)])


def _body(tpl: DocxTemplate, view: ReportView):
    sub = tpl.new_subdoc()
    doc = sub.subdocx

    def items(paragraphs):
        for p in paragraphs:
            doc.add_paragraph(_clean(p.text), style=HEADING_STYLE.get(p.kind, "Normal"))

    items(view.preamble)
    for section in view.sections:
        doc.add_paragraph(_clean(section.heading), style="一级标题")
        items(section.items)
        for grid in section.grids:
            add_grid(doc, grid)
    if view.appendix:
        doc.add_paragraph(_clean(view.appendix_heading), style="一级标题")
        for section in view.appendix:
            doc.add_paragraph(_clean(section.heading), style="表格标题")
            for grid in section.grids:
                add_grid(doc, grid)
    if view.coverage:
        c = view.coverage
        doc.add_paragraph("附：单位报送情况", style="一级标题")
        text = f"应报送单位 {c['expected']} 个，采用 {len(c['accepted'])} 个"
        if c["rejected"]:
            text += f"；未通过审核、未计入汇总 {len(c['rejected'])} 个：{'、'.join(c['rejected'])}"
        if c["missing"]:
            text += f"；未报送 {len(c['missing'])} 个：{'、'.join(c['missing'])}"
        doc.add_paragraph(_clean(text + "。"))
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
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
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
    tpl.render(context, jinja_env=env)
    props = tpl.docx.core_properties
    stamp = document_date(view).replace(tzinfo=None)
    # Only dc:/dcterms: properties: docxcompose rebinds the "cp" prefix, so python-docx would
    # add cp: elements (lastModifiedBy, revision) in the wrong namespace; the template holds those.
    props.created = props.modified = stamp
    props.title = _clean(view.title)
    props.author = _clean(view.government)
    props.language = "zh-CN"
    buffer = io.BytesIO()
    tpl.save(buffer)
    return _fixed_zip(buffer.getvalue())
