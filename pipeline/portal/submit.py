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
import tempfile
import threading
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path, PurePath

from pipeline.home import Home, write_atomic
from pipeline.ingest.archive import ArchivedFile, archive_files, record_outcomes
from pipeline.ingest.read import MAX_FILE_BYTES, read_submission, unsafe_name_reason
from pipeline.messages import Message
from pipeline.portal.store import Store, Upload, iso, now_utc

MAX_NAME_BYTES = 200  # file systems stop at 255 bytes; leave room for a version mark
MAX_STORED_CELLS = 5000  # what the result page shows; a real form has a few hundred

_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(unit: str, year: int) -> threading.Lock:
    """Uploads of one unit and year are handled one at a time, in arrival order."""
    with _locks_guard:
        return _locks.setdefault((unit, year), threading.Lock())


def unit_name(home: Home, unit: str) -> str:
    registry = home.registry()
    return dict(zip(registry["code"], registry["name"])).get(unit, unit)


def name_problem(name: str) -> str | None:
    """Why the portal cannot take this file name (same wording as the readers)."""
    reason = unsafe_name_reason(name)
    if reason:
        return f"{reason}，不能接收。请把文件改成普通文件名（如“2025年报.xlsx”）后重新报送。"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return "文件名过长，不能接收。请把文件改成较短的普通文件名（如“2025年报.xlsx”）后重新报送。"
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
    """Messages (those of `nianbao check`, plus the workbook's declared unit/year
    as the intake checks it) and the cells read, with where each came from."""
    from pipeline.cli import check_file
    from pipeline.intake import _declared_mismatch
    from schemas import format_for_year

    name_of_unit = unit_name(home, unit)
    label = f"{name_of_unit}（{unit}）"
    fmt = format_for_year(year, home.root)
    problem = name_problem(name)
    if problem:
        return [Message("ERROR", "F9", label, name, "", "", problem, unit)], []
    with tempfile.TemporaryDirectory(prefix="nianbao-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        messages = check_file(path, unit, year, home)
        cells: list[dict] = []
        if 0 < len(data) <= MAX_FILE_BYTES and not any(
            m.rule in ("F2", "F3", "F4", "F5", "F9") for m in messages
        ):
            parsed = read_submission(data, name=name, fmt=fmt, unit=label, year=year, path=path)
            item = ArchivedFile("", unit, year, name, len(data), "", path)
            messages += _declared_mismatch(item, name_of_unit, parsed.declared_units, parsed.declared_years)
            cells = parsed.cells.head(MAX_STORED_CELLS).to_dict("records")
    # File problems carry the unit's label only; attach its code.
    messages = [m if m.code else Message(**{**asdict(m), "code": unit}) for m in messages]
    return messages, [{k: str(v) for k, v in c.items()} for c in cells]


def _land(home: Home, unit: str, year: int, name: str, data: bytes) -> Path:
    folder = home.inbox_dir(year) / unit
    path = write_atomic(folder / name, data)
    newest = max(
        (p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file() and p != path),
        default=0,
    )
    stamp = max(time.time_ns(), newest + 1_000_000)
    os.utime(path, ns=(stamp, stamp))
    return path


def receive(
    home: Home, store: Store, unit: str, year: int, name: str, data: bytes, now: datetime | None = None
) -> Upload:
    """Handle one uploaded file of `unit` for `year`; returns the stored upload."""
    with _lock(unit, year):
        version = store.next_version(unit, year)
        received = now or now_utc()
        stored_name = name if name_problem(name) else inbox_name(home, unit, year, name, version)
        archived = archive_files(home.archive, [(unit, year, stored_name, data)])[0]
        messages, cells = validate(home, unit, year, stored_name, data)
        errors = sum(m.severity == "ERROR" for m in messages)
        outcome = "rejected" if errors else "accepted"
        if outcome == "accepted":
            _land(home, unit, year, stored_name, data)
        record_outcomes(home.archive, {(archived.sha256, unit, str(year), stored_name): outcome})
        return store.add_upload(
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
                messages=[asdict(m) for m in messages],
                cells=cells,
            )
        )
