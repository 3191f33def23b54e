"""Ask for a run of a year when its inbox changes, once the files have settled.

A file counts once it has stopped growing: its size and modification time are
unchanged since the previous tick, or it was last modified more than
SETTLE_SECONDS ago. A year whose settled inbox matches what was last built (the
digest the intake asset records) or last requested is left alone. The cursor
holds one digest per year plus the sizes of files still settling, capped.
"""

from __future__ import annotations

import json
import time

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from pipeline.defs.jobs import yearly_report
from pipeline.defs.resources import NianbaoHome

SETTLE_SECONDS = 30
MAX_PENDING = 2000  # bound on files remembered while they settle


def evaluate_inbox(home, cursor: str | None, now: float) -> tuple[list[RunRequest], str, str]:
    """(run requests, new cursor, why nothing was requested)."""
    from pipeline.steps.inbox import built_digest, digest, inbox_state

    state = json.loads(cursor) if cursor else {}
    requested: dict[str, str] = state.get("requested", {})
    pending_before: dict[str, list[int]] = state.get("pending", {})
    pending: dict[str, list[int]] = {}
    requests, waiting = [], []
    from pipeline.years import buildable_years

    # Only years with a partition: a stray folder such as inbox/2099, or a legacy
    # year without a catalogue, must not fail every tick with an unknown partition.
    buildable = set(buildable_years(home.root))
    years = (
        sorted(p.name for p in home.inbox.iterdir() if p.is_dir() and p.name in buildable)
        if home.inbox.is_dir()
        else []
    )
    for year in years:
        files = inbox_state(home, int(year))
        settling = [
            (name, size, mtime)
            for name, size, mtime in files
            if now - mtime / 1e9 < SETTLE_SECONDS and pending_before.get(f"{year}/{name}") != [size, mtime]
        ]
        if settling:
            waiting.append(year)
            for name, size, mtime in settling:
                if len(pending) < MAX_PENDING:
                    pending[f"{year}/{name}"] = [size, mtime]
            continue
        current = digest(files)
        if current in (requested.get(year), built_digest(home, int(year))):
            continue
        requested[year] = current
        requests.append(RunRequest(run_key=f"inbox-{year}-{current[:16]}", partition_key=year))
    new_cursor = json.dumps({"requested": requested, "pending": pending}, sort_keys=True)
    why = f"等待文件写入完成：{'、'.join(waiting)} 年度" if waiting else "收件箱没有变化"
    return requests, new_cursor, why


@sensor(
    job=yearly_report,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="收件箱（inbox/<年度>/<单位>/）有文件新增或变化、且已写入完成时，请求重新编制该年度。",
)
def inbox_sensor(context: SensorEvaluationContext, home: NianbaoHome):
    requests, cursor, why = evaluate_inbox(home.home(), context.cursor, time.time())
    context.update_cursor(cursor)
    return requests or SkipReason(why)
