"""The warehouse contract: the named tables a year's build keeps in
warehouse/<year>/, each with a pandera model checked when it is written.

Every step and asset reads and writes tables by name through `Warehouse`; no
module spells a file name. The models' columns and descriptions are also what
the Dagster assets show as table schemas (pipeline/defs/assets/common.py).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from pipeline.home import DamagedHome, Home, HomeError, PreviousYearNotBuilt, read_parquet, write_parquet
from schemas.frames import zip_columns
from schemas.messages import MESSAGE_FIELDS, Message
from schemas.rules.context import CellFrame


class Contract(pa.DataFrameModel):
    """A warehouse table: exactly its columns, coerced to their types when written."""

    class Config:
        strict = True
        coerce = True


class UnitsTable(pa.DataFrameModel):
    """本年度应报送的单位（单位名册中该年度有效的单位）。"""

    code: Series[str] = pa.Field(description="单位代码")
    name: Series[str] = pa.Field(description="单位名称")
    kind: Series[str] = pa.Field(description="单位类别")
    first_year: Series[str] = pa.Field(description="起始年度（空：名册建立时已有）")
    last_year: Series[str] = pa.Field(description="终止年度（空：仍在报送）")


class CellsTable(CellFrame):
    """各单位在用文件读出的单元格（表、行、列、原始值）及来源位置。"""

    sha256: Series[str] = pa.Field(description="文件内容哈希（SHA-256）")

    class Config:
        strict = True
        coerce = True


class FilesTable(Contract):
    """本年度收到的每一个文件：在用的一个，以及被新版本替换的。"""

    unit: Series[str] = pa.Field(description="单位代码")
    file: Series[str] = pa.Field(description="报送时的文件名")
    sha256: Series[str] = pa.Field(description="文件内容哈希（SHA-256）")
    size: Series[int] = pa.Field(ge=0, description="字节数")
    received_at: Series[str] = pa.Field(description="收到时间")
    in_use: Series[bool] = pa.Field(description="是否为该单位在用的版本")
    reader: Series[str] = pa.Field(description="读取器版本")
    origin: Series[str] = pa.Field(
        isin=["", "published"], description="来源：空为单位报送；published 为据已公开年报导入"
    )


class _CellAddress(pa.DataFrameModel):
    """The columns that name a cell of the form (mixed into the tables that hold figures)."""

    table: Series[str] = pa.Field(description="表代码")
    row: Series[str] = pa.Field(description="行代码")
    column: Series[str] = pa.Field(description="列代码")


class _SourcePlace(pa.DataFrameModel):
    """The columns that say where in a handed-in file something stands."""

    file: Series[str] = pa.Field(description="文件")
    sheet: Series[str] = pa.Field(description="工作表")
    location: Series[str] = pa.Field(description="单元格或 CSV 行号")


class MessagesTable(_SourcePlace, Contract):
    """校验消息：单位、文件、位置、规则编号与说明。"""

    severity: Series[str] = pa.Field(isin=["ERROR", "WARNING"], description="ERROR 退回；WARNING 提醒")
    rule: Series[str] = pa.Field(description="规则编号")
    unit: Series[str] = pa.Field(description="单位代码")
    unit_label: Series[str] = pa.Field(description="单位名称（代码）")
    text: Series[str] = pa.Field(description="说明")


class AcceptedTable(_CellAddress, Contract):
    """已采用单位的有效单元格（计入汇总）。"""

    unit: Series[str] = pa.Field(description="单位代码")
    value: Series[str] = pa.Field(description="规范化后的值")
    number: Series[float] = pa.Field(nullable=True, description="数值（文字为空）")
    kind: Series[str] = pa.Field(description="单元格类型")


class StatusTable(Contract):
    """各单位报送状态。"""

    unit: Series[str] = pa.Field(description="单位代码")
    status: Series[str] = pa.Field(isin=["accepted", "rejected", "missing"], description="状态")
    errors: Series[int] = pa.Field(ge=0, description="错误条数")
    warnings: Series[int] = pa.Field(ge=0, description="提醒条数")
    name: Series[str] = pa.Field(description="单位名称")
    file: Series[str] = pa.Field(description="在用文件")
    origin: Series[str] = pa.Field(
        isin=["", "published"], description="在用文件的来源：空为单位报送；published 为据已公开年报导入"
    )


class SectionTable(_CellAddress, Contract):
    """报告一部分的数值：各单位（scope = 单位代码）与全区合计（scope = district）。"""

    scope: Series[str] = pa.Field(description="district 或单位代码")
    value: Series[str] = pa.Field(description="值")


class ProvenanceTable(_CellAddress, _SourcePlace, Contract):
    """全区每个数字的来源：各已采用单位的值、文件、内容哈希、工作表与单元格（或 CSV 行号）。"""

    unit: Series[str] = pa.Field(description="单位代码")
    value: Series[str] = pa.Field(description="该单位的值")
    number: Series[float] = pa.Field(nullable=True, description="数值")
    sha256: Series[str] = pa.Field(description="文件内容哈希（SHA-256）")


class LastYearTable(AcceptedTable):
    """上年度的单元格（各规则与“与上年比较”所读的上年数字）：已采用的，及被退回单位最后一份文件中的。"""

    rejected_file: Series[str] = pa.Field(description="被退回单位的上年文件（空：上年已采用）")
    unreadable: Series[bool] = pa.Field(description="上年文件中无法读取的数字（未知，不按 0）")
    published_file: Series[str] = pa.Field(description="据已公开年报导入时的年报文件")


class YoyTable(_CellAddress, Contract):
    """与上年比较：全区（scope = district）与各单位的每个数字、上年可比数字、增减与变化百分比。"""

    scope: Series[str] = pa.Field(description="district 或单位代码")
    value: Series[str] = pa.Field(description="本年")
    previous: Series[str] = pa.Field(description="上年（空：没有可比数字）")
    previous_file: Series[str] = pa.Field(description="上年数字取自的被退回文件（空：上年已采用的数字）")
    difference: Series[str] = pa.Field(description="增减")
    percent: Series[str] = pa.Field(description="变化百分比（一位小数；上年为 0 时为空）")
    previous_origin: Series[str] = pa.Field(
        isin=["", "rejected", "published"],
        description="上年数字的来源：空为上年已采用的报送；rejected 为被退回的文件；published 为据已公开年报导入",
    )


@dataclass(frozen=True)
class TableSpec:
    name: str
    path: str  # relative to warehouse/<year>/
    model: type[pa.DataFrameModel]


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec("units", "units.parquet", UnitsTable),
        TableSpec("cells", "cells.parquet", CellsTable),
        TableSpec("files", "files.parquet", FilesTable),
        TableSpec("intake_messages", "intake_messages.parquet", MessagesTable),
        TableSpec("accepted", "accepted.parquet", AcceptedTable),
        TableSpec("messages", "messages.parquet", MessagesTable),
        TableSpec("status", "status.parquet", StatusTable),
        TableSpec("provenance", "provenance.parquet", ProvenanceTable),
        TableSpec("last_year", "last_year.parquet", LastYearTable),
        TableSpec("yoy", "yoy.parquet", YoyTable),
    )
}
SECTION_MODEL = SectionTable
# The intake's parse cache: data only (Parquet cells, JSON messages), never code.
PARSE_CACHE_CELLS = "parse_cache.parquet"
PARSE_CACHE_MESSAGES = "parse_cache.json"
# Years back the review page's trend charts read (pipeline/render/review.py).
TREND_YEARS = 30
# warehouse/<year>/sections/<key>.parquet, one per section asset (pipeline/defs/assets/sections.py).
SECTIONS = ("proactive", "applications", "review_litigation", "indicators", "narrative")


def messages_frame(messages: list[Message]) -> pd.DataFrame:
    if not messages:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in MESSAGE_FIELDS})
    return pd.DataFrame([m.as_dict() for m in messages], columns=list(MESSAGE_FIELDS)).astype("string")


def frame_messages(frame: pd.DataFrame) -> list[Message]:
    return [
        Message.from_dict(dict(zip(MESSAGE_FIELDS, values))) for values in zip_columns(frame, *MESSAGE_FIELDS)
    ]


@dataclass(frozen=True)
class Warehouse:
    """warehouse/<year>/ of one home."""

    root: Path

    @classmethod
    def of(cls, home: Home, year: int) -> Warehouse:
        return cls(home.warehouse_dir(year))

    def path(self, name: str) -> Path:
        return self.root / TABLES[name].path

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def write(self, name: str, frame: pd.DataFrame) -> Path:
        """Validate `frame` against the table's model, then write it atomically."""
        return write_parquet(TABLES[name].model.validate(frame), self.path(name))

    def read(self, name: str) -> pd.DataFrame:
        """A table as written, checked as it is read: a file that cannot be read or lacks
        its columns raises DamagedHome naming the file and how to rebuild it."""
        return self._checked(self.path(name), TABLES[name].model)

    def _checked(self, path: Path, model: type[pa.DataFrameModel]) -> pd.DataFrame:
        try:
            frame = read_parquet(path)
        except FileNotFoundError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyarrow's many errors: all mean "damaged"
            raise DamagedHome(self.damage(path, f"无法读取：{_first_line(exc)}")) from None
        missing = [c for c in model_columns(model) if c not in frame.columns]
        if missing:
            raise DamagedHome(self.damage(path, f"缺少列 {','.join(missing)}"))
        return frame

    def check(self, name: str, columns: list[str] | None = None) -> None:
        """What `read` checks, without building a frame (a third of the cost): every page
        of the table (or of `columns`, what a reader reads) decoded, the columns there."""
        import pyarrow.parquet as pq

        path = self.path(name)
        try:
            names = pq.read_schema(path).names
            pq.read_table(path, columns=columns, use_threads=False)
        except FileNotFoundError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyarrow's many errors: all mean "damaged"
            raise DamagedHome(self.damage(path, f"无法读取：{_first_line(exc)}")) from None
        missing = [c for c in model_columns(TABLES[name].model) if c not in names]
        if missing:
            raise DamagedHome(self.damage(path, f"缺少列 {','.join(missing)}"))

    @property
    def year(self) -> int:
        return int(self.root.name)

    @property
    def home_root(self) -> Path:
        return self.root.parent.parent

    def damage(self, path: Path, what: str) -> str:
        """One line: which file, what is wrong, and the command that writes it again."""
        shown = path.relative_to(self.home_root) if path.is_relative_to(self.home_root) else path
        return (
            f"数据目录中的 {shown} 已损坏（{what}）。请重新编制 {self.year} 年度："
            f"{build_command(self.home_root, self.year)}；该年度的报送文件也不完整时，请从备份恢复数据目录。"
        )

    def write_messages(self, name: str, messages: list[Message]) -> Path:
        return self.write(name, messages_frame(messages))

    def read_messages(self, name: str) -> list[Message]:
        return frame_messages(self.read(name))

    def section_path(self, key: str) -> Path:
        return self.root / "sections" / f"{key}.parquet"

    def write_section(self, key: str, frame: pd.DataFrame) -> Path:
        return write_parquet(SECTION_MODEL.validate(frame.astype("string")), self.section_path(key))

    def read_section(self, key: str) -> pd.DataFrame:
        return self._checked(self.section_path(key), SECTION_MODEL)

    @property
    def parse_cache(self) -> tuple[Path, Path]:
        """The parse cache's cells and messages files."""
        return self.root / PARSE_CACHE_CELLS, self.root / PARSE_CACHE_MESSAGES


