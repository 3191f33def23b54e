"""Content-addressed archive of every file handed in. Nothing here is ever deleted.

archive/blobs/ab/abcdef…   the file's bytes, named by SHA-256
archive/manifest.sqlite    one row per (hash, unit, year, original name): size,
                           received time, outcome of the latest validation; and
                           `origin`, a row per file that did not come through the
                           inbox (a published report the office recorded)

The manifest is SQLite (WAL mode) so that portal workers, CLI builds and sensor
runs can write at once: every write is one `BEGIN IMMEDIATE` transaction. A home
still holding the old `manifest.csv` migrates on first use; a damaged CSV is
refused, never repaired with invented values. Damage is reported as
ArchiveError (Chinese text: what is wrong, where, what to do).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.home import write_atomic

MANIFEST_COLUMNS = ["sha256", "unit", "year", "original_name", "size", "received_at", "outcome"]
DB_NAME = "manifest.sqlite"
CSV_NAME = "manifest.csv"
MIGRATED_NAME = "manifest.csv.migrated"
SCHEMA_VERSION = 1  # PRAGMA user_version; 0 means a database nobody has set up yet

# CHECKs keep a row from ever being half-filled, which is what made the CSV's
# damage reach the portal as HTTP 500.
SCHEMA = [
    """CREATE TABLE manifest (
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        unit TEXT NOT NULL,  -- '' for a file put in the inbox's root folder
        year INTEGER NOT NULL CHECK (year BETWEEN 1000 AND 9999),
        original_name TEXT NOT NULL CHECK (original_name <> ''),
        size INTEGER NOT NULL CHECK (size >= 0),
        received_at TEXT NOT NULL CHECK (received_at <> ''),
        outcome TEXT NOT NULL CHECK (outcome <> ''),
        PRIMARY KEY (sha256, unit, year, original_name)
    )""",
    "CREATE INDEX manifest_year ON manifest (year, unit)",
]

_SHA = re.compile(r"[0-9a-f]{64}")
_YEAR = re.compile(r"[0-9]{4}")
_SIZE = re.compile(r"0|[1-9][0-9]*")
_OUTCOME = re.compile(r"[a-z_]+")
_RESTORE = (
    "请从备份恢复 archive/manifest.sqlite 后重试；没有备份时请联系系统维护人员，不要新建或手工修改清单。"
)


class ArchiveError(Exception):
    """The archive's manifest cannot be trusted as it is (message in Chinese)."""


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    unit: str
    year: int
    original_name: str
    size: int
    received_at: str
    blob: Path


@dataclass(frozen=True)
class ArchiveProblem:
    kind: str  # missing_blob | altered_blob | orphan_blob | bad_row | missing_row
    sha256: str
    unit: str  # "" for an orphan blob
    year: int | None  # None for an orphan blob
    original_name: str  # "" for an orphan blob
    text: str


def blob_path(archive: Path, sha256: str) -> Path:
    return archive / "blobs" / sha256[:2] / sha256


# --- connection, set-up and migration ------------------------------------------


@contextmanager
def _connect(archive: Path) -> Iterator[sqlite3.Connection]:
    """An open, checked manifest; any SQLite damage surfaces as ArchiveError."""
    path = archive / DB_NAME
    db = None
    try:
        if not path.exists():
            _create(archive)
        # mode=rw: a manifest that vanishes is an error here, never silently recreated empty.
        db = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=30, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA synchronous=FULL")  # a manifest row is the proof a file was received
        _check(archive, db)
        yield db
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
        raise  # the caller's values or code, not damage
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            raise ArchiveError(f"归档清单 {path} 正被其他进程长时间占用，请稍后重试。") from exc
        raise ArchiveError(f"归档清单 {path} 已损坏或无法打开（{exc}）。{_RESTORE}") from exc
    finally:
        if db is not None:
            db.close()


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _create(archive: Path) -> None:
    """Build the manifest under a temporary name and link it into place, so no
    process ever opens a half-made one (switching a shared, new file to WAL
    fails under concurrency). `.lock` is the lock the CSV manifest's writers
    took: the migration cannot race a process still running the old code."""
    path = archive / DB_NAME
    archive.mkdir(parents=True, exist_ok=True)
    with open(archive / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():  # another process made it while we waited
            return
        fd, name = tempfile.mkstemp(dir=archive, prefix=f".{DB_NAME}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")  # stored in the file: every later opener gets WAL
                with _transaction(db):
                    _set_up(archive, db)
            finally:
                db.close()
            os.link(tmp, path)  # never replaces an existing manifest
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)
        _finish_migration(archive)


