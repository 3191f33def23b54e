"""Backup, restore and verify a data home.

A backup holds everything that cannot be rebuilt: home.toml, the registry,
catalogues and texts, the file archive with its manifest, the inbox and the
portal's state (token and session hashes, uploads) — every file of the home
except what a build recreates (warehouse/, reports/), the Dagster instance
(run history: dagster/), logs/ and locks/. SQLite databases are copied with
SQLite's backup API, so a backup taken while the portal runs is consistent.
The archive is a gzip'd tar with a list of every file and its SHA-256
(BACKUP_INDEX), checked again on restore.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

BACKUP_INDEX = "nianbao-backup.json"
FORMAT = 1
REBUILT = {"warehouse", "reports", "dagster", "logs", "locks"}
SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup that cannot be written or restored; the text is for the office."""


def _files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in REBUILT]
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(SQLITE_SIDE_FILES) or (name.startswith(".") and name.endswith(".tmp")):
                continue  # folded into the database copy / half-written outputs
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                out.append(path)
    return out


def _snapshot(path: Path) -> bytes:
    """A consistent copy of a SQLite database, even while it is written to."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.sqlite3"
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return copy.read_bytes()


def _is_sqlite(path: Path) -> bool:
    if not path.name.endswith(SQLITE_SUFFIXES):
        return False
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def backup(home, output: Path) -> dict:
    """Write the backup of `home` to `output` (atomically); returns its index."""
    root = home.root
    entries = []
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            for path in _files(root):
                if path.resolve() == output:
                    continue
                rel = path.relative_to(root).as_posix()
                data = _snapshot(path) if _is_sqlite(path) else path.read_bytes()
                entries.append({"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
                _add(tar, rel, data, path.stat().st_mtime)
            index = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "district": home.config().get("district", ""),
                "files": entries,
            }
            _add(tar, BACKUP_INDEX, json.dumps(index, ensure_ascii=False, indent=1).encode(), None)
        os.chmod(tmp, 0o600)  # portal state holds token hashes: owner only
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return index


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float | None) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(mtime if mtime is not None else datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def restore(backup_file: Path, target: Path) -> dict:
    """Put the backup back into `target` (which must not exist or be empty);
    every file is checked against the backup's index before anything is moved in."""
    target = Path(target).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"目标目录 {target} 已存在且不为空。为免覆盖现有数据，请指定一个新目录或先移走它。")
    try:
        tar = tarfile.open(backup_file, "r:gz")  # noqa: SIM115 - closed by the `with tar` below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"无法读取备份文件 {backup_file}：{exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.restore."))
    try:
        with tar:
            try:
                index = json.loads(tar.extractfile(BACKUP_INDEX).read())
            except (KeyError, AttributeError, ValueError):
                raise BackupError(f"{backup_file} 不是 nianbao 备份（缺少 {BACKUP_INDEX}）。") from None
            if index.get("format") != FORMAT:
                raise BackupError(f"备份格式版本 {index.get('format')} 不受支持。")
            wanted = {e["path"]: e for e in index["files"]}
            # The "data" filter refuses absolute paths, links out of the tree and device files.
            members = [m for m in tar.getmembers() if m.name in wanted]
            tar.extractall(staging, members=members, filter="data")
        for rel, entry in wanted.items():
            path = staging / rel
            if not path.is_file():
                raise BackupError(f"备份不完整：缺少 {rel}。")
            if hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
                raise BackupError(f"备份已损坏：{rel} 的校验值不符。")
        from pipeline.home import _umask

        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; the home follows the umask
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return index
