"""The data home: one directory holding configuration, registry, inbox, archive,
warehouse and reports (see README "数据目录")."""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HOME_ENV = "NIANBAO_HOME"
REGISTRY_COLUMNS = ["code", "name", "kind", "first_year", "last_year"]


class HomeError(Exception):
    """A problem with the data home the office must fix (message in Chinese)."""


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

    def warehouse_dir(self, year: int) -> Path:
        return self.warehouse / str(year)

    def reports_dir(self, year: int) -> Path:
        return self.root / "reports" / str(year)

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

    def registry(self) -> pd.DataFrame:
        """All units ever registered: code, name, kind, first_year, last_year (Int64, <NA> = still active)."""
        path = self.root / "registry" / "units.csv"
        if not path.is_file():
            raise HomeError(f"缺少单位名册 {path}（列：{','.join(REGISTRY_COLUMNS)}）。")
        frame = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
        missing = [c for c in REGISTRY_COLUMNS if c not in frame.columns]
        if missing:
            raise HomeError(f"单位名册 {path} 缺少列：{'、'.join(missing)}。")
        frame = frame[REGISTRY_COLUMNS].apply(lambda s: s.str.strip())
        duplicated = frame.loc[frame["code"].duplicated(), "code"].tolist()
        if duplicated:
            raise HomeError(f"单位名册中单位代码重复：{'、'.join(duplicated)}。")
        for column in ("first_year", "last_year"):
            bad = frame.loc[(frame[column] != "") & ~frame[column].str.fullmatch(r"\d{4}"), "code"].tolist()
            if bad:
                raise HomeError(f"单位名册中 {column} 不是四位年份：单位 {'、'.join(bad)}。")
            frame[column] = pd.to_numeric(frame[column].replace("", None)).astype("Int64")
        return frame.reset_index(drop=True)

    def units_for_year(self, year: int) -> pd.DataFrame:
        """Units expected to report for `year`."""
        units = self.registry()
        active = (units["first_year"].fillna(0) <= year) & (units["last_year"].fillna(9999) >= year)
        return units[active].reset_index(drop=True)


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write to a temporary name beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    os.replace(tmp, path)
    return path


def read_parquet(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)
