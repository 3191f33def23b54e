"""Helpers for the workbook tests: locate input cells, fill them, and build
bad files programmatically (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl

from pipeline.workbook.writer import write_template
from schemas.base import Block, Column, ReportFormat, Row, Section, Table

Key = tuple[str, str, str]


def make_template(fmt: ReportFormat, tmp_path: Path, name: str = "template.xlsx", **kwargs) -> Path:
    args = {"unit_code": "U001", "unit_name": "某某区司法局", "year": 2024} | kwargs
    return write_template(fmt, tmp_path / name, **args)


def input_cells(wb: openpyxl.Workbook) -> dict[Key, tuple[str, str]]:
    """(table, row, column) -> (sheet, address), found from the hidden codes
    independently of the reader: marker `#table=` in the key column, `#columns`
    key rows, row codes (or `*` with `row|column` keys) on data lines."""
    found: dict[Key, tuple[str, str]] = {}
    for ws in wb.worksheets:
        marker = next(
            (c for row in ws.iter_rows(max_row=5) for c in row if str(c.value or "").startswith("#table=")),
            None,
        )
        if marker is None:
            continue
        table, key_col = marker.value.removeprefix("#table="), marker.column
        keys: dict[int, str] = {}
        for row in ws.iter_rows(min_row=marker.row + 1):
            line = row[key_col - 1].value if len(row) >= key_col else None
            if line == "#columns":
                keys = {c.column: c.value for c in row if c.column != key_col and c.value}
            elif line:
                for col, key in keys.items():
                    if ws.cell(row[0].row, col).protection.locked:
                        continue  # a grey, not-applicable cell
                    r, c = key.split("|") if line == "*" else (line, key)
                    found[(table, r, c)] = (ws.title, f"{openpyxl.utils.get_column_letter(col)}{row[0].row}")
    return found


def fill(template: Path, out: Path, values: dict[Key, object], edit=None) -> dict[Key, tuple[str, str]]:
    """Copy `template` to `out` with `values` typed in; `edit(wb)` may then change
    the layout. Returns where each value ends up (after the edit)."""
    wb = openpyxl.load_workbook(template)
    where = input_cells(wb)
    for key, value in values.items():
        sheet, addr = where[key]
        wb[sheet][addr] = value
    if edit is not None:
        edit(wb)
    wb.save(out)
    return input_cells(openpyxl.load_workbook(out))


def sample_values(fmt: ReportFormat) -> dict[Key, object]:
    """A value for every cell of the format: numbers by kind, text for narrative."""
    values: dict[Key, object] = {}
    for n, (key, kind) in enumerate(fmt.cell_kinds().items(), start=1):
        if kind == "text":
            values[key] = f"第{n}段文字\n第二行，含“引号”。"
        elif kind in ("decimal", "share"):
            values[key] = n + 0.25
        elif kind == "signed":
            values[key] = -n
        else:
            values[key] = n
    return values


def legacy_like_format() -> ReportFormat:
    """A catalogue-built format: only 'blocks' tables with arbitrary codes."""
    hotline = Table(
        code="hotline_2017",
        title="热线办理情况：来电[分类]统计/按渠道及办理结果汇总（2017年度）",
        blocks=(
            Block(
                heading="（一）来电",
                label_header="指标",
                columns=(
                    Column("count", "件数"),
                    Column("rate", "占比", kind="share"),
                    Column("note", "说明", kind="text"),
                ),
                rows=(
                    Row("calls.total", ("来电总量",), columns=("count",)),
                    Row("calls.consult", ("其中", "咨询"), columns=("count", "rate")),
                    Row("calls.other", ("其中", "其他")),
                ),
            ),
            Block(columns=(Column("delta", "增减", kind="signed"),), rows=(Row("other", ("其他",)),)),
        ),
    )
    return ReportFormat(
        code="legacy-2017",
        name="2017年度指标目录",
        sections=(Section("s1", "一、热线", table="hotline_2017"), Section("s2", "二、说明")),
        tables={"hotline_2017": hotline},
        rules=(),
        template_dir="legacy",
        narrative_rows=("s2",),
    )


def rewrite_member(src: Path, dst: Path, member: str, change) -> None:
    """Copy an .xlsx, passing the text of one zip member through `change`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == member:
                data = change(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)


def sheet_member(path: Path, title: str) -> str:
    """Zip member of the sheet called `title` (sheets are written in order)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    index = wb.sheetnames.index(title) + 1
    wb.close()
    return f"xl/worksheets/sheet{index}.xml"


def add_cached_value(xml: str, addr: str, value: str) -> str:
    """Give the formula in cell `addr` a cached result, as Excel would on save."""
    pattern = re.compile(rf'(<c r="{addr}"[^>]*>)<f>(.*?)</f>(<v\s*/>|<v></v>)?')
    new, count = pattern.subn(rf"\1<f>\2</f><v>{value}</v>", xml)
    assert count == 1, xml
    return new


def macro_workbook(src: Path, dst: Path) -> None:
    """An .xlsx carrying a VBA project part, as an .xlsm saved as .xlsx would."""
    rewrite_member(
        src,
        dst,
        "[Content_Types].xml",
        lambda text: text.replace(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
    )
    with zipfile.ZipFile(dst, "a") as zf:
        zf.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 512)


def encrypted_workbook(src: Path, dst: Path, password: str = "1234") -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    with src.open("rb") as fh:
        out = io.BytesIO()
        OOXMLFile(fh).encrypt(password, out)
    dst.write_bytes(out.getvalue())


def zip_bomb(
    src: Path, dst: Path, member: str = "xl/worksheets/sheet1.xml", size: int = 60 * 1024 * 1024
) -> None:
    """The workbook with one sheet padded by `size` bytes of blanks, which
    deflate to almost nothing; written in chunks to keep the test light."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename != member:
                zout.writestr(info, data)
                continue
            with zout.open(member, "w", force_zip64=True) as fh:
                fh.write(data)
                chunk = b" " * (1024 * 1024)
                for _ in range(size // len(chunk)):
                    fh.write(chunk)


def many_entries(src: Path, dst: Path, count: int) -> None:
    dst.write_bytes(src.read_bytes())
    with zipfile.ZipFile(dst, "a") as zf:
        for i in range(count):
            zf.writestr(f"xl/media/x{i}.txt", b"x")
