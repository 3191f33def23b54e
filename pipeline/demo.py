"""Demo homes: copies of data/demo/<district>/ ready to build.

An existing demo home is kept as it is (the portal's tokens and uploads made
while trying it out survive `make demo`); `fresh=True` replaces it. A new copy
gets realistic receipt times: most units hand in during January of the next
year, a few after the 31 January deadline, so the office's matrix shows what
it is for. Times are derived from the unit and year, so every copy agrees.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.home import Home

DEMO_SOURCE = Path(__file__).resolve().parents[1] / "data" / "demo"
BEIJING = timezone(timedelta(hours=8))
LATE_ONE_IN = 8  # about one unit in eight hands in after the deadline


def demo_districts() -> list[Path]:
    return sorted(p for p in DEMO_SOURCE.iterdir() if (p / "home.toml").is_file())


def receipt_time(unit: str, year: int, name: str) -> datetime:
    """A working-hours moment in January of year+1 (deadline 31 January), or for
    about one unit in eight, in the first three weeks of February."""
    seed = int.from_bytes(hashlib.sha256(f"{unit}/{year}/{name}".encode()).digest()[:8], "big")
    late = int.from_bytes(hashlib.sha256(f"{unit}/{year}".encode()).digest()[:2], "big") % LATE_ONE_IN == 0
    day = datetime(year + 1, 2, 2, tzinfo=BEIJING) if late else datetime(year + 1, 1, 6, tzinfo=BEIJING)
    days = seed % (19 if late else 25)
    minutes = 9 * 60 + (seed >> 8) % (8 * 60)  # 09:00-17:00
    return day + timedelta(days=days, minutes=minutes, seconds=(seed >> 20) % 60)


def _stamp_receipts(home: Home, years: list[int]) -> None:
    """Archive every demo file with its receipt time, and give it that mtime."""
    from pipeline.ingest.archive import archive_files
    from pipeline.steps.inbox import read_inbox_file, scan_inbox

    for year in years:
        for unit, path in scan_inbox(home, year):
            if not path.is_file() or path.is_symlink():
                continue
            moment = receipt_time(unit, year, path.name)
            archive_files(home.archive, [(unit, year, path.name, read_inbox_file(path))], received_at=moment)
            stamp = moment.timestamp()
            os.utime(path, (stamp, stamp))


def _years(dest: Path) -> list[int]:
    inbox = dest / "inbox"
    return (
        sorted(int(p.name) for p in inbox.iterdir() if p.is_dir() and p.name.isdigit())
        if inbox.is_dir()
        else []
    )


def make_demo_homes(target: Path, fresh: bool = False) -> list[tuple[Home, list[int], bool]]:
    """Every demo district under `target`: (home, years with files, kept). An
    existing home is kept unless `fresh`, which copies it anew."""
    homes = []
    for source in demo_districts():
        dest = target / source.name
        kept = not fresh and (dest / "home.toml").is_file()
        if not kept:
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        home = Home.resolve(dest)
        years = _years(dest)
        if not kept:
            _stamp_receipts(home, years)
        homes.append((home, years, kept))
    return homes
