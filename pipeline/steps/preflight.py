"""Before a year's build writes anything: every file it will read from the home is
read and checked once, so damage stops the build with one line naming the file and
what to do, never halfway through with reports already rewritten.

What a build reads besides this year's inbox: home.toml, the unit registry, the
office's texts, the archive manifest, last year's warehouse (and every earlier
year's accepted figures, for the review page's trends), and this year's revisions
log. Caches (the parse cache, the render digests) are not checked here: a damaged
cache is ignored and rebuilt where it is read.
"""

from __future__ import annotations

from pipeline.home import DamagedHome, Home
from pipeline.ingest.archive import ArchiveError, read_manifest
from pipeline.warehouse import TREND_YEARS, Warehouse, check_previous_year
from schemas.frames import zip_columns


class PreflightError(DamagedHome):
    """The build stopped before writing anything (message: one line of Chinese)."""


def preflight(home: Home, year: int) -> None:
    """Raise PreflightError (a HomeError) when something the build of `year` reads is
    damaged, or last year has submissions but was not built."""
    try:
        _check(home, year)
    except (DamagedHome, ArchiveError) as exc:
        raise PreflightError(f"{year} 年度未编制，没有写出任何文件：{' '.join(str(exc).split())}") from None


def _check(home: Home, year: int) -> None:
    home.config()
    home.registry()
    _check_texts(home, year)
    _check_manifest(home, year)
    check_previous_year(home, year)
    for earlier in range(year - TREND_YEARS, year - 1):
        warehouse = Warehouse.of(home, earlier)
        if warehouse.exists("accepted"):  # what the review page's trends read of it
            warehouse.check("accepted", columns=["table", "row", "column", "number"])
    _check_revisions(home, year)


def _check_texts(home: Home, year: int) -> None:
    folder = home.root / "texts" / str(year)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.md")):
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DamagedHome(
                f"文字材料 texts/{year}/{path.name} 不是 UTF-8 编码（第 {exc.start} 个字节起）。"
                "请用 UTF-8 编码重新保存该文件，或从备份恢复。"
            ) from None


def _check_manifest(home: Home, year: int) -> None:
    """Every manifest row of the year is valid (read_manifest checks each field), and
    every file the last build of the year recorded still has its row: a row that
    went missing is damage, never re-added as a new receipt."""
    rows = read_manifest(home.archive, year=year)
    warehouse = Warehouse.of(home, year)
    if not warehouse.exists("files"):
        return
    recorded = {(r["sha256"], r["unit"], r["original_name"]) for r in rows}
    files = warehouse.read("files")  # small: one row per file
    for unit, name, sha in zip_columns(files, "unit", "file", "sha256"):
        if (str(sha), str(unit), str(name)) not in recorded:
            raise ArchiveError(
                f"归档清单 archive/manifest.sqlite 缺少 {unit} {year} 年度“{name}”的记录"
                f"（上次编制时已收到，校验值 {str(sha)[:12]}…），清单可能丢失了记录。"
                "请从备份恢复 archive/manifest.sqlite 后重试（`nianbao verify` 列出全部问题）；不要手工补写。"
            )


def _check_revisions(home: Home, year: int) -> None:
    import pandas as pd

    folder = home.root / "revisions" / str(year)
    for name in ("published.csv", "log.csv"):
        path = folder / name
        if not path.exists():
            continue
        try:
            pd.read_csv(path, dtype=str, keep_default_na=False)
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            raise DamagedHome(
                f"数据目录中的 revisions/{year}/{name} 已损坏（{' '.join(str(exc).split())[:120]}）。"
                "该文件记录已公开数字的更正历史，无法重新生成：请从备份恢复它。"
            ) from None
