"""Where each unit stands for a year: the last build's status combined with the
portal's uploads since that build (the portal never waits for a Dagster run).

States: accepted, warnings (accepted with warnings), rejected, missing. A unit
is late when the version counted was received after 31 January of the next
year (Beijing time); a missing unit is overdue after that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import pandas as pd

from pipeline.home import Home
from pipeline.ingest.archive import read_manifest
from pipeline.portal.store import Store, Upload
from pipeline.warehouse import Warehouse
from schemas.frames import zip_columns
from schemas.units import Registry

BEIJING = timezone(timedelta(hours=8), "北京时间")
STATE_TEXT = {
    "accepted": "已采用",
    "warnings": "已采用（有提醒）",
    "rejected": "已退回",
    "missing": "未报送",
}
OUTCOME_TEXT = {"accepted": "已采用", "rejected": "已退回"}


def deadline(year: int) -> datetime:
    """The first moment that is late for report year `year`: 1 February of the next year."""
    return datetime(year + 1, 2, 1, tzinfo=BEIJING)


def deadline_text(year: int) -> str:
    return f"{year + 1}年1月31日"


@dataclass(frozen=True)
class Standing:
    unit: str
    name: str
    year: int
    state: str  # accepted | warnings | rejected | missing
    late: bool  # counted version received after the deadline
    overdue: bool  # missing, and the deadline has passed
    errors: int
    warnings: int
    source: str  # "portal", "build" or ""
    file: str
    received_at: str
    in_use: Upload | None  # the portal version in use, if any
    latest: Upload | None  # the last portal upload, if any
    imported: bool = False  # the record in use is the unit's published report (pipeline/steps/published.py)

    @property
    def text(self) -> str:
        text = STATE_TEXT[self.state]
        if self.imported:
            text += "·据已公开年报导入"
        if self.late:
            text += "·逾期报送"
        if self.overdue:
            text += "·已逾期"
        return text


def report_years(home: Home, store: Store, today: date) -> list[int]:
    """Years the portal offers, newest first: the year just ended, and every year
    with an inbox, a build or portal uploads, up to this year, that the home can
    work on (the rule every command follows, pipeline/years.py: a legacy year
    without its catalogue is not offered, as no file of it could be checked)."""
    from pipeline.years import year_problem

    years = {today.year - 1} | store.years()
    for folder in (home.inbox, home.warehouse):
        if folder.is_dir():
            years |= {int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()}
    return sorted((y for y in years if y <= today.year and year_problem(y, home.root) is None), reverse=True)


def _last_build(home: Home, year: int) -> tuple[pd.DataFrame | None, datetime | None]:
    path = Warehouse.of(home, year).path("status")
    if not path.exists():
        return None, None
    return pd.read_parquet(path), datetime.fromtimestamp(path.stat().st_mtime, UTC)


def standings(
    home: Home,
    store: Store,
    year: int,
    now: datetime,
    units: list[str] | None = None,
    registry: Registry | None = None,
) -> list[Standing]:
    """One Standing per unit expected for `year` (or the given units of those).
    `registry` saves reading the unit registry again."""
    expected = (registry or home.registry()).frame(year)
    if units is not None:
        expected = expected[expected["code"].isin(units)]
    built, built_at = _last_build(home, year)
    build_rows = {r.unit: r for r in built.itertuples()} if built is not None else {}
    uploads: dict[str, list[Upload]] = {}
    for upload in store.uploads(year=year, light=True):
        uploads.setdefault(upload.unit, []).append(upload)
    year_sources = _YearSources(
        year, now, build_rows, built_at, uploads, _received_times(home, year) if build_rows else {}
    )
    return [year_sources.standing(unit, name) for unit, name in zip_columns(expected, "code", "name")]


def _received_times(home: Home, year: int) -> dict[tuple[str, str], str]:
    """(unit, file name) -> when the archive last received that file (ISO time)."""
    received: dict[tuple[str, str], str] = {}
    # A damaged manifest raises ArchiveError (Chinese text) here; nothing is guessed.
    for row in read_manifest(home.archive, year=year):
        key = (row["unit"], row["original_name"])
        received[key] = max(received.get(key, ""), row["received_at"])
    return received


@dataclass(frozen=True)
class _YearSources:
    """What the units' standings in a year are made of: the last build and the portal's uploads."""

    year: int
    now: datetime
    build_rows: dict  # unit -> its line of the last build's status
    built_at: datetime | None
    uploads: dict[str, list[Upload]]  # unit -> its portal uploads, oldest first
    received: dict[tuple[str, str], str]  # (unit, file) -> received at, for the build's files

    def standing(self, unit: str, name: str) -> Standing:
        versions = self.uploads.get(unit, [])
        accepted = [u for u in versions if u.outcome == "accepted"]
        in_use = accepted[-1] if accepted else None
        latest = versions[-1] if versions else None
        build = self.build_rows.get(unit)
        state, errors, warnings, source, file, at = self._count(unit, build, in_use, latest)
        imported = source == "build" and getattr(build, "origin", "") == "published" and state != "missing"
        late_from = deadline(self.year)
        # A published report recorded years later is not a late hand-in.
        late = bool(at) and state != "missing" and not imported and datetime.fromisoformat(at) >= late_from
        overdue = state == "missing" and self.now >= late_from
        return Standing(
            unit,
            name,
            self.year,
            state,
            late,
            overdue,
            errors,
            warnings,
            source,
            file,
            at,
            in_use,
            latest,
            imported,
        )

    def _count(self, unit: str, build, in_use: Upload | None, latest: Upload | None):
        """(state, errors, warnings, source, file, received at) of the version that counts:
        the portal's when it has one newer than the build, else the build's."""
        newer = latest is not None and (self.built_at is None or latest.received > self.built_at)
        # Rejected uploads never reach the inbox, so a build counts such a unit
        # as missing; the portal knows it tried.
        tried = latest is not None and (build is None or build.status == "missing")
        if newer or tried:
            return _portal_count(in_use or latest, in_use)
        if build is not None:
            return self._build_count(unit, build)
        return "missing", 0, 0, "", "", ""

    def _build_count(self, unit: str, build) -> tuple[str, int, int, str, str, str]:
        """(state, errors, warnings, source, file, received at) as the last build counted the unit."""
        state = build.status
        if state == "accepted" and int(build.warnings):
            state = "warnings"
        file = str(build.file or "")
        at = self.received.get((unit, file), "") if file else ""
        return state, int(build.errors), int(build.warnings), "build", file, at


def _portal_count(counted: Upload, in_use: Upload | None) -> tuple[str, int, int, str, str, str]:
    """(state, errors, warnings, source, file, received at) of the portal version counted:
    the one in use, else the last (rejected) upload."""
    state = "rejected" if in_use is None else "warnings" if in_use.warnings else "accepted"
    return state, counted.errors, counted.warnings, "portal", counted.original_name, counted.received_at


def build_messages(home: Home, year: int, unit: str) -> list[dict]:
    """The last build's messages about `unit` (its file in the inbox): why a file the
    unit did not hand in through the portal was rejected, or what it was warned of."""
    warehouse = Warehouse.of(home, year)
    if not warehouse.path("messages").exists():
        return []
    return [m.as_dict() for m in warehouse.read_messages("messages") if m.unit == unit]


def local_time(stamp: str) -> str:
    """An ISO timestamp as Beijing time for people, the one format used everywhere:
    2026-01-15 09:30:12（北京时间）."""
    from pipeline.render.times import beijing_time

    return beijing_time(stamp)


def in_report_at(home: Home, year: int, unit: str, stored_name: str, reported: float | None) -> str:
    """When the district report took in this version's figures (ISO time), or "".

    `reported` is when the district report was last materialized (the home's
    Dagster instance knows; the file itself is not rewritten when its text does
    not change). The version is in it when the status written before that
    names this file for the unit."""
    status_path = Warehouse.of(home, year).path("status")
    try:
        built = status_path.stat().st_mtime
    except FileNotFoundError:
        return ""
    if reported is None or reported < built:
        return ""
    rows = pd.read_parquet(status_path, columns=["unit", "file"])
    used = rows.loc[rows["unit"] == unit, "file"]
    if used.empty or str(used.iloc[0]) != stored_name:
        return ""
    return datetime.fromtimestamp(reported, UTC).isoformat(timespec="seconds")