def _check(archive: Path, db: sqlite3.Connection) -> None:
    path = archive / DB_NAME
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        # Never a legitimate state: a manifest is linked into place only once set up.
        raise ArchiveError(f"归档清单 {path} 为空或不是 nianbao 的归档清单。{_RESTORE}")
    if version != SCHEMA_VERSION:
        raise ArchiveError(
            f"归档清单 {path} 的版本（{version}）不是本程序能识别的版本（{SCHEMA_VERSION}）。"
            "请使用与之匹配的 nianbao 版本，或从备份恢复 archive/manifest.sqlite。"
        )
    columns = [r[1] for r in db.execute("PRAGMA table_info(manifest)")]
    if columns != MANIFEST_COLUMNS:
        what = "缺少 manifest 表" if not columns else f"manifest 表的列不对（{','.join(columns)}）"
        raise ArchiveError(f"归档清单 {path} {what}。{_RESTORE}")
    check = [r[0] for r in db.execute("PRAGMA quick_check")]
    if check != ["ok"]:
        raise ArchiveError(f"归档清单 {path} 已损坏（{'；'.join(check[:3])}）。{_RESTORE}")
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # e.g. restored from a plain copy
        db.execute("PRAGMA journal_mode=WAL")
    _finish_migration(archive)


def _set_up(archive: Path, db: sqlite3.Connection) -> None:
    """Create the manifest, filled from manifest.csv if there is one (inside the caller's transaction)."""
    path = archive / DB_NAME
    csv_path = archive / CSV_NAME
    if csv_path.exists():
        rows = _read_csv(csv_path)
    elif (archive / MIGRATED_NAME).exists():
        raise ArchiveError(
            f"归档清单 {path} 缺失，但清单早已从 manifest.csv 迁移到这里（见 {MIGRATED_NAME}），"
            f"迁移之后收到的文件记录都在其中。{_RESTORE}"
        )
    else:
        rows = []
    # Every stored blob was listed when it was stored: blobs that no row names
    # mean rows were lost (e.g. a CSV cut at a line end), and a fresh manifest
    # would later list them with a made-up received time.
    unlisted = sorted(_blob_names(archive) - {r[0] for r in rows})
    if unlisted:
        source = f"清单 {csv_path}" if csv_path.exists() else f"归档清单 {path} 缺失，"
        raise ArchiveError(
            f"{source}没有列出 {archive / 'blobs'} 中已存的 {len(unlisted)} 个文件"
            f"（如 {unlisted[0]}），清单可能丢失了记录。未建立新清单，原文件未改动。"
            f"请从备份恢复完整的 {csv_path.name if csv_path.exists() else DB_NAME} 后重试；"
            "如确认这些文件无需记录，可把它们移出 archive/blobs 另行保存后重试。"
        )
    for statement in SCHEMA:
        db.execute(statement)
    db.executemany("INSERT INTO manifest VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _finish_migration(archive: Path) -> None:
    """Keep the migrated CSV under another name, so nothing reads it as current."""
    csv_path, migrated = archive / CSV_NAME, archive / MIGRATED_NAME
    if csv_path.exists() and not migrated.exists():
        with suppress(FileNotFoundError):  # another process renamed it first
            os.rename(csv_path, migrated)


def _read_csv(path: Path) -> list[tuple]:
    """The rows of an old manifest.csv, checked field by field; any damage refuses the lot."""

    def refuse(line: int, problem: str) -> ArchiveError:
        return ArchiveError(
            f"旧归档清单 {path} 第 {line} 行{problem}，清单可能已损坏，无法迁移到 {DB_NAME}。"
            f"未做任何迁移，原文件未改动。请从备份恢复完整的 {CSV_NAME} 后重试；"
            "不要手工补写缺失的内容，没有备份时请联系系统维护人员。"
        )

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(raw[: exc.start].count(b"\n") + 1, "不是 UTF-8 编码") from exc
    if not text:
        raise refuse(1, "为空（连表头都没有）")
    if not text.endswith("\n"):
        # The old writer ended every row with a newline: the last row was cut.
        raise refuse(text.count("\n") + 1, "不完整（文件在一行的中间结束）")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple] = []
    first_line: dict[tuple, int] = {}
    line = 1
    try:
        header = next(reader)
        if header != MANIFEST_COLUMNS:
            raise refuse(1, f"（表头）应为“{','.join(MANIFEST_COLUMNS)}”")
        for fields in reader:
            start, line = line + 1, reader.line_num
            rows.append(_csv_row(fields, start, refuse))
            key = rows[-1][:4]
            if key in first_line:
                raise refuse(start, f"与第 {first_line[key]} 行重复（同一文件、单位、年度、文件名）")
            first_line[key] = start
    except csv.Error as exc:
        raise refuse(line + 1, f"无法解析（{exc}）") from exc
    return rows


