"""The data home: one directory holding configuration, registry, inbox, archive,
warehouse and reports (see README "数据目录")."""

from __future__ import annotations

import os
import tempfile
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.errors import HomeError
from schemas.units import Registry, load_registry

if TYPE_CHECKING:  # pandas is imported where frames are used: the sensor reads paths only
    import pandas as pd

__all__ = ["DamagedHome", "Home", "HomeError", "read_parquet", "write_atomic", "write_parquet"]

HOME_ENV = "NIANBAO_HOME"


class DamagedHome(HomeError):
    """A file the build reads from the home is damaged or missing where it must exist.
    Raised before anything is written; the message names the file and what to do."""


class PreviousYearNotBuilt(HomeError):
    """Last year has submissions in the home but no warehouse: building this year now
    would silently compare with nothing. The message gives the command to run first."""


INBOX_DIGEST = "inbox.digest"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, path: str | os.PathLike | None = None) -> Home:
        chosen = path or os.environ.get(HOME_ENV)
        if not chosen:
            raise HomeError(f"没有指定数据目录：请用 --home 指定，或设置环境变量 {HOME_ENV}。")
        root = Path(chosen).expanduser().resolve()
        if not (root / "home.toml").is_file():
            raise HomeError(
                f"“{root}”不是 nianbao 数据目录（缺少 home.toml）。可用 `nianbao demo` 生成一个示例目录。"
            )
        return cls(root)

    # Layout -----------------------------------------------------------------
    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    def inbox_dir(self, year: int) -> Path:
        return self.inbox / str(year)

    def published_dir(self, year: int) -> Path:
        """published/<year>/<unit>/: a unit's published report the office recorded as its
        figures for a year the home has no submission for (pipeline/steps/published.py)."""
        return self.root / "published" / str(year)

    def warehouse_dir(self, year: int) -> Path:
        return self.warehouse / str(year)

    def inbox_digest(self, year: int) -> Path:
        """Digest of the inbox a year was last built from (pipeline/steps/inbox.py). Named
        here, not in pipeline/warehouse.py, because the sensor reads it without pandas."""
        return self.warehouse_dir(year) / INBOX_DIGEST

    def reports_dir(self, year: int) -> Path:
        return self.root / "reports" / str(year)

    def audit_dir(self, year: int) -> Path:
        """Published reports of many bodies to audit (`nianbao audit`, pipeline/steps/audit.py)."""
        return self.root / "audit" / str(year)

    def contained(self, path: Path) -> Path:
        """`path` resolved, if it stays inside the home (links followed); a HomeError otherwise.
        Every path built from a name a unit or an upload chose goes through here."""
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.root):
            raise HomeError(f"路径“{path}”指向数据目录之外，已拒绝。")
        return resolved

    # Configuration ----------------------------------------------------------
    def config(self) -> dict:
        with open(self.root / "home.toml", "rb") as f:
            try:
                config = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise HomeError(f"home.toml 格式错误：{exc}") from exc
        for key in ("district", "government"):
            if not str(config.get(key, "")).strip():
                raise HomeError(
                    f"home.toml 缺少“{key}”（{'地区名称' if key == 'district' else '发布机关'}）。"
                )
        return config

    def registry(self) -> Registry:
        """The unit registry (registry/units.csv), read again only when the file changes."""
        return load_registry(self.root / "registry" / "units.csv")


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write to a temporary name beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs follow the umask
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def link_atomic(source: Path, path: Path) -> Path:
    """`path` becomes the same file as `source` (a hard link, through a temporary name);
    a copy where links are not possible. Files here are only ever replaced by rename,
    never edited in place, so the two names cannot drift apart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        os.link(source, tmp)
    except OSError:
        return write_atomic(path, source.read_bytes())
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary name: two builds writing the same table never share one.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import: os.umask cannot be read without setting it, which races with
# threads creating files (the portal), so it is not read again later.
_UMASK = _read_umask()


def _umask() -> int:
    return _UMASK


def read_parquet(path: Path) -> pd.DataFrame:
    """A table as pandas.read_parquet reads it (the same frame), a third cheaper: a build
    reads some 40 small tables."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as table:
        return table.read().to_pandas()
