"""One upload through the portal: archive, validate at once, record, land in the inbox.

Order matters (nothing is lost): the bytes are archived before anything reads
them. The version is recorded before the file lands in the inbox (and marked
landed after), so a portal stopped at any point leaves either a record whose
landing `reconcile` finishes from the archive, never a file in the inbox the
portal does not know. The file is checked with the same function as `nianbao check`. An
accepted file is written into inbox/<year>/<unit>/ under a name no earlier
version uses, with a modification time later than every file already there, so
the intake (newest file in use, the others superseded) and the portal agree on
which version is in use. A rejected file stays in the archive only: it never
replaces a version that was accepted. Nor does, without the unit's confirmation,
an accepted file with less than half the table cells of the version in use
(`Unconfirmed`: a workbook that is mostly blank would lower the district's figures).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path, PurePath

from pipeline.home import Home, write_atomic
from pipeline.ingest.archive import archive_files, read_blob, record_outcomes
from pipeline.portal.store import Store, Upload, iso, now_utc
from schemas.catalogue import FileOrigin
from schemas.messages import Message
from schemas.names import name_problem as name_reason

MAX_NAME_BYTES = 200  # file systems stop at 255 bytes; leave room for a version mark
MAX_STORED_CELLS = 5000  # what the result page shows; a real form has a few hundred
# A file replacing an accepted version asks for confirmation when it fills fewer than this
# share of the table cells that version filled (a filled zero counts; a blank does not).
CONFIRM_BELOW_SHARE = 0.5


@dataclass(frozen=True)
class Unconfirmed:
    """An upload that passed the check but would replace the accepted version `replaces`
    with mostly empty tables: archived, not landed, until the unit confirms."""

    unit: str
    year: int
    name: str
    replaces: Upload
    filled: int  # table cells filled in the new file
    filled_before: int  # … in the version it would replace
    blank_titles: list[str]  # tables blank now that the replaced version filled

    @property
    def text(self) -> str:
        blank = (
            f"其中{'、'.join(f'「{t}」' for t in self.blank_titles)}整张表没有填写，"
            if self.blank_titles
            else ""
        )
        return (
            f"文件“{self.name}”只填了 {self.filled} 个表格单元格，{blank}而在用的第 {self.replaces.version} 版"
            f"（{self.replaces.original_name}）填了 {self.filled_before} 个。替换后，全区报告中本单位的这些数字将按 0 计算。"
            "如确实要用这个文件替换在用版本，请确认后重新提交（接口：加字段 confirm=1）；如是误传，无需操作，在用版本不变。"
        )


_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(unit: str, year: int) -> threading.Lock:
    """Uploads of one unit and year are handled one at a time, in arrival order."""
    with _locks_guard:
        return _locks.setdefault((unit, year), threading.Lock())


def name_problem(name: str) -> str | None:
    """Catalogue key of why the portal cannot take this file name, or None."""
    if name_reason(name):
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
        reason = name_reason(name) or ""
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


def table_cells(fmt, cells: list[dict]) -> dict[str, int]:
    """Filled cells per table of the format (narrative text not counted)."""
    counts: dict[str, int] = {}
    for cell in cells:
        if cell.get("table") in fmt.tables:
            counts[cell["table"]] = counts.get(cell["table"], 0) + 1
    return counts


def emptier(
    home: Home, store: Store, unit: str, year: int, name: str, cells: list[dict]
) -> Unconfirmed | None:
    """An Unconfirmed when these cells would replace the unit's accepted version with
    mostly empty tables (fewer than CONFIRM_BELOW_SHARE of its table cells)."""
    from schemas import format_for_year

    accepted = [u for u in store.uploads(year=year, unit=unit, light=True) if u.outcome == "accepted"]
    if not accepted:
        return None
    in_use = store.upload(unit, year, accepted[-1].version)
    fmt = format_for_year(year, home.root).for_unit(unit)
    now, before = table_cells(fmt, cells), table_cells(fmt, in_use.cells)
    filled, filled_before = sum(now.values()), sum(before.values())
    if filled >= CONFIRM_BELOW_SHARE * filled_before:
        return None
    blank = [fmt.tables[t].title for t in fmt.tables if before.get(t) and not now.get(t)]
    return Unconfirmed(unit, year, name, in_use, filled, filled_before, blank)


def _land(home: Home, unit: str, year: int, name: str, data: bytes) -> Path:
    """Write the file into the inbox, newer than every file there: the build's
    current file. Written under a temporary name the intake ignores, dated, then
    renamed: the inbox never shows it half written or with the wrong date."""
    folder = home.contained(home.inbox_dir(year) / unit)
    path = home.contained(folder / name)
    tmp = write_atomic(folder / f".{name}.landing.tmp", data)
    newest = max(
        (p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file() and p not in (path, tmp)),
        default=0,
    )
    stamp = max(time.time_ns(), newest + 1_000_000)
    os.utime(tmp, ns=(stamp, stamp))
    os.replace(tmp, path)
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
    confirmed: bool = True,
) -> Upload | Unconfirmed:
    """Handle one uploaded file of `unit` for `year`; returns the stored upload, or,
    unless `confirmed`, an Unconfirmed when it would replace the accepted version with
    mostly empty tables (archived only, outcome "unconfirmed"; nothing else changes).

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
        if outcome == "accepted" and not confirmed:
            pending = emptier(home, store, unit, year, name, cells)
            if pending is not None:
                record_outcomes(
                    home.archive, {(archived.sha256, unit, str(year), stored_name): "unconfirmed"}
                )
                return pending
        record_outcomes(home.archive, {(archived.sha256, unit, str(year), stored_name): outcome})
        # The version first (in_inbox false until landed), then the file: see the module's doc.
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
                in_inbox=False,
                messages=[m.as_dict() for m in messages],
                cells=cells,
            )
        )
        if outcome == "accepted":
            _land(home, unit, year, stored_name, data)
            stored = store.mark_landed(stored.id)
    if outcome == "accepted" and rebuild is not None:
        rebuild(year)
    return stored


