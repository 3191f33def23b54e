"""The hostile-input corpus: every bad file is built by code into a temporary
directory (nothing binary is committed). Each case names the rule the file
must be refused under ("" = it must be read without error, e.g. a CSV-injection
text that is valid narrative), a fragment of the message, and a time bound.

Cases of the core issue (empty, wrong type, old .xls, macros, password, zip
bomb, oversized, unit/year mismatch, unknown codes, text for numbers, formula
without cached value, unsafe names) plus: truncated xlsx, 1,000,000 rows (dense
and sparse), 16,384 columns, shared-strings bombs (ratio and entity expansion),
external links, XXE, CSV with a NUL byte, mixed encodings, CSV injection; and
the faults of issue 11: over-long text, junk lines, many sheets, bidi and DEL in
names, control characters in text.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import xlsx_fixtures

from pipeline.synth import UnitHistory, submission, to_csv
from schemas import format_for_year

YEAR = 2025
UNIT, UNIT_NAME = "B", "乙局"
FMT = format_for_year(YEAR)
INJECTION = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert('x')</script>"


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # file name as handed in
    build: Callable[[Path], bytes]
    rule: str  # expected ERROR rule (prefix); "" = no ERROR expected
    fragment: str = ""  # expected in that message's text
    seconds: float = 20.0  # time bound for checking the file


def valid_cells(seed: int = 2) -> dict:
    return submission(FMT, UNIT_NAME, YEAR, random.Random(seed), UnitHistory())


def typed(cells: dict) -> dict:
    """CSV text values as a clerk would type them into Excel."""
    kinds = FMT.cell_kinds()
    out = {}
    for key, value in cells.items():
        if not re.fullmatch(r"-?\d+(\.\d+)?", str(value)):
            out[key] = value
        elif kinds.get(key) in ("count", "signed"):
            out[key] = int(value)
        elif kinds.get(key) in ("decimal", "share"):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def template(tmp: Path) -> Path:
    return xlsx_fixtures.make_template(
        FMT, tmp, name="hostile-template.xlsx", unit_code=UNIT, unit_name=UNIT_NAME, year=YEAR
    )


def filled(tmp: Path, cells: dict | None = None) -> Path:
    out = tmp / "hostile-filled.xlsx"
    xlsx_fixtures.fill(template(tmp), out, typed(cells or valid_cells()))
    return out


def csv_with(cells: dict | None = None, **meta) -> bytes:
    base = valid_cells()
    base.update(cells or {})
    return to_csv(base, **meta)


def rewrite(
    src: Path, change: Callable[[str, bytes], bytes | None], add: dict[str, bytes] | None = None
) -> bytes:
    """Copy a workbook, passing each member through `change(name, data)` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return out.getvalue()


def first_sheet(src: Path) -> str:
    wb = openpyxl.load_workbook(src)
    return xlsx_fixtures.sheet_member(src, wb.worksheets[0].title)


def with_cell_far_away(tmp: Path, ref: str, row: int) -> bytes:
    """A valid workbook whose first sheet also has one cell at `ref` (row `row`)."""
    src = filled(tmp)
    member = first_sheet(src)

    def change(name: str, data: bytes) -> bytes:
        if name != member:
            return data
        xml = data.decode("utf-8")
        xml = xml.replace(
            "</sheetData>",
            f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
        )
        return re.sub(r'<dimension ref="[^"]+"', f'<dimension ref="A1:{ref}"', xml).encode("utf-8")

    return rewrite(src, change)


def million_rows_dense(tmp: Path) -> bytes:
    """A real sheet of 1,000,000 rows (streamed into the zip; ~1 MB compressed)."""
    src = filled(tmp)
    member = first_sheet(src)
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != member:
                zout.writestr(info.filename, zin.read(info.filename))
                continue
            head = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            with zout.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(head.encode())
                chunk = []
                for r in range(1, 1_000_001):
                    chunk.append(f'<row r="{r}"><c r="B{r}"><v>1</v></c></row>')
                    if len(chunk) == 10000:
                        fh.write("".join(chunk).encode())
                        chunk = []
                fh.write("".join(chunk).encode() + b"</sheetData></worksheet>")
    return out.getvalue()


def shared_strings(tmp: Path, body: bytes) -> bytes:
    src = filled(tmp)

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/sharedStrings.xml":
            return body
        if name == "[Content_Types].xml" and b"sharedStrings" not in data:
            override = (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            )
            return data.replace(b"</Types>", override.encode() + b"</Types>")
        if name == "xl/_rels/workbook.xml.rels" and b"sharedStrings" not in data:
            rel = (
                '<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/sharedStrings" Target="sharedStrings.xml"/>'
            )
            return data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
        return data

    names = zipfile.ZipFile(src).namelist()
    add = {} if "xl/sharedStrings.xml" in names else {"xl/sharedStrings.xml": body}
    return rewrite(src, change, add)


SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def shared_strings_ratio_bomb(tmp: Path) -> bytes:
    """Two million tiny strings: ~40 MB of XML that compresses about 1000:1."""
    body = SST + b' count="2000000" uniqueCount="2000000">' + b"<si><t>A</t></si>" * 2_000_000 + b"</sst>"
    return shared_strings(tmp, body)


def shared_strings_entity_bomb(tmp: Path) -> bytes:
    """'Billion laughs': nested entities that would expand to gigabytes."""
    entities = '<!ENTITY a0 "LOLLOLLOLLOLLOLLOLLOL">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'.encode()
        + SST
        + b' count="1" uniqueCount="1"><si><t>&a9;</t></si></sst>'
    )
    return shared_strings(tmp, body)


def xxe(tmp: Path) -> bytes:
    """A shared string that would pull in a local file through an external entity."""
    body = (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + SST
        + b' count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    )
    return shared_strings(tmp, body)


def _without_type(attributes: str) -> str:
    return re.sub(r' t="[^"]+"', "", attributes)


def external_link(tmp: Path) -> bytes:
    """A value taken by formula from another workbook on a network share (cached 999)."""
    src = filled(tmp)
    wb = openpyxl.load_workbook(src)
    sheet, address = xlsx_fixtures.input_cells(wb)[("proactive", "penalty", "decisions")]
    member = xlsx_fixtures.sheet_member(src, sheet)
    link = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        '<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>999</v></cell></row></sheetData></sheetDataSet>'
        "</externalBook></externalLink>"
    )
    link_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
        'Target="file://///fileserver/share/evil.xlsx" TargetMode="External"/></Relationships>'
    )

    def change(name: str, data: bytes) -> bytes:
        text = data.decode("utf-8")
        if name == member:
            text = re.sub(
                rf'<c r="{address}"([^>]*?)(/>|>.*?</c>)',
                lambda m: f'<c r="{address}"{_without_type(m.group(1))}><f>[1]Sheet1!A1</f><v>999</v></c>',
                text,
                count=1,
            )
        elif name == "xl/workbook.xml":
            text = text.replace(
                "</workbook>",
                '<externalReferences><externalReference r:id="rIdX1"/></externalReferences></workbook>',
            )
            if 'xmlns:r="' not in text:
                text = text.replace(
                    "<workbook ",
                    '<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ',
                    1,
                )
        elif name == "xl/_rels/workbook.xml.rels":
            text = text.replace(
                "</Relationships>",
                '<Relationship Id="rIdX1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
            )
        elif name == "[Content_Types].xml":
            text = text.replace(
                "</Types>",
                '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
            )
        return text.encode("utf-8")

    return rewrite(
        src,
        change,
        {
            "xl/externalLinks/externalLink1.xml": link.encode(),
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode(),
        },
    )


def formula_without_cache(tmp: Path) -> bytes:
    src = filled(tmp)
    wb = openpyxl.load_workbook(src)
    sheet, address = xlsx_fixtures.input_cells(wb)[("proactive", "penalty", "decisions")]
    wb[sheet][address] = "=1+1"
    out = tmp / "hostile-formula.xlsx"
    wb.save(out)
    return out.read_bytes()


def mixed_encodings(tmp: Path) -> bytes:
    """UTF-8 header and most lines, one narrative line saved as GBK by another program."""
    utf8 = csv_with({("narrative", "problems", "text"): "PLACEHOLDER"})
    return utf8.replace(b"PLACEHOLDER", "存在的主要问题：人员不足。".encode("gbk"))


def csv_nul(tmp: Path) -> bytes:
    data = csv_with()
    return data[:40] + b"\x00" + data[40:]


def encrypted(tmp: Path) -> bytes:
    xlsx_fixtures.encrypted_workbook(filled(tmp), tmp / "hostile-enc.xlsx")
    return (tmp / "hostile-enc.xlsx").read_bytes()


def macro(tmp: Path) -> bytes:
    xlsx_fixtures.macro_workbook(filled(tmp), tmp / "hostile-macro.xlsx")
    return (tmp / "hostile-macro.xlsx").read_bytes()


def zip_bomb(tmp: Path) -> bytes:
    xlsx_fixtures.zip_bomb(filled(tmp), tmp / "hostile-bomb.xlsx")
    return (tmp / "hostile-bomb.xlsx").read_bytes()


def long_narrative(length: int) -> bytes:
    return csv_with({("narrative", "problems", "text"): "长" * length})


def junk_lines(count: int) -> bytes:
    return b"table,row,column,value\n" + b"junk,junk,junk,junk\n" * count


