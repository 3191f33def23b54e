"""The inbox sensor, through build_sensor_context: settled files only, one
request per changed year, nothing for a year already built, a bounded cursor."""

from __future__ import annotations

import json
import os
import time

from conftest import build, hand_in, valid_cells
from dagster import SkipReason, build_sensor_context

from pipeline.defs.definitions import defs
from pipeline.defs.resources import NianbaoHome
from pipeline.defs.sensors import MAX_PENDING, SETTLE_SECONDS, evaluate_inbox
from pipeline.synth import to_csv


def age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def tick(home, cursor=None):
    sensor = defs.resolve_sensor_def("inbox_sensor")
    context = build_sensor_context(cursor=cursor, resources={"home": NianbaoHome(path=str(home.root))})
    result = sensor(context)
    return result, context.cursor


def settle(home):
    for path in home.inbox.rglob("*.csv"):
        age(path, SETTLE_SECONDS + 5)


def test_requests_a_run_for_a_year_with_settled_files(home):
    settle(home)
    requests, cursor = tick(home)
    assert [r.partition_key for r in requests] == ["2025"]
    assert requests[0].run_key.startswith("inbox-2025-")
    # The same inbox does not ask again.
    again, _ = tick(home, cursor)
    assert isinstance(again, SkipReason) and "没有变化" in again.skip_message


def test_waits_for_a_file_that_is_still_being_written(home):
    settle(home)
    _, cursor = tick(home)
    fresh = hand_in(home, 2025, "C", "c.csv", to_csv(valid_cells(2025, seed=3)))
    waiting, cursor = tick(home, cursor)
    assert isinstance(waiting, SkipReason) and "2025" in waiting.skip_message
    assert "2025/C/c.csv" in json.loads(cursor)["pending"]
    # Unchanged since the last tick: it has stopped growing.
    requests, cursor = tick(home, cursor)
    assert [r.partition_key for r in requests] == ["2025"]
    # Growing again: wait again.
    with open(fresh, "ab") as f:
        f.write(b"applications,received,total,0\n")
    waiting, _ = tick(home, cursor)
    assert isinstance(waiting, SkipReason)


def test_a_built_year_is_not_requested_again(home):
    settle(home)
    build(home, 2025)
    result, _ = tick(home)
    assert isinstance(result, SkipReason)


def test_a_change_in_another_year_requests_only_that_year(home):
    settle(home)
    _, cursor = tick(home)
    path = hand_in(home, 2024, "A", "a.csv", to_csv(valid_cells(2024, seed=4)))
    age(path, SETTLE_SECONDS + 5)
    requests, _ = tick(home, cursor)
    assert [r.partition_key for r in requests] == ["2024"]


def test_cursor_is_bounded(home):
    for i in range(MAX_PENDING + 50):
        hand_in(home, 2025, "A", f"part-{i}.csv", b"x")
    _, cursor = evaluate_inbox(home, None, time.time())[0:2]
    assert len(json.loads(cursor)["pending"]) == MAX_PENDING
    assert len(cursor) < 200_000
