"""Load: 200 uploads arriving within a minute through the portal on loopback
(the `nianbao portal` command in its own process, 8 clients at once) are all
archived, validated and reflected in the year's status: nothing lost, nothing
duplicated, and a Dagster build of the year agrees with the portal.

Bounded: 200 uploads, one minute for the uploads; loopback only.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import requests
from conftest import build, valid_cells, write_home
from hostile.client import Client, issue_tokens

from pipeline.ingest.archive import read_manifest
from pipeline.portal.server import bound_socket
from pipeline.portal.status import standings
from pipeline.portal.store import Store, now_utc
from pipeline.synth import to_csv

pytestmark = pytest.mark.e2e

YEAR = 2025
UNITS = 160
UPLOADS = 200  # 160 first submissions, 40 resubmissions
CLIENTS = 8
BUDGET_SECONDS = 60


def bad(data: bytes) -> bytes:
    """Break N4 (review total) without touching anything else."""
    lines = data.decode().splitlines()
    out = [ln for ln in lines if not ln.startswith("review_litigation,review,")]
    out.append("review_litigation,review,upheld,1")
    out.append("review_litigation,review,total,5")
    return ("\n".join(out) + "\n").encode()


@pytest.fixture
def portal_process(tmp_path):
    units = [(f"U{i:03d}", f"单位{i:03d}") for i in range(UNITS)]
    home = write_home(tmp_path / "home", units)
    home.inbox_dir(YEAR).mkdir(parents=True)
    tokens = issue_tokens(home)
    probe = bound_socket()
    port = probe.getsockname()[1]
    probe.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "portal", "--home", str(home.root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/login", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "portal did not start"
                time.sleep(0.2)
        yield home, tokens, base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_200_uploads_within_a_minute(portal_process, capsys):
    home, tokens, base = portal_process
    # Plan: every unit hands in once; 40 of them hand in again. Unit i's first
    # file is wrong when i % 10 == 3; the resubmission always fixes it.
    plan: list[tuple[str, str, bytes, bool]] = []
    for i in range(UNITS):
        data = to_csv(valid_cells(YEAR, seed=1000 + i))
        wrong = i % 10 == 3
        plan.append((f"U{i:03d}", f"单位{i:03d}.csv", bad(data) if wrong else data, not wrong))
    for i in range(0, UNITS, UNITS // (UPLOADS - UNITS)):
        plan.append((f"U{i:03d}", f"单位{i:03d}-修改.csv", to_csv(valid_cells(YEAR, seed=5000 + i)), True))
    assert len(plan) == UPLOADS
    # Sign in first (a clerk is signed in before handing in); then upload.
    clients = {}
    for unit in sorted({p[0] for p in plan}):
        clients[unit] = Client(base)
        # One connection per request: an idle keep-alive connection that the
        # server closes just as a POST starts would be a client-side race, not load.
        clients[unit].http.headers["Connection"] = "close"
        assert clients[unit].login(tokens[unit]).ok
    first, second = plan[:UNITS], plan[UNITS:]

    def hand_in(item):
        unit, name, data, _ = item
        response = clients[unit].upload(YEAR, name, data)
        return response.status_code, response.url

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(hand_in, first))
        results += list(pool.map(hand_in, second))  # a unit's second file comes after its first
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n[load] {UPLOADS} uploads through the portal in {elapsed:.1f} s ({UPLOADS / elapsed:.1f}/s, {CLIENTS} clients)"
        )
    assert all(status == 200 and "/versions/" in url for status, url in results), results[:5]
    assert elapsed < BUDGET_SECONDS

    # Nothing lost, nothing duplicated.
    store = Store(home)
    uploads = store.uploads(year=YEAR, light=True)
    assert len(uploads) == UPLOADS
    assert sorted(u.sha256 for u in uploads) == sorted(hashlib.sha256(p[2]).hexdigest() for p in plan)
    for unit in clients:
        versions = [u.version for u in uploads if u.unit == unit]
        assert versions == list(range(1, len(versions) + 1))
    manifest = read_manifest(home.archive)
    assert len(manifest) == UPLOADS and len({(r["sha256"], r["unit"]) for r in manifest}) == UPLOADS
    expected = {hashlib.sha256(d).hexdigest(): "accepted" if ok else "rejected" for _, _, d, ok in plan}
    assert {u.sha256: u.outcome for u in uploads} == expected
    accepted = [u for u in uploads if u.outcome == "accepted"]
    inbox = {(p.parent.name, p.name) for p in home.inbox_dir(YEAR).glob("*/*")}
    assert inbox == {(u.unit, u.stored_name) for u in accepted}

    # Reflected in the year's status at once (no build yet) ...
    portal_view = {s.unit: s for s in standings(home, store, YEAR, now_utc())}
    resubmitted = {p[0] for p in second}
    for i in range(UNITS):
        unit = f"U{i:03d}"
        rejected_only = i % 10 == 3 and unit not in resubmitted
        assert portal_view[unit].state == ("rejected" if rejected_only else "accepted"), unit
        if unit in resubmitted:
            assert portal_view[unit].in_use.version == 2
    # ... and a Dagster build of the year agrees with the portal.
    build(home, YEAR)
    status = pd.read_parquet(home.warehouse_dir(YEAR) / "status.parquet").set_index("unit")
    for unit, standing in portal_view.items():
        if standing.state == "rejected":  # its files never reached the inbox
            assert status.loc[unit, "status"] == "missing", unit
        else:
            assert status.loc[unit, "status"] == "accepted", unit
            assert status.loc[unit, "file"] == standing.in_use.stored_name
    # The office's view after the build is the same as before it.
    after = {s.unit: s.state for s in standings(home, store, YEAR, now_utc())}
    assert after == {u: s.state for u, s in portal_view.items()}