def many_sheets(tmp: Path) -> bytes:
    wb = openpyxl.Workbook()
    for n in range(59):
        wb.create_sheet(f"表{n}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


CASES = [
    # Those of the core issue.
    Case("empty", "b.csv", lambda t: b"", "F1", "空"),
    Case("not a spreadsheet", "b.pdf", lambda t: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "F2", "不支持"),
    Case("old xls", "b.xls", lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "F2"),
    Case("xlsm by name", "b.xlsm", lambda t: filled(t).read_bytes(), "F3", "宏"),
    Case("macros inside xlsx", "b.xlsx", macro, "F3", "宏"),
    Case("password protected", "b.xlsx", encrypted, "F4", "密码"),
    Case("zip bomb", "b.xlsx", zip_bomb, "F5"),
    Case(
        "oversized csv",
        "b.csv",
        lambda t: b"table,row,column,value\n" + b"x" * (21 * 1024 * 1024),
        "F6",
        "MB",
    ),
    Case("year differs", "b.csv", lambda t: csv_with(unit=UNIT, year=YEAR - 1), "F8", str(YEAR - 1)),
    Case("unit differs", "b.csv", lambda t: csv_with(unit="A", year=YEAR), "F8", "A"),
    Case(
        "unknown row",
        "b.csv",
        lambda t: csv_with({("applications", "recieved", "total"): "1"}),
        "N6",
        "recieved",
    ),
    Case(
        "text for a number",
        "b.csv",
        lambda t: csv_with({("proactive", "penalty", "decisions"): "约十件"}),
        "N5",
        "约十件",
    ),
    Case("formula without cached value", "b.xlsx", formula_without_cache, "F12", "公式"),
    Case("dotdot in name", "../../b.csv", lambda t: csv_with(), "F9", ".."),
    Case("backslash in name", "a\\b.csv", lambda t: csv_with(), "F9", "路径分隔符"),
    Case("control character in name", "b\x07.csv", lambda t: csv_with(), "F9", "控制字符"),
    # Added by the portal issue.
    Case("truncated xlsx", "b.xlsx", lambda t: filled(t).read_bytes()[:4000], "F5", "损坏"),
    Case("1,000,000 rows (dense)", "b.xlsx", million_rows_dense, "F5", seconds=30),
    Case(
        "1,000,000 rows (one far cell)",
        "b.xlsx",
        lambda t: with_cell_far_away(t, "B1000000", 1_000_000),
        "F5",
    ),
    Case("16,384 columns", "b.xlsx", lambda t: with_cell_far_away(t, "XFD7", 7), "F5"),
    Case("shared strings bomb (ratio)", "b.xlsx", shared_strings_ratio_bomb, "F5"),
    Case("shared strings bomb (entities)", "b.xlsx", shared_strings_entity_bomb, "F5"),
    Case("external entity (XXE)", "b.xlsx", xxe, "F5"),
    Case("external link", "b.xlsx", external_link, "F13", "外部链接"),
    Case("csv with NUL byte", "b.csv", csv_nul, "F10", "NUL"),
    Case("mixed encodings", "b.csv", mixed_encodings, "F10"),
    Case(
        "csv injection in narrative",
        "b.csv",
        lambda t: csv_with({("narrative", "overview", "text"): INJECTION}),
        "",
    ),
    Case("script in narrative", "b.csv", lambda t: csv_with({("narrative", "problems", "text"): SCRIPT}), ""),
    Case("script in file name", f"{SCRIPT}.csv", lambda t: csv_with(), "F9"),
    # Issue 11: the faults a security test found.
    Case("narrative over the csv field limit", "b.csv", lambda t: long_narrative(131_073), "F14", "上限"),
    Case("narrative at the csv field limit", "b.csv", lambda t: long_narrative(131_072), "F14", "上限"),
    Case("200,000 junk lines", "b.csv", lambda t: junk_lines(200_000), "F14", "20000"),
    Case("60 sheets", "b.xlsx", many_sheets, "F14", "工作表"),
    Case("bidi override in name", "b\u202excsv.csv", lambda t: csv_with(), "F9", "控制字符"),
    Case("DEL in name", "b\x7f.csv", lambda t: csv_with(), "F9", "控制字符"),
    # Issue 20 (E34): invisible characters that got through; one allow-list now (schemas/names.py).
    Case("arabic letter mark in name", "b\u061c.csv", lambda t: csv_with(), "F9", "U+061C"),
    Case("line separator in name", "b\u2028.csv", lambda t: csv_with(), "F9", "U+2028"),
    Case("zero-width space in name", "b\u200b.csv", lambda t: csv_with(), "F9", "U+200B"),
    Case("byte order mark in name", "b\ufeff.csv", lambda t: csv_with(), "F9", "U+FEFF"),
    Case(
        "control characters in narrative",
        "b.csv",
        lambda t: csv_with({("narrative", "overview", "text"): "总体情况\x01\x1b[31m\x7f\u202e正文"}),
        "",
    ),
]