def _csv_row(fields: list[str], line: int, refuse) -> tuple:
    if len(fields) != len(MANIFEST_COLUMNS):
        raise refuse(line, f"有 {len(fields)} 列，应为 {len(MANIFEST_COLUMNS)} 列")
    problem = row_problem(fields)
    if problem:
        raise refuse(line, problem)
    sha, unit, year, name, size, received_at, outcome = fields  # unit may be '' (inbox root)
    # Kept exactly as written: the time string is not normalised.
    return (sha, unit, int(year), name, int(size), received_at, outcome)


def row_problem(fields: list[str]) -> str | None:
    """What is wrong with one manifest row (every field as text), or None. The same
    checks for the old CSV and for every row read from the database."""
    sha, _unit, year, name, size, received_at, outcome = fields
    if not _SHA.fullmatch(sha):
        return f"的 sha256“{sha}”不是 64 位十六进制"
    if not _YEAR.fullmatch(year):
        return f"的年度“{year}”不是四位数字"
    if not name:
        return "缺少文件名（original_name）"
    if not _SIZE.fullmatch(size):
        return f"的文件大小“{size}”不是非负整数"
    try:
        moment = datetime.fromisoformat(received_at)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return f"的收到时间“{received_at}”不是带时区的时间"
    if not _OUTCOME.fullmatch(outcome):
        return f"的处理结果“{outcome}”无法识别"
    return None


def _row_text(row: tuple) -> list[str]:
    return ["" if v is None else str(v) for v in row]


def _bad_row(archive: Path, rowid: int, fields: list[str], problem: str) -> str:
    sha, unit, year, name = fields[:4]
    return (
        f"归档清单 {archive / DB_NAME} 第 {rowid} 条记录（{unit} {year} 年度“{name}”）{problem}，"
        f"记录已损坏。{_RESTORE}"
    )


def _blob_names(archive: Path) -> set[str]:
    """Names of stored blobs (write_atomic's hidden temporary files are not blobs)."""
    root = archive / "blobs"
    if not root.is_dir():
        return set()
    return {p.name for p in root.glob("*/*") if p.is_file() and not p.name.startswith(".")}


# --- public interface -----------------------------------------------------------

# Where a file came from, when not a unit's hand-in. A table of its own beside the
# manifest (keyed like it), made when first needed: manifests written before it stay
# valid as they are, and older nianbao versions read this one unchanged.
ORIGIN_TABLE = """CREATE TABLE IF NOT EXISTS origin (
    sha256 TEXT NOT NULL, unit TEXT NOT NULL, year INTEGER NOT NULL, original_name TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin <> ''),
    PRIMARY KEY (sha256, unit, year, original_name)
)"""
ORIGINS = {"published": "据已公开年报导入"}  # origin -> how it shows; absent: the unit's hand-in


