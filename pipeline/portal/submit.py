"""One upload through the portal: archive, validate at once, land in the inbox.

Order matters (nothing is lost): the bytes are archived before anything reads
them. The file is checked with the same function as `nianbao check`. An
accepted file is written into inbox/<year>/<unit>/ under a name no earlier
version uses, with a modification time later than every file already there, so
the intake (newest file in use, the others superseded) and the portal agree on
which version is in use. A rejected file stays in the archive only: it never
replaces a version that was accepted.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path, PurePath

from pipeline.home import Home, write_atomic
from pipeline.ingest.archive import archive_files, record_outcomes
from pipeline.ingest.guards import unsafe_name_reason
from pipeline.portal.store import Store, Upload, iso, now_utc
from schemas.catalogue import FileOrigin
from schemas.messages import Message

MAX_NAME_BYTES = 200  # file systems stop at 255 bytes; leave room for a version mark
MAX_STORED_CELLS = 5000  # what the result page shows; a real form has a few hundred

_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(unit: str, year: int) -> threading.Lock:
    """Uploads of one unit and year are handled one at a time, in arrival order."""
    with _locks_guard:
        return _locks.setdefault((unit, year), threading.Lock())


def name_problem(name: str) -> str | None:
    """Catalogue key of why the portal cannot take this file name, or None."""
    if unsafe_name_reason(name):
        return "F9.unsafe_name"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return "F9.long_name"
    return None


def inbox_name(home: Home, unit: str, year: int, name: str, version: int) -> str:
    """`name`, or `name（第N版）` when an earlier version already uses it in the inbox.

    Names the intake ignores (hidden files, Office lock files) get a visible prefix.
    """
    if name.startswith((".", "~$")):
        name = f"第{version}版_" + name.lstrip(".~$")
    folder = home.inbox_dir(year) / unit
    stem, suffix = PurePath(name).stem, PurePath(name).suffix
    candidate, n = name, 0
    while (folder / candidate).exists():
        n += 1
        mark = f"（第{version}版）" if n == 1 else f"（第{version}版-{n}）"
        candidate = f"{stem}{mark}{suffix}"
    return candidate


def validate(home: Home, unit: str, year: int, name: str, data: bytes) -> tuple[list[Message], list[dict]]:
    """The messages `nianbao check` gives (the same per-file check as the build)
    and the cells read, with where each came from."""
    from pipeline.steps.check import check_file

    key = name_problem(name)
    if key:
        origin = FileOrigin(unit, home.registry().label(unit), name)
        reason = unsafe_name_reason(name) or ""
        return [origin.problem(key, reason=reason)], []
    report = check_file(data, name, unit, year, home)
    cells = report.cells.head(MAX_STORED_CELLS).to_dict("records")
    return report.messages, [{k: str(v) for k, v in c.items()} for c in cells]


class Validator:
    """`validate` in worker processes, so that uploads are checked on every core
    while the web process keeps serving pages. Workers are started with "spawn"
    (the web process has threads, which do not survive a fork). A worker that
    dies (a hostile file exhausting memory) breaks the pool: it is replaced and
    that file is checked again in the web process's thread."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self._guard = threading.Lock()

    def start(self) -> None:
        if self.workers > 0 and self.pool is None:
            self.pool = self._new_pool()
            # Start every worker now (a pool starts them on demand): the first upload
            # would otherwise wait for a process to start and import the check (~1 s).
            for _ in range(self.workers):
                self.pool.submit(int)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_warm_up)

    def stop(self) -> None:
        with self._guard:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __call__(self, home: Home, unit: str, year: int, name: str, data: bytes):
        pool = self.pool
        if pool is None:
            return validate(home, unit, year, name, data)
        try:
            return pool.submit(validate, home, unit, year, name, data).result()
        except BrokenProcessPool:
            with self._guard:
                if self.pool is pool:
                    self.pool = self._new_pool()
            pool.shutdown(wait=False, cancel_futures=True)
            return validate(home, unit, year, name, data)


def _warm_up() -> None:
    """Import the per-file check, readers and rules once per worker, not on its first file."""
    import pipeline.ingest.xlsx_reader  # noqa: F401
    import pipeline.steps.check  # noqa: F401
    import pipeline.steps.validate  # noqa: F401
    import schemas.rules  # noqa: F401


def _land(home: Home, unit: str, year: int, name: str, data: bytes) -> Path:
    folder = home.contained(home.inbox_dir(year) / unit)
    path = write_atomic(home.contained(folder / name), data)
    newest = max(
        (p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file() and p != path),
        default=0,
    )
    stamp = max(time.time_ns(), newest + 1_000_000)
    os.utime(path, ns=(stamp, stamp))
    return path


def receive(
    home: Home,
    store: Store,
    unit: str,
    year: int,
    name: str,
    data: bytes,
    now: datetime | None = None,
    check: Callable[[Home, str, int, str, bytes], tuple[list[Message], list[dict]]] | None = None,
    rebuild: Callable[[int], None] | None = None,
) -> Upload:
    """Handle one uploaded file of `unit` for `year`; returns the stored upload.

    `check` validates (default: `validate` in this thread; the portal passes a
    Validator that uses worker processes). `rebuild(year)` is called once an
    accepted file is in the inbox (`nianbao serve`: the resident worker rebuilds
    the year's reports at once instead of waiting for the sensor)."""
    with _lock(unit, year):
        version = store.next_version(unit, year)
        received = now or now_utc()
        stored_name = name if name_problem(name) else inbox_name(home, unit, year, name, version)
        archived = archive_files(home.archive, [(unit, year, stored_name, data)])[0]
        messages, cells = (check or validate)(home, unit, year, stored_name, data)
        errors = sum(m.severity == "ERROR" for m in messages)
        outcome = "rejected" if errors else "accepted"
        if outcome == "accepted":
            _land(home, unit, year, stored_name, data)
        record_outcomes(home.archive, {(archived.sha256, unit, str(year), stored_name): outcome})
        stored = store.add_upload(
            Upload(
                id=0,
                unit=unit,
                year=year,
                version=version,
                original_name=name,
                stored_name=stored_name,
                sha256=archived.sha256,
                size=len(data),
                received_at=iso(received),
                outcome=outcome,
                errors=errors,
                warnings=len(messages) - errors,
                in_inbox=outcome == "accepted",
                messages=[m.as_dict() for m in messages],
                cells=cells,
            )
        )
    if outcome == "accepted" and rebuild is not None:
        rebuild(year)
    return stored
