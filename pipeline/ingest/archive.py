"""Content-addressed archive of every file handed in. Nothing here is ever deleted.

archive/blobs/ab/abcdef…   the file's bytes, named by SHA-256
archive/manifest.csv       one row per (hash, unit, year, original name): size,
                           received time, outcome of the latest validation
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.home import write_atomic

MANIFEST_COLUMNS = ["sha256", "unit", "year", "original_name", "size", "received_at", "outcome"]


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    unit: str
    year: int
    original_name: str
    size: int
    received_at: str
    blob: Path


def blob_path(archive: Path, sha256: str) -> Path:
    return archive / "blobs" / sha256[:2] / sha256


@contextmanager
def _locked(archive: Path):
    """Serialise manifest updates across processes (sensor runs, CLI, portal)."""
    archive.mkdir(parents=True, exist_ok=True)
    with open(archive / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_manifest(archive: Path) -> list[dict[str, str]]:
    path = archive / "manifest.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write_manifest(archive: Path, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(archive / "manifest.csv", buffer.getvalue())


def archive_files(archive: Path, files: list[tuple[str, int, str, bytes]]) -> list[ArchivedFile]:
    """Store each (unit, year, original name, bytes) before it is parsed.

    A file already stored (same hash, unit, year, name) keeps its first
    received time, so re-running a year is idempotent.
    """
    now = datetime.now(UTC).isoformat(timespec="seconds")
    stored: list[ArchivedFile] = []
    with _locked(archive):
        rows = read_manifest(archive)
        known = {(r["sha256"], r["unit"], r["year"], r["original_name"]): r for r in rows}
        added = False
        for unit, year, name, data in files:
            sha = hashlib.sha256(data).hexdigest()
            blob = blob_path(archive, sha)
            if not blob.exists():
                write_atomic(blob, data)
            key = (sha, unit, str(year), name)
            row = known.get(key)
            if row is None:
                row = dict(
                    zip(MANIFEST_COLUMNS, (sha, unit, str(year), name, str(len(data)), now, "received"))
                )
                known[key] = row
                rows.append(row)
                added = True
            stored.append(ArchivedFile(sha, unit, year, name, len(data), row["received_at"], blob))
        if added:
            _write_manifest(archive, rows)
    return stored


def record_outcomes(archive: Path, outcomes: dict[tuple[str, str, str, str], str]) -> None:
    """Set the outcome (accepted / rejected / superseded …) of archived files,
    keyed by (sha256, unit, year, original name)."""
    with _locked(archive):
        rows = read_manifest(archive)
        changed = False
        for row in rows:
            outcome = outcomes.get((row["sha256"], row["unit"], row["year"], row["original_name"]))
            if outcome and row["outcome"] != outcome:
                row["outcome"] = outcome
                changed = True
        if changed:
            _write_manifest(archive, rows)
