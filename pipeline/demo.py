"""Demo homes: copies of data/demo/<district>/ ready to build."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.home import Home

DEMO_SOURCE = Path(__file__).resolve().parents[1] / "data" / "demo"


def demo_districts() -> list[Path]:
    return sorted(p for p in DEMO_SOURCE.iterdir() if (p / "home.toml").is_file())


def make_demo_homes(target: Path) -> list[tuple[Home, list[int]]]:
    """Copy every demo district under `target` (replacing an earlier copy) and
    list the years each has files for."""
    homes = []
    for source in demo_districts():
        dest = target / source.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        inbox = dest / "inbox"
        years = (
            sorted(int(p.name) for p in inbox.iterdir() if p.is_dir() and p.name.isdigit())
            if inbox.is_dir()
            else []
        )
        homes.append((Home.resolve(dest), years))
    return homes
