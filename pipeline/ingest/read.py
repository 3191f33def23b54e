"""One entry point for any handed-in file: file-level guards, then the right reader."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from pipeline.ingest.cells import ParsedFile, empty_cells
from pipeline.ingest.csv_reader import read_csv
from schemas.base import ReportFormat
from schemas.messages import Message

MAX_FILE_BYTES = 20 * 1024 * 1024  # a real submission is a few dozen KB
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def unsafe_name_reason(name: str) -> str | None:
    """Why a handed-in file name cannot be used, or None when it is fine."""
    if not name or name in {".", ".."} or ".." in name:
        return "文件名包含“..”"
    if "/" in name or "\\" in name or PurePosixPath(name).name != name or PureWindowsPath(name).name != name:
        return "文件名包含路径分隔符"
    if any(ord(ch) < 32 for ch in name):
        return "文件名包含控制字符"
    return None


def read_submission(
    data: bytes,
    *,
    name: str,
    fmt: ReportFormat,
    unit: str,
    year: int,
    path: Path | None = None,
    unit_code: str | None = None,
) -> ParsedFile:
    """Parse one unit's file. Never raises on bad input: problems come back as messages.

    `unit` is the label used in messages (“甲局（A）”); `unit_code` the code a
    CSV's unit column must match (defaults to `unit`).
    """

    def refuse(rule: str, text: str) -> ParsedFile:
        return ParsedFile(empty_cells(), [Message("ERROR", rule, unit, name, "", "", text)])

    reason = unsafe_name_reason(name)
    if reason:
        return refuse("F9", f"{reason}，不能接收。请把文件改成普通文件名（如“2025年报.xlsx”）后重新报送。")
    if len(data) == 0:
        return refuse("F1", "文件是空的（0 字节）。请确认保存了填好的文件后重新报送。")
    if len(data) > MAX_FILE_BYTES:
        return refuse(
            "F6",
            f"文件大小 {len(data) / 1024 / 1024:.1f} MB，超过上限 {MAX_FILE_BYTES // 1024 // 1024} MB。"
            "年报文件通常只有几十 KB，请使用下载的模板重新填写后报送。",
        )
    suffix = Path(name).suffix.lower()
    if suffix in {".xlsm", ".xltm", ".xlam"}:
        return refuse(
            "F3",
            "这是启用宏的工作簿，出于安全原因不予接收。请在 Excel/WPS 中另存为“Excel 工作簿(*.xlsx)”后重新报送。",
        )
    if data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC) or suffix == ".xlsx":
        from pipeline.ingest.xlsx_reader import read_xlsx  # openpyxl loads lazily

        if path is None:
            raise ValueError("an xlsx file is read from its archived path")
        return read_xlsx(path, fmt, unit=unit, display_name=name)
    if suffix in {".csv", ".txt"}:
        return read_csv(data, unit=unit, unit_code=unit_code or unit, year=year, display_name=name)
    return refuse(
        "F2",
        f"不支持“{suffix or '无扩展名'}”类型的文件。请使用下载的 Excel 模板（.xlsx）或导出的 CSV 文件报送。",
    )