def read_manifest(archive: Path, year: int | None = None, *, checked: bool = True) -> list[dict[str, str]]:
    """All manifest rows (or one year's) in the order they were first stored, every value a
    string. `checked`: a row with a malformed field raises ArchiveError (only `verify`,
    which lists such rows itself, reads without)."""
    if not archive.is_dir():
        return []
    where, args = ("WHERE year = ?", (int(year),)) if year is not None else ("", ())
    with _connect(archive) as db:
        found = db.execute(
            f"SELECT rowid, {', '.join(MANIFEST_COLUMNS)} FROM manifest {where} ORDER BY rowid", args
        ).fetchall()
    rows = []
    for rowid, *values in found:  # every field checked as it is read: damage is never passed on
        fields = _row_text(values)
        problem = row_problem(fields) if checked else None
        if problem:
            raise ArchiveError(_bad_row(archive, rowid, fields, problem))
        rows.append(dict(zip(MANIFEST_COLUMNS, fields)))
    return rows


def archive_files(
    archive: Path,
    files: list[tuple[str, int, str, bytes]],
    received_at: datetime | None = None,
    origin: str = "",
) -> list[ArchivedFile]:
    """Store each (unit, year, original name, bytes) before it is parsed.

    A file already stored (same hash, unit, year, name) keeps its first
    received time, so re-running a year is idempotent. `received_at` (aware)
    records a receipt that happened earlier than now (the demo's hand-ins).

    The row is committed first and the bytes written after: a crash in between
    leaves a row whose blob the next archiving of the file writes, never a blob
    without a row. So a stored blob that no row names means rows were lost:
    ArchiveError, never a new row with a made-up received time.
    `origin` (a key of ORIGINS) is recorded for files that are not hand-ins.
    """
    if origin and origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    now = (received_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    hashed = [
        (unit, int(year), name, data, hashlib.sha256(data).hexdigest()) for unit, year, name, data in files
    ]
    archive.mkdir(parents=True, exist_ok=True)
    stored: list[ArchivedFile] = []
    with _connect(archive) as db, _transaction(db):
        for unit, year, name, data, sha in hashed:
            key = (sha, unit, year, name)
            row = db.execute(
                "SELECT rowid, size, received_at FROM manifest "
                "WHERE sha256 = ? AND unit = ? AND year = ? AND original_name = ?",
                key,
            ).fetchone()
            if row is None:
                if (
                    blob_path(archive, sha).exists()
                    and not db.execute("SELECT 1 FROM manifest WHERE sha256 = ? LIMIT 1", (sha,)).fetchone()
                ):
                    raise ArchiveError(_lost_row(archive, unit, year, name, sha))
                db.execute(
                    "INSERT INTO manifest VALUES (?, ?, ?, ?, ?, ?, 'received')", (*key, len(data), now)
                )
                row = (None, len(data), now)
            _, size, first = row
            problem = row_problem(_row_text((*key, size, first, "received")))
            if problem:
                raise ArchiveError(_bad_row(archive, row[0], _row_text(key), problem))
            if origin:
                db.execute(ORIGIN_TABLE)
                db.execute("INSERT OR REPLACE INTO origin VALUES (?, ?, ?, ?, ?)", (*key, origin))
            stored.append(ArchivedFile(sha, unit, year, name, len(data), first, blob_path(archive, sha)))
    for (*_, data, _sha), item in zip(hashed, stored):
        if not item.blob.is_file() or item.blob.stat().st_size != len(data):
            write_atomic(item.blob, data)
    return stored


def _lost_row(archive: Path, unit: str, year: int, name: str, sha: str) -> str:
    return (
        f"{unit} {year} 年度的“{name}”已存档（archive/blobs/{sha[:2]}/{sha}），但归档清单 "
        f"{archive / DB_NAME} 中没有它的记录：清单丢失了记录，原来的收到时间无法得知，不会另行补记。"
        f"{_RESTORE}如确认它是旧版本存档中途中断留下的，可把它移出 archive/blobs 另行保存后重试。"
    )


def read_origins(archive: Path, year: int) -> dict[tuple[str, str, str], str]:
    """(sha256, unit, original name) -> origin, for the year's files that are not hand-ins."""
    if not (archive / DB_NAME).exists():
        return {}
    with _connect(archive) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'origin'").fetchone():
            return {}
        found = db.execute(
            "SELECT sha256, unit, original_name, origin FROM origin WHERE year = ?", (int(year),)
        )
        return {(sha, unit, name): origin for sha, unit, name, origin in found}


def record_outcomes(archive: Path, outcomes: dict[tuple[str, str, str, str], str]) -> None:
    """Set the outcome (accepted / rejected / superseded …) of archived files,
    keyed by (sha256, unit, year, original name)."""
    if not outcomes:
        return
    with _connect(archive) as db, _transaction(db):
        db.executemany(
            "UPDATE manifest SET outcome = ? "
            "WHERE sha256 = ? AND unit = ? AND year = ? AND original_name = ? AND outcome <> ?",
            [(o, sha, unit, int(year), name, o) for (sha, unit, year, name), o in outcomes.items() if o],
        )


def read_blob(archive: Path, sha256: str) -> bytes:
    """A stored file's bytes, checked against its name; ArchiveError if missing or altered."""
    path = blob_path(archive, sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArchiveError(
            f"归档文件 {path} 缺失（清单中有记录）。请从备份恢复 archive/blobs 后重试。"
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArchiveError(f"归档文件 {path} 的内容已被改动（校验值不符）。请从备份恢复该文件。")
    return data


def verify_archive(
    archive: Path, expected: list[tuple[str, str, int, str, str]] = ()
) -> list[ArchiveProblem]:
    """Re-hash every blob against the manifest: missing, altered and unlisted files,
    rows with a malformed field, and rows missing for files known to have been
    received (`expected`: (sha256, unit, year, original name, where it is known from)).

    The manifest itself gets SQLite's full integrity check; its damage raises ArchiveError."""
    if not archive.is_dir():
        return []
    with _connect(archive) as db:
        check = [r[0] for r in db.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            raise ArchiveError(f"归档清单 {archive / DB_NAME} 已损坏（{'；'.join(check[:3])}）。{_RESTORE}")
        rows = db.execute(
            f"SELECT rowid, {', '.join(MANIFEST_COLUMNS)} FROM manifest ORDER BY rowid"
        ).fetchall()
    state: dict[str, str] = {}  # sha -> "ok" | "missing" | "altered"
    problems: list[ArchiveProblem] = []
    keys = set()
    for rowid, sha, unit, year, name, size, *rest in rows:
        keys.add((sha, unit, year, name))
        fields = _row_text((sha, unit, year, name, size, *rest))
        problem = row_problem(fields)
        if problem:
            text = _bad_row(archive, rowid, fields, problem)
            problems.append(ArchiveProblem("bad_row", fields[0], fields[1], None, fields[3], text))
            continue
        if sha not in state:
            state[sha] = _blob_state(blob_path(archive, sha), sha)
        path, label = blob_path(archive, sha), f"{unit} {year} 年度的“{name}”"
        if state[sha] == "missing":
            text = f"{label}的归档文件 {path} 缺失。请从备份恢复 archive/blobs。"
            problems.append(ArchiveProblem("missing_blob", sha, unit, year, name, text))
        elif state[sha] == "altered":
            text = f"{label}的归档文件 {path} 内容已被改动（校验值不符）。请从备份恢复该文件。"
            problems.append(ArchiveProblem("altered_blob", sha, unit, year, name, text))
        elif blob_path(archive, sha).stat().st_size != size:
            text = f"{label}在清单中记录的大小（{size} 字节）与归档文件 {path} 不符。{_RESTORE}"
            problems.append(ArchiveProblem("altered_blob", sha, unit, year, name, text))
    for sha, unit, year, name, where in expected:
        if (sha, unit, int(year), name) not in keys:
            text = (
                f"{unit} {year} 年度的“{name}”（{where}记录已收到，校验值 {sha[:12]}…）在归档清单中没有记录："
                f"清单丢失了记录。{_RESTORE}"
            )
            problems.append(ArchiveProblem("missing_row", sha, unit, int(year), name, text))
    for name in sorted(_blob_names(archive) - {r[1] for r in rows}):
        sha = name if _SHA.fullmatch(name) else ""
        text = (
            f"归档文件 archive/blobs/{name[:2]}/{name} 没有清单记录（清单丢失了记录，或是旧版本存档中途中断留下的）。"
            "如有清单备份请核对；文件本身无需删除。"
        )
        problems.append(ArchiveProblem("orphan_blob", sha, "", None, "", text))
    return problems


def _blob_state(path: Path, sha256: str) -> str:
    if not path.is_file():
        return "missing"
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return "ok" if digest.hexdigest() == sha256 else "altered"
