"""What the inbox holds for a year: its entries, read safely, and a digest the
sensor and the intake asset compute the same way, so a year already built is
not re-requested. No pandas here: the sensor imports this on every tick."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _ignored(name: str) -> bool:
    """Office lock files ("~$年报.xlsx"), desktop junk and our own half-written
    temporary files (".name.xxxx.tmp", see write_atomic) are not submissions.
    Anything else is processed, so a strangely named file is reported, not lost."""
    return name.startswith("~$") or name in JUNK_NAMES or (name.startswith(".") and name.endswith(".tmp"))


def scan_inbox(home, year: int) -> list[tuple[str, Path]]:
    """(unit folder name, path) of every candidate entry, sorted for determinism.

    Entries are not followed: a symlink or anything else that is not a regular
    file is listed (so the unit is told, F16) but never opened."""
    root = home.inbox_dir(year)
    if not root.is_dir() or root.is_symlink():
        return []
    found = []
    for unit_dir in sorted(root.iterdir()):
        if unit_dir.is_dir() and not unit_dir.is_symlink():
            for path in sorted(unit_dir.iterdir()):
                if not _ignored(path.name) and not (path.is_dir() and not path.is_symlink()):
                    found.append((unit_dir.name, path))
        elif not _ignored(unit_dir.name):
            found.append(("", unit_dir))
    return found


# published/<year>/<this folder>/: the district's own published report (a unit's is in
# its code's folder). Not a unit: the intake skips it, the year-over-year reads it.
DISTRICT_FOLDER = "_district"


def scan_published(home, year: int) -> list[tuple[str, Path]]:
    """(unit folder name, path) of the published reports the office recorded for `year`
    (pipeline/steps/published.py): regular files only, links never followed."""
    root = home.published_dir(year)
    if not root.is_dir() or root.is_symlink():
        return []
    return [
        (unit_dir.name, path)
        for unit_dir in sorted(root.iterdir())
        if unit_dir.is_dir() and not unit_dir.is_symlink()
        for path in sorted(unit_dir.iterdir())
        if not _ignored(path.name) and regular_file_problem(path) is None
    ]


def regular_file_problem(path: Path) -> str | None:
    """What `path` is when it is not a regular file (F16), or None."""
    if path.is_symlink():
        return "符号链接"
    if not stat.S_ISREG(path.lstat().st_mode):
        return "目录" if path.is_dir() else "特殊文件"
    return None


def read_inbox_file(path: Path) -> bytes:
    """The bytes of a regular file in the inbox, never following a link (O_NOFOLLOW)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        return f.read()  # all of it: the archive keeps the file as handed in, however large


def inbox_state(home, year: int) -> list[tuple[str, int, int]]:
    """(unit/file, size, mtime_ns) of every candidate file of `year`, and of its published reports."""
    state = []
    for unit, path in scan_inbox(home, year):
        info = path.lstat()
        state.append((f"{unit}/{path.name}", info.st_size, info.st_mtime_ns))
    for unit, path in scan_published(home, year):  # a unit's recorded published report rebuilds the year too
        if unit == DISTRICT_FOLDER:
            continue  # the district's is read by the next year's build, not this year's
        info = path.lstat()
        state.append((f"published:{unit}/{path.name}", info.st_size, info.st_mtime_ns))
    return state


def digest(state: list[tuple[str, int, int]]) -> str:
    return hashlib.sha256(json.dumps(state, ensure_ascii=False).encode()).hexdigest()


def built_digest(home, year: int) -> str | None:
    path = home.inbox_digest(year)
    return path.read_text().strip() if path.exists() else None
