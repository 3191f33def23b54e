"""One way to print a moment for people, everywhere (reports, portal, CLI): Beijing time, zone named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "北京时间")


def beijing_time(stamp: str | datetime | None) -> str:
    """An ISO timestamp (with its zone; a naive one is taken as UTC) as 2026-01-15 09:30:12（北京时间）."""
    if not stamp:
        return ""
    moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S（北京时间）")
