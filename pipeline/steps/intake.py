"""Intake of a year's inbox: archive every file, then parse what is new.

inbox/<year>/<unit code>/<file>. One file is one unit's submission; when a unit
folder holds several, the newest is in use and the others are superseded (all
stay archived). A published report the office recorded for the unit
(published/<year>/<unit code>/, pipeline/steps/published.py) is one more file of
the unit, archived with its origin and read by the published-report readers. Parsing is cached by content hash in the year's warehouse, so a
re-run parses only files that changed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.home import Home, read_parquet, write_atomic, write_parquet
from pipeline.ingest.archive import ArchivedFile, archive_files
from pipeline.ingest.cells import CELL_COLUMNS, RAW_CELL_COLUMNS, ParsedFile
from pipeline.steps.check import read_file, unit_problem
from pipeline.steps.inbox import (
    DISTRICT_FOLDER,
    read_inbox_file,
    regular_file_problem,
    scan_inbox,
    scan_published,
)
from pipeline.warehouse import Warehouse
from schemas import format_for_year
from schemas.catalogue import FileOrigin
from schemas.messages import MESSAGE_FIELDS, Message
from schemas.units import Registry

# Bump when a reader changes what it produces: cached parses are then redone.
READER_VERSION = "4"
FILE_COLUMNS = ["unit", "file", "sha256", "size", "received_at", "in_use", "reader", "origin"]
PUBLISHED = "published"  # FILE_COLUMNS origin of a recorded published report ("" a hand-in)
# Worker processes pay from about 40 workbooks' worth of parsing; a CSV file reads in
# a tenth of a workbook's time (1.2 ms against 13 ms, measured), so 80 CSV files parse
# faster here than worker processes start.
PARALLEL_PARSE_FROM = 40
CSV_SHARE_OF_WORKBOOK = 0.1


@dataclass
class Intake:
    cells: pd.DataFrame  # CELL_COLUMNS + sha256, for files in use
    files: pd.DataFrame  # FILE_COLUMNS, every file seen this year
    messages: list[Message]  # file-level problems (F…) of files in use, and inbox problems
    parsed: int = 0  # files parsed in this run (the others came from the cache)


def _parse_one(args: tuple) -> ParsedFile:
    """(blob, year, name, unit code, unit label, home root[, published]) -> the parsed file."""
    blob, year, name, unit_code, unit_label, home_root, *rest = args
    published = bool(rest and rest[0])
    fmt = format_for_year(year, Path(home_root)).for_unit(unit_code)
    return read_file(Path(blob).read_bytes(), fmt, FileOrigin(unit_code, unit_label, name), year, published)


def _parse_all(
    jobs: list[tuple[str, int, str, str, str, str]], progress: Callable[[str], None]
) -> list[ParsedFile]:
    work = sum(CSV_SHARE_OF_WORKBOOK if name.lower().endswith(".csv") else 1 for _, _, name, *_ in jobs)
    if work < PARALLEL_PARSE_FROM or (os.cpu_count() or 1) < 2:
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
    home: Home, year: int, units: Registry, progress: Callable[[str], None] = lambda _: None
) -> Intake:
    """Archive and parse the year's inbox, reading each changed file with the per-file check."""
    found = scan_inbox(home, year)
    progress(f"收件箱中有 {len(found)} 个文件")
    found, messages = _regular_files(found, units)
    stored, origins, paths = _archive(home, year, found)
    in_use = _newest_per_unit(units, year, stored, paths, messages)

    fingerprint = format_for_year(year, home.root).fingerprint()
    cache_path = Warehouse.of(home, year).parse_cache
    cached = _load_cache(cache_path)
    loaded = set(cached)

    def key_of(i: int) -> str:
        return _cache_key(stored[i], units.label(stored[i].unit), fingerprint) + f"|{origins[i]}"

    to_parse = [i for i in sorted(in_use) if key_of(i) not in cached]
    progress(
        f"需要解析 {len(to_parse)} 个新文件或有变化的文件（其余 {len(in_use) - len(to_parse)} 个已有解析结果，直接沿用）"
    )
    jobs = [
        (str(stored[i].blob), year, stored[i].original_name, stored[i].unit, units.label(stored[i].unit),
         str(home.root), origins[i] == PUBLISHED)
        for i in to_parse
    ]  # fmt: skip
    for i, parsed in zip(to_parse, _parse_all(jobs, progress)):
        cached[key_of(i)] = (parsed.cells, parsed.problems)

    used = [i for i in range(len(stored)) if i in in_use]
    cache_rows = [(key_of(i), *cached[key_of(i)]) for i in used]
    for _key, _raw, problems in cache_rows:
        messages.extend(problems)
    cells = _attach_sources([(raw, stored[i]) for i, (_key, raw, _problems) in zip(used, cache_rows)], year)
    if to_parse or loaded != {key for key, *_ in cache_rows}:  # unchanged: nothing to write
        _save_cache(cache_path, cache_rows)
    files = pd.DataFrame(
        [
            (item.unit, item.original_name, item.sha256, item.size, item.received_at, i in in_use, READER_VERSION,
             origins[i])
            for i, item in enumerate(stored)
        ],
        columns=FILE_COLUMNS,
    )  # fmt: skip
    return Intake(cells=cells, files=files, messages=messages, parsed=len(to_parse))


def _origin(units: Registry, unit: str, name: str) -> FileOrigin:
    return FileOrigin(unit, units.label(unit) if unit else "（收件箱根目录）", name)


