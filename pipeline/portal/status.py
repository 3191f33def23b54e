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


def _build(home: Home, year: int) -> tuple[pd.DataFrame | None, datetime | None]:
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
    built, built_at = _build(home, year)
    build_rows = {r.unit: r for r in built.itertuples()} if built is not None else {}
    uploads: dict[str, list[Upload]] = {}
    for upload in store.uploads(year=year, light=True):
        uploads.setdefault(upload.unit, []).append(upload)
    received = {}
    if build_rows:
        # A damaged manifest raises ArchiveError (Chinese text) here; nothing is guessed.
        for row in read_manifest(home.archive, year=year):
            key = (row["unit"], row["original_name"])
            received[key] = max(received.get(key, ""), row["received_at"])
    late_from = deadline(year)
    out = []
    for unit, name in zip(expected["code"], expected["name"]):
        versions = uploads.get(unit, [])
        accepted = [u for u in versions if u.outcome == "accepted"]
        in_use = accepted[-1] if accepted else None
        latest = versions[-1] if versions else None
        build = build_rows.get(unit)
        newer = latest is not None and (built_at is None or latest.received > built_at)
        # Rejected uploads never reach the inbox, so a build counts such a unit
        # as missing; the portal knows it tried.
        tried = latest is not None and (build is None or build.status == "missing")
        if newer or tried:
            counted = in_use or latest
            state = (
                "rejected" if in_use is None else "warnings" if in_use.warnings else "accepted"
            )  # fmt: skip
            errors, warnings, source = counted.errors, counted.warnings, "portal"
            file, at = counted.original_name, counted.received_at
        elif build is not None:
            state = build.status
            if state == "accepted" and int(build.warnings):
                state = "warnings"
            errors, warnings, source = int(build.errors), int(build.warnings), "build"
            file = str(build.file or "")
            at = received.get((unit, file), "") if file else ""
        else:
            state, errors, warnings, source, file, at = "missing", 0, 0, "", "", ""
        imported = source == "build" and getattr(build, "origin", "") == "published" and state != "missing"
        # A published report recorded years later is not a late hand-in.
        late = bool(at) and state != "missing" and not imported and datetime.fromisoformat(at) >= late_from
        overdue = state == "missing" and now >= late_from
        out.append(
            Standing(
                unit,
                name,
                year,
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
        )
    return out


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
