"""File guards, in one place: what a handed-in file must be before any reader parses it.

Names (F9, the allow-list of schemas/names.py), emptiness (F1), size (F6), type (F2, F3) for every file; for
workbooks, the package itself (encryption, old formats, macros, external links,
zip bombs, declared sheet sizes) before openpyxl touches it. A guard that
refuses a file raises `Refused` with the catalogue key and facts of its message.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath
from xml.etree import ElementTree

from schemas.names import name_problem

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MACRO_SUFFIXES = {".xlsm", ".xltm", ".xlam"}


class Refused(Exception):
    """A guard refused the file: the catalogue entry and facts of the message."""

    def __init__(self, key: str, sheet: str = "", **facts):
        super().__init__(key)
        self.key, self.sheet, self.facts = key, sheet, facts


# Limits. A filled form is ~30 KB; these leave room for heavy formatting.
MAX_FILE_BYTES = 20 * 1024 * 1024  # on disk (F6)
MAX_UNCOMPRESSED = 50 * 1024 * 1024  # declared total of all zip members (F5)
MAX_RATIO = 100  # uncompressed/compressed, for members above RATIO_MIN_SIZE (F5)
RATIO_MIN_SIZE = 1024 * 1024
MAX_ENTRIES = 500  # an .xlsx has a few dozen parts (F5)
MAX_ROWS = 5000  # per sheet (F5)
MAX_COLS = 200
MAX_SHEETS = 50  # a template has at most a dozen sheets (F14)

_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def check_file_bytes(data: bytes, name: str) -> str:
    """The reader a file goes to ("xlsx" or "csv"), or `Refused`: the guards every file passes."""
    reason = name_problem(name)
    if reason:
        raise Refused("F9.unsafe_name", reason=reason)
    if len(data) == 0:
        raise Refused("F1.empty")
    if len(data) > MAX_FILE_BYTES:
        raise Refused(
            "F6.too_large", mb=f"{len(data) / 1024 / 1024:.1f}", limit_mb=MAX_FILE_BYTES // 1024 // 1024
        )
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise Refused("F3.macro_name")
    if data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC) or suffix == ".xlsx":
        return "xlsx"
    if suffix in {".csv", ".txt"}:
        return "csv"
    raise Refused("F2.type", suffix=suffix or "无扩展名")


def check_xlsx_package(data: bytes) -> set[str]:
    """Refuse unreadable or dangerous workbooks before openpyxl opens them (it would
    fail obscurely or spend unbounded time and memory); return the names of sheets
    holding formulas."""
    if not data:
        raise Refused("F1.empty")
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise Refused("F4.encrypted")
        raise Refused("F2.xls")
    if not data.startswith(b"PK"):
        raise Refused("F2.not_zip")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise Refused("F5.cannot_open") from None
    with zf:
        return _check_members(zf)


def _check_members(zf: zipfile.ZipFile) -> set[str]:
    infos = zf.infolist()
    _check_sizes(infos)
    names = {i.filename for i in infos}
    _check_kind(zf, names)
    parts = _sheet_parts(zf)
    if len(parts) > MAX_SHEETS:
        raise Refused("F14.sheets", count=len(parts), limit=MAX_SHEETS)
    formula_sheets: set[str] = set()
    for name, part in parts.items():
        if part not in names:
            continue
        with zf.open(part) as fh:
            xml = fh.read()
        _check_declared_range(name, xml)
        if _FORMULA_TAG.search(xml):
            formula_sheets.add(name)
    return formula_sheets


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Too many parts, or more bytes unpacked than a workbook holds (a zip bomb), F5."""
    if len(infos) > MAX_ENTRIES:
        raise Refused("F5.parts", parts=len(infos))
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise Refused("F5.bomb", why=f"解压后约 {total / 1024 / 1024:.0f} MB，远超正常报表")
    if any(i.file_size > RATIO_MIN_SIZE and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos):
        raise Refused("F5.bomb", why="含有压缩比异常的内部部件")


def _check_kind(zf: zipfile.ZipFile, names: set[str]) -> None:
    """A plain workbook: no macros (F3), no external links (F13), not a binary workbook (F2)."""
    if any(n.lower().endswith("vbaproject.bin") for n in names) or (
        "[Content_Types].xml" in names and b"macroEnabled" in zf.read("[Content_Types].xml")
    ):
        raise Refused("F3.macro")
    if any(n.lower().startswith("xl/externallinks/") for n in names):
        raise Refused("F13.external_links")
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise Refused("F2.xlsb" if "xl/workbook.bin" in names else "F2.not_workbook")


def _check_declared_range(sheet: str, xml: bytes) -> None:
    """A sheet whose declared range runs past MAX_ROWS or MAX_COLS is refused (F5)."""
    from openpyxl.utils import range_boundaries  # openpyxl loads when a workbook is read

    match = _DIMENSION.search(xml, 0, 4096)
    if not match:
        return
    _, _, max_col, max_row = range_boundaries(match.group(1).decode())
    if (max_row or 0) > MAX_ROWS or (max_col or 0) > MAX_COLS:
        raise Refused(
            "F5.declared_range", sheet=sheet, rows=max_row, cols=max_col, max_rows=MAX_ROWS, max_cols=MAX_COLS
        )


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    targets: dict[str, str] = {}
    if "xl/_rels/workbook.xml.rels" in zf.namelist():
        for rel in ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels")):
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            targets[rel.get("Id", "")] = part
    return {
        s.get("name", ""): targets.get(s.get(_NS_REL, ""), "")
        for s in book.iter()
        if s.tag.endswith("}sheet") or s.tag == "sheet"
    }