def _regular_files(
    found: list[tuple[str, Path]], units: Registry
) -> tuple[list[tuple[str, Path]], list[Message]]:
    """The regular files of the inbox, and an F16 message for each other entry (a link, a fifo…)."""
    messages: list[Message] = []
    regular: list[tuple[str, Path]] = []
    for unit, path in found:
        what = regular_file_problem(path)
        if what is None:
            regular.append((unit, path))
        else:
            messages.append(
                _origin(units, unit, path.name).problem("F16.not_regular", name=path.name, what=what)
            )
    return regular, messages


def _archive(
    home: Home, year: int, found: list[tuple[str, Path]]
) -> tuple[list[ArchivedFile], list[str], list[tuple[str, Path]]]:
    """Archive the inbox's files, then the units' recorded published reports: (the archived
    files, their origins, their (unit, path)), in that order."""
    # Archive first: nothing is parsed before it is safely stored.
    # Archived first with the time it is first seen; a file archived before keeps its
    # first time, and a file whose row went missing is damage (archive_files).
    stored = archive_files(
        home.archive, [(unit, year, path.name, read_inbox_file(path)) for unit, path in found]
    )
    published = [(unit, path) for unit, path in scan_published(home, year) if unit != DISTRICT_FOLDER]
    stored += archive_files(
        home.archive,
        [(unit, year, path.name, read_inbox_file(path)) for unit, path in published],
        origin=PUBLISHED,
    )
    return stored, [""] * len(found) + [PUBLISHED] * len(published), found + published


def _newest_per_unit(
    units: Registry,
    year: int,
    stored: list[ArchivedFile],
    paths: list[tuple[str, Path]],
    messages: list[Message],
) -> set[int]:
    """The indexes of the files in use: each known unit's newest (by modification time,
    then name); a file of a unit the registry refuses gets its message instead."""
    mtimes = [path.stat().st_mtime_ns for _, path in paths]
    newest: dict[str, int] = {}
    for i, (unit, path) in enumerate(paths):
        refused = unit_problem(units, unit, year, _origin(units, unit, stored[i].original_name))
        if refused is not None:
            messages.append(refused)
            continue
        best = newest.get(unit)
        if best is None or (mtimes[i], path.name) > (mtimes[best], paths[best][1].name):
            newest[unit] = i
    return set(newest.values())


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


def _cache_key(item: ArchivedFile, unit_name: str, fingerprint: str) -> str:
    """What a parse depends on: the bytes, who and when, the reader, and the format
    (a legacy catalogue edited since the last run means reading the files again)."""
    return f"{item.sha256}|{item.unit}|{unit_name}|{item.year}|{item.original_name}|{READER_VERSION}|{fingerprint}"


CACHE_FORMAT = 1  # bump when the cache's own layout changes


def _load_cache(paths: tuple[Path, Path]) -> dict[str, tuple]:
    """key -> (raw cells, file problems).

    The cache is data only: the cells in Parquet (one table, `key` naming the parse
    each row belongs to), the problems and the list of keys in JSON. Nothing in it
    can run code. A cache that is missing, unreadable or not exactly this shape is
    ignored: every file is parsed again and the cache rewritten.
    """
    cells_path, messages_path = paths
    try:
        index = json.loads(messages_path.read_text(encoding="utf-8"))
        if not isinstance(index, dict) or index.get("format") != CACHE_FORMAT:
            return {}
        problems = {
            str(key): [Message.from_dict(_message_fields(m)) for m in found]
            for key, found in index["problems"].items()
        }
        cells = read_parquet(cells_path)
        if list(cells.columns) != ["key", *RAW_CELL_COLUMNS]:
            return {}
    except Exception:  # noqa: BLE001 - whatever is wrong with a cache, it is only a cache
        return {}
    counts = index.get("rows")
    if (
        not isinstance(counts, dict)
        or counts.keys() != problems.keys()
        or not all(isinstance(n, int) and n >= 0 for n in counts.values())
    ):
        return {}
    # The rows are written in the index's order, each parse's together: cut the table
    # by the counts (one slice each, no groupby) after checking the keys match.
    order, sizes = list(counts), list(counts.values())
    expected = np.repeat(np.array(order, dtype=object), sizes)
    if len(expected) != len(cells) or not (cells["key"].to_numpy(dtype=object) == expected).all():
        return {}  # the two files are not of one write (e.g. a crash between them)
    raw = cells[RAW_CELL_COLUMNS].astype("string")  # as the readers make them
    bounds = np.cumsum([0, *sizes]).tolist()
    return {key: (raw.iloc[a:b], problems[key]) for key, a, b in zip(order, bounds, bounds[1:])}


def _message_fields(stored: object) -> dict[str, str]:
    if not isinstance(stored, dict) or not all(isinstance(stored.get(f, ""), str) for f in MESSAGE_FIELDS):
        raise ValueError("not a stored message")
    return stored


def _save_cache(paths: tuple[Path, Path], rows: list[tuple]) -> None:
    """Keep the parses of the files in use this run (older ones drop out). The
    messages file is written last and counts each key's rows: a crash between the
    two writes leaves files that do not match, and the cache is ignored."""
    cells_path, messages_path = paths
    frames = [raw.assign(key=key)[["key", *RAW_CELL_COLUMNS]] for key, raw, _ in rows if len(raw)]
    cells = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series(dtype="string") for c in ["key", *RAW_CELL_COLUMNS]})
    )
    write_parquet(cells.astype("string"), cells_path)
    index = {
        "format": CACHE_FORMAT,
        "rows": {key: len(raw) for key, raw, _ in rows},
        "problems": {key: [m.as_dict() for m in found] for key, _, found in rows},
    }
    write_atomic(messages_path, json.dumps(index, ensure_ascii=False))
    (messages_path.parent / "parse_cache.pickle").unlink(missing_ok=True)  # the old, executable format