# --- after a stop: the portal's versions and the inbox agree again ----------------------


def reconcile(home: Home, store: Store) -> list[str]:
    """Finish what a stopped portal left half done; run before the portal serves and
    before a command-line build. Returns what was done (Chinese lines, for the log).

    - An accepted version recorded but not marked landed: if it is still the unit's
      newest accepted version and its file is not in the inbox, the file is landed
      from the archive (checked against its hash); then it is marked landed.
    - A file in a unit's inbox folder that no version names and that is newer than the
      unit's recorded files (left by a portal of an earlier release stopped between
      landing and recording): recorded as a new version with its true arrival (the
      file's modification time), checked as any upload is; a file the check refuses
      is moved out of the inbox to quarantine/<year>/<unit>/, as a refused upload never
      enters it. Units that never used the portal are not touched.
    """
    done: list[str] = []
    by_unit: dict[tuple[str, int], list[Upload]] = {}
    for upload in store.uploads(light=True):
        by_unit.setdefault((upload.unit, upload.year), []).append(upload)
    for (unit, year), versions in sorted(by_unit.items()):
        with _lock(unit, year):
            done += _finish_landing(home, store, unit, year, versions)
            done += _record_strays(home, store, unit, year, versions)
    return done


def _finish_landing(home: Home, store: Store, unit: str, year: int, versions: list[Upload]) -> list[str]:
    accepted = [u for u in versions if u.outcome == "accepted"]
    done = []
    for upload in accepted:
        if upload.in_inbox:
            continue
        path = home.inbox_dir(year) / unit / upload.stored_name
        if upload is accepted[-1] and not path.exists():
            _land(home, unit, year, upload.stored_name, read_blob(home.archive, upload.sha256))
            done.append(f"{unit} {year} 年度第 {upload.version} 版“{upload.stored_name}”已补放入收件箱")
        store.mark_landed(upload.id)
    return done


def _record_strays(home: Home, store: Store, unit: str, year: int, versions: list[Upload]) -> list[str]:
    from pipeline.steps.inbox import read_inbox_file, regular_file_problem, scan_inbox

    folder = home.inbox_dir(year) / unit
    named = {u.stored_name for u in versions}
    recorded = [folder / u.stored_name for u in versions if u.outcome == "accepted"]
    newest = max((p.stat().st_mtime_ns for p in recorded if p.exists()), default=0)
    strays = [
        path
        for folder_unit, path in scan_inbox(home, year)
        if folder_unit == unit and path.name not in named and regular_file_problem(path) is None
    ]
    done = []
    for path in sorted(strays, key=lambda p: p.stat().st_mtime_ns):
        arrived = path.stat().st_mtime_ns
        if arrived <= newest:
            continue  # older than the portal's version in use: superseded, nothing disagrees
        data = read_inbox_file(path)
        archived = archive_files(home.archive, [(unit, year, path.name, data)])[0]
        messages, cells = validate(home, unit, year, path.name, data)
        errors = sum(m.severity == "ERROR" for m in messages)
        outcome = "rejected" if errors else "accepted"
        record_outcomes(home.archive, {(archived.sha256, unit, str(year), path.name): outcome})
        if outcome == "rejected":
            target = home.root / "quarantine" / str(year) / unit / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        store.add_upload(
            Upload(
                id=0, unit=unit, year=year, version=store.next_version(unit, year), original_name=path.name,
                stored_name=path.name, sha256=archived.sha256, size=len(data),
                received_at=iso(datetime.fromtimestamp(arrived / 1e9, UTC)), outcome=outcome, errors=errors,
                warnings=len(messages) - errors, in_inbox=outcome == "accepted",
                messages=[m.as_dict() for m in messages], cells=cells,
            )
        )  # fmt: skip
        where = (
            "记为门户的新版本" if outcome == "accepted" else f"未通过检查，已移到 quarantine/{year}/{unit}/"
        )
        done.append(f"{unit} {year} 年度收件箱中没有门户记录的“{path.name}”{where}")
        newest = arrived
    return done
