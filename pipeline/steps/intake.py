"""Intake of a year's inbox: archive every file, then parse what is new.

inbox/<year>/<unit code>/<file>. One file is one unit's submission; when a unit
folder holds several, the newest is in use and the others are superseded (all
stay archived). Parsing is cached by content hash in the year's warehouse, so a
re-run parses only files that changed.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.home import Home, write_atomic
from pipeline.ingest.archive import ArchivedFile, archive_files
from pipeline.ingest.cells import CELL_COLUMNS, ParsedFile
from pipeline.ingest.read import read_submission
from schemas import format_for_year
from schemas.messages import Message

# Bump when a reader changes what it produces: cached parses are then redone.
READER_VERSION = "3"
FILE_COLUMNS = ["unit", "file", "sha256", "size", "received_at", "in_use", "reader"]
PARALLEL_PARSE_FROM = 40  # below this, starting worker processes costs more than it saves


@dataclass
class Intake:
    cells: pd.DataFrame  # CELL_COLUMNS + sha256, for files in use
    files: pd.DataFrame  # FILE_COLUMNS, every file seen this year
    messages: list[Message]  # file-level problems (F…) of files in use, and inbox problems
    parsed: int = 0  # files parsed in this run (the others came from the cache)


JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _ignored(name: str) -> bool:
    """Office lock files ("~$年报.xlsx"), desktop junk and our own half-written
    temporary files (".name.xxxx.tmp", see write_atomic) are not submissions.
    Anything else is processed, so a strangely named file is reported, not lost."""
    return name.startswith("~$") or name in JUNK_NAMES or (name.startswith(".") and name.endswith(".tmp"))


def scan_inbox(home: Home, year: int) -> list[tuple[str, Path]]:
    """(unit folder name, path) of every candidate file, sorted for determinism."""
    root = home.inbox_dir(year)
    if not root.is_dir():
        return []
    found = []
    for unit_dir in sorted(root.iterdir()):
        if unit_dir.is_dir():
            for path in sorted(unit_dir.iterdir()):
                if path.is_file() and not _ignored(path.name):
                    found.append((unit_dir.name, path))
        elif unit_dir.is_file() and not _ignored(unit_dir.name):
            found.append(("", unit_dir))
    return found


def _parse_one(args: tuple[str, int, str, str, str, str]) -> ParsedFile:
    blob, year, name, unit_code, unit_label, home_root = args
    fmt = format_for_year(year, Path(home_root)).for_unit(unit_code)
    data = Path(blob).read_bytes()
    return read_submission(
        data, name=name, fmt=fmt, unit=unit_label, unit_code=unit_code, year=year, path=Path(blob)
    )


def _parse_all(
    jobs: list[tuple[str, int, str, str, str]], progress: Callable[[str], None]
) -> list[ParsedFile]:
    if len(jobs) < PARALLEL_PARSE_FROM or (os.cpu_count() or 1) < 2:
        results = []
        for i, job in enumerate(jobs, 1):
            results.append(_parse_one(job))
            if i % 50 == 0 or i == len(jobs):
                progress(f"已解析 {i}/{len(jobs)} 个文件")
        return results
    workers = min(os.cpu_count() or 2, 4)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = []
        for i, parsed in enumerate(pool.map(_parse_one, jobs, chunksize=8), 1):
            results.append(parsed)
            if i % 100 == 0 or i == len(jobs):
                progress(f"已解析 {i}/{len(jobs)} 个文件")
        return results


def collect(
    home: Home, year: int, units: pd.DataFrame, progress: Callable[[str], None] = lambda _: None
) -> Intake:
    """Archive and parse the year's inbox. `units` are the units expected this year."""
    names = dict(zip(units["code"], units["name"]))
    all_units = home.registry()
    known_anywhere = set(all_units["code"])
    found = scan_inbox(home, year)
    progress(f"收件箱中有 {len(found)} 个文件")

    # Archive first: nothing is parsed before it is safely stored.
    stored = archive_files(home.archive, [(unit, year, path.name, path.read_bytes()) for unit, path in found])
    mtimes = [path.stat().st_mtime_ns for _, path in found]

    messages: list[Message] = []
    newest: dict[str, int] = {}
    for i, (unit, _path) in enumerate(found):
        if unit not in names:
            label = f"{unit}" if unit else "（收件箱根目录）"
            why = (
                "该单位不在单位名册中"
                if unit not in known_anywhere
                else f"该单位在 {year} 年度不需报送（见单位名册的起止年份）"
            )
            if not unit:
                why = "文件直接放在年度目录下，没有放进单位目录"
            messages.append(
                Message(
                    "ERROR", "F7", label, stored[i].original_name, "", "",
                    f"{why}，文件已存档但未处理。请放到 inbox/{year}/<单位代码>/ 下，或在单位名册中登记该单位。",
                )
            )  # fmt: skip
            continue
        best = newest.get(unit)
        if best is None or (mtimes[i], found[i][1].name) > (mtimes[best], found[best][1].name):
            newest[unit] = i

    in_use = set(newest.values())
    fingerprint = format_for_year(year, home.root).fingerprint()
    cache_path = home.warehouse_dir(year) / "parse_cache.pickle"
    cached = _load_cache(cache_path)
    cells_parts, file_rows, cache_rows = [], [], []
    to_parse: list[int] = []
    for i in sorted(in_use):
        key = _cache_key(stored[i], names[stored[i].unit], fingerprint)
        if key not in cached:
            to_parse.append(i)
    progress(
        f"需要解析 {len(to_parse)} 个新文件或有变化的文件（其余 {len(in_use) - len(to_parse)} 个沿用上次结果）"
    )
    jobs = [
        (
            str(stored[i].blob),
            year,
            stored[i].original_name,
            stored[i].unit,
            f"{names[stored[i].unit]}（{stored[i].unit}）",
            str(home.root),
        )
        for i in to_parse
    ]
    for i, parsed in zip(to_parse, _parse_all(jobs, progress)):
        key = _cache_key(stored[i], names[stored[i].unit], fingerprint)
        cached[key] = (parsed.cells, parsed.problems, parsed.declared_units, parsed.declared_years)

    for i, item in enumerate(stored):
        use = i in in_use
        file_rows.append(
            (item.unit, item.original_name, item.sha256, item.size, item.received_at, use, READER_VERSION)
        )
        if not use:
            continue
        key = _cache_key(item, names[item.unit], fingerprint)
        raw, problems, declared_units, declared_years = cached[key]
        cache_rows.append((key, raw, problems, declared_units, declared_years))
        messages.extend(problems)
        label = f"{names[item.unit]}（{item.unit}）"
        messages.extend(
            declared_mismatch(label, item.unit, year, item.original_name, declared_units, declared_years)
        )
        cells_parts.append((raw, item))

    cells = _attach_sources(cells_parts, year)
    _save_cache(cache_path, cache_rows)
    files = pd.DataFrame(file_rows, columns=FILE_COLUMNS)
    return Intake(cells=cells, files=files, messages=messages, parsed=len(to_parse))


