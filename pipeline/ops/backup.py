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
import zlib
from datetime import UTC, datetime
from pathlib import Path

BACKUP_INDEX = "nianbao-backup.json"
FORMAT = 1
REBUILT = {"warehouse", "reports", "dagster", "logs", "locks"}
SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
# What restore accepts (a backup is untrusted input until its index checks out).
# A home holds files of at most 20 MB and SQLite databases of a few hundred MB.
MAX_MEMBER_BYTES = 1024**3
MAX_TOTAL_BYTES = 16 * 1024**3
MAX_MEMBERS = 500_000
MAX_INDEX_BYTES = 256 * 1024**2
MAX_NAME_CHARS = 1024
DISK_MARGIN_BYTES = 64 * 1024**2  # left free on the target's disk after each file
CHUNK_BYTES = 1024**2


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
    """Put the backup back into `target` (which must not exist or be empty).
    The archive is read once, member by member: each member is checked (a plain
    file with a safe relative name, within the size limits) before a byte of it
    is written, streamed into a staging folder next to `target` while hashed,
    and the backup's index is checked against what arrived; only then is the
    staging folder moved into place. Any refusal removes the staging folder."""
    target = Path(target).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"目标目录 {target} 已存在且不为空。为免覆盖现有数据，请指定一个新目录或先移走它。")
    try:
        tar = tarfile.open(backup_file, "r:gz")  # noqa: SIM115 - closed by the `with tar` below
    except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise BackupError(f"无法读取备份文件 {backup_file}：{exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.restore."))
    try:
        with tar:
            try:
                found, index = _unpack(tar, staging)
            except (EOFError, zlib.error, tarfile.TarError) as exc:
                raise BackupError(f"备份文件 {backup_file} 已损坏或不完整：{exc}") from None
        if index is None:
            raise BackupError(f"{backup_file} 不是 nianbao 备份（缺少 {BACKUP_INDEX}）。")
        _check_index(index, found, staging)
        from pipeline.home import _umask

        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; the home follows the umask
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return index


def safe_name(name: object) -> str | None:
    """Why `name` cannot be a path inside the home (absolute, `..`, empty parts,
    control characters), or None when it can."""
    if not isinstance(name, str) or not name:
        return "不是有效的路径"
    if len(name) > MAX_NAME_CHARS:
        return f"路径超过 {MAX_NAME_CHARS} 个字符"
    if name.startswith("/") or "\\" in name:
        return "是绝对路径或含反斜杠"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "含控制字符"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "含 ..、. 或空的路径段"
    return None


def _unpack(tar: tarfile.TarFile, staging: Path) -> tuple[dict[str, tuple[int, str]], dict | None]:
    """Every member into `staging` after its checks: {name: (size, sha256)}, and the index."""
    found: dict[str, tuple[int, str]] = {}
    index = None
    total = 0
    for member in tar:
        why = safe_name(member.name)
        if why:
            raise BackupError(f"备份中的成员 {member.name!r} {why}，拒绝恢复。")
        if not member.isreg():
            kind = (
                "链接"
                if member.issym() or member.islnk()
                else "设备或特殊文件"
                if not member.isdir()
                else "目录"
            )
            raise BackupError(f"备份中的成员 {member.name} 是{kind}，nianbao 备份只含普通文件，拒绝恢复。")
        if member.name in found or (member.name == BACKUP_INDEX and index is not None):
            raise BackupError(f"备份中的成员 {member.name} 出现了不止一次，拒绝恢复。")
        if len(found) >= MAX_MEMBERS:
            raise BackupError(f"备份中的文件超过 {MAX_MEMBERS} 个，超出上限，拒绝恢复。")
        if member.name == BACKUP_INDEX:
            if member.size > MAX_INDEX_BYTES:
                raise BackupError(f"备份索引 {BACKUP_INDEX} 超过 {_mb(MAX_INDEX_BYTES)}，拒绝恢复。")
            try:
                index = json.loads(tar.extractfile(member).read())
            except ValueError:
                raise BackupError(f"备份索引 {BACKUP_INDEX} 不是有效的 JSON，拒绝恢复。") from None
            continue
        if member.size > MAX_MEMBER_BYTES:
            raise BackupError(
                f"备份中的文件 {member.name} 有 {_mb(member.size)}，超过单个文件 {_mb(MAX_MEMBER_BYTES)} 的上限，拒绝恢复。"
            )
        total += member.size
        if total > MAX_TOTAL_BYTES:
            raise BackupError(f"备份解开后超过 {_mb(MAX_TOTAL_BYTES)} 的上限，拒绝恢复。")
        if shutil.disk_usage(staging).free < member.size + DISK_MARGIN_BYTES:
            raise BackupError(
                f"{staging.parent} 所在磁盘空间不足，放不下备份中的 {member.name}，请先腾出空间。"
            )
        found[member.name] = _write(tar.extractfile(member), staging, member.name)
    return found, index


def _write(source, staging: Path, name: str) -> tuple[int, str]:
    """Stream one member to staging/name (a new file: never through a link), hashing it."""
    path = staging / name
    digest, size = hashlib.sha256(), 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except OSError as exc:
        raise BackupError(f"无法写出备份中的 {name}：{exc.strerror or exc}。") from None
    return size, digest.hexdigest()


def _check_index(index, found: dict[str, tuple[int, str]], staging: Path) -> None:
    """The index lists exactly the files that arrived, each with its hash, all inside staging."""
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        version = index.get("format") if isinstance(index, dict) else None
        raise BackupError(f"备份格式版本 {version} 不受支持。")
    entries = index.get("files")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BackupError(f"备份索引 {BACKUP_INDEX} 的文件列表格式不对，拒绝恢复。")
    root = staging.resolve()
    listed = set()
    for entry in entries:
        rel = entry.get("path")
        why = safe_name(rel)
        if why or not (staging / rel).resolve().is_relative_to(root):
            raise BackupError(f"备份索引中的路径 {rel!r} {why or '指向备份之外'}，拒绝恢复。")
        if rel not in found:
            raise BackupError(f"备份不完整：缺少 {rel}。")
        if found[rel][1] != entry.get("sha256"):
            raise BackupError(f"备份已损坏：{rel} 的校验值不符。")
        listed.add(rel)
    extra = sorted(set(found) - listed)
    if extra:
        raise BackupError(f"备份中有索引未列出的文件 {extra[0]}（共 {len(extra)} 个），拒绝恢复。")


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB"
