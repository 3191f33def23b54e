"""What the inbox holds for a year, as a digest: the sensor and the intake
asset compute it the same way, so a year already built is not re-requested."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.steps.intake import scan_inbox


def inbox_state(home, year: int) -> list[tuple[str, int, int]]:
    """(unit/file, size, mtime_ns) of every candidate file of `year`."""
    state = []
    for unit, path in scan_inbox(home, year):
        stat = path.stat()
        state.append((f"{unit}/{path.name}", stat.st_size, stat.st_mtime_ns))
    return state


def digest(state: list[tuple[str, int, int]]) -> str:
    return hashlib.sha256(json.dumps(state, ensure_ascii=False).encode()).hexdigest()


def built_digest(home, year: int) -> str | None:
    path = Path(home.warehouse_dir(year)) / "inbox.digest"
    return path.read_text().strip() if path.exists() else None