def _attach_sources(parts: list[tuple[pd.DataFrame, ArchivedFile]], year: int) -> pd.DataFrame:
    """One frame of every file's raw cells with unit, year, file and hash attached
    (repeated per file in one go: per-file assign costs a second at 1,000 units)."""
    columns = CELL_COLUMNS + ["sha256"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns}).assign(year=year)
    cells = pd.concat([raw for raw, _ in parts], ignore_index=True)
    counts = [len(raw) for raw, _ in parts]
    for column, attribute in (("unit", "unit"), ("file", "original_name"), ("sha256", "sha256")):
        cells[column] = pd.Series(
            np.repeat([getattr(item, attribute) for _, item in parts], counts), dtype="string"
        )
    cells["year"] = year
    return cells[columns]


def declared_mismatch(
    label: str, unit: str, year: int, file: str, units: set[str], years: set[str]
) -> list[Message]:
    """F8 where a workbook names another unit or year than the one it was handed in for."""
    out = []
    if units and units != {unit}:
        out.append(
            Message("ERROR", "F8", label, file, "", "",
                    f"文件注明的单位是“{'、'.join(sorted(units))}”，但报送在单位“{unit}”名下。"
                    "请下载本单位的模板重新填写，或放到正确的单位目录。", unit)
        )  # fmt: skip
    if years and years != {str(year)}:
        out.append(
            Message("ERROR", "F8", label, file, "", "",
                    f"文件注明的年度是“{'、'.join(sorted(years))}”，但报送的是 {year} 年度。"
                    "请使用本年度的模板，或放到正确的年度目录。", unit)
        )  # fmt: skip
    return out


def _cache_key(item: ArchivedFile, unit_name: str, fingerprint: str) -> str:
    """What a parse depends on: the bytes, who and when, the reader, and the format
    (a legacy catalogue edited since the last run means reading the files again)."""
    return f"{item.sha256}|{item.unit}|{unit_name}|{item.year}|{item.original_name}|{READER_VERSION}|{fingerprint}"


def _load_cache(path: Path) -> dict[str, tuple]:
    """key -> (raw cells, problems, declared units, declared years).

    The cache is pickled, not Parquet: it is a private, disposable copy of our own
    parse results (never a user's file), and unpickling it is ten times faster than
    rebuilding the per-file frames from one table. Any unreadable cache is ignored.
    """
    try:
        with open(path, "rb") as f:
            cache = pickle.load(f)
        return cache if isinstance(cache, dict) else {}
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError):
        return {}


def _save_cache(path: Path, rows: list[tuple]) -> None:
    """Keep the parses of the files in use this run (older ones drop out)."""
    write_atomic(
        path, pickle.dumps({key: tuple(rest) for key, *rest in rows}, protocol=pickle.HIGHEST_PROTOCOL)
    )