def model_columns(model: type[pa.DataFrameModel]) -> list[str]:
    return list(model.to_schema().columns)


def build_command(home_root: Path, year: int) -> str:
    return f"nianbao build --home {shlex.quote(str(home_root))} --year {year}"


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"


@dataclass(frozen=True)
class PreviousYear:
    """Last year's warehouse tables a build compares with (status and cells are absent
    from warehouses written before they existed)."""

    year: int
    accepted: pd.DataFrame
    status: pd.DataFrame | None
    cells: pd.DataFrame | None


def has_inputs(home: Home, year: int) -> bool:
    """Whether the home holds submissions for `year`: a file in its inbox, or a
    manifest row (a file archived, e.g. one a unit uploaded and the portal refused)."""
    from pipeline.ingest.archive import read_manifest
    from pipeline.steps.inbox import scan_inbox

    return bool(scan_inbox(home, year)) or bool(read_manifest(home.archive, year=year))


def read_previous_year(home: Home, year: int) -> PreviousYear | None:
    """Last year's tables, read and checked; None only when there is genuinely no last
    year (no submissions for it in the home, or a year that cannot be built).

    A damaged table raises DamagedHome; submissions without a warehouse raise
    PreviousYearNotBuilt: "not built" is never taken for "no last year"."""
    last = _previous_warehouse(home, year)
    if last is None:
        return None
    optional = {name: last.read(name) if last.exists(name) else None for name in ("status", "cells")}
    return PreviousYear(last.year, last.read("accepted"), optional["status"], optional["cells"])


def check_previous_year(home: Home, year: int) -> None:
    """What read_previous_year raises, at a third of its cost (no frames are built)."""
    last = _previous_warehouse(home, year)
    if last is not None:
        for name in PREVIOUS_TABLES:
            if name == "accepted" or last.exists(name):
                last.check(name)


PREVIOUS_TABLES = ("accepted", "status", "cells")


def _previous_warehouse(home: Home, year: int) -> Warehouse | None:
    from schemas import FIRST_YEAR, format_for_year

    last, previous = Warehouse.of(home, year - 1), year - 1
    if previous < FIRST_YEAR:
        return None
    if last.exists("accepted"):
        return last
    if not has_inputs(home, previous):
        return None
    try:
        format_for_year(previous, home.root)
    except HomeError:  # a legacy year without its catalogue cannot be built (pipeline/years.py)
        return None
    raise PreviousYearNotBuilt(
        f"{previous} 年度有报送文件（收件箱或归档中），但还没有编制，{year} 年度无法与上年比较。"
        f"请先编制 {previous} 年度：{build_command(home.root, previous)}，再编制 {year} 年度。"
    )
