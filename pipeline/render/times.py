"""One way to print a moment for people, everywhere (reports, portal, CLI): Beijing time, zone named;
and for machines (the upload API's JSON): ISO 8601 with the +08:00 offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "北京时间")


def _in_beijing(stamp: str | datetime) -> datetime:
    """An ISO timestamp (with its zone; a naive one is taken as UTC) as a moment in Beijing time."""
    moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)


def beijing_time(stamp: str | datetime | None) -> str:
    """As 2026-01-15 09:30:12（北京时间）."""
    return _in_beijing(stamp).strftime("%Y-%m-%d %H:%M:%S（北京时间）") if stamp else ""


def beijing_iso(stamp: str | datetime | None) -> str:
    """As 2026-01-15T09:30:12.123456+08:00 (the stamp's own precision)."""
    return _in_beijing(stamp).isoformat() if stamp else ""
