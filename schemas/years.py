"""Facts about report years that need no format: the newest year that exists, and
where a legacy year's indicator catalogue lives in a home. Which years a home can
work on is pipeline/years.py (it loads formats, which import this module)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def last_year() -> int:
    """The newest year that can be worked on: next year in Beijing time (a template or
    a schedule for next year may be wanted early); nothing later exists yet."""
    return datetime.now(BEIJING).year + 1


def catalogue_path(home: Path, year: int) -> Path:
    """A legacy year's indicator catalogue (here, not in schemas/legacy, whose import
    loads the rules and pandas: the code location asks at import)."""
    return Path(home) / "catalogue" / f"{year}.toml"
