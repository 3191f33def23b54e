"""A region home in the real Dagster webserver (issue 18): the code location loads the region's
definitions from NIANBAO_HOME, the UI's API shows the year × district partitions and the
district → region lineage, and a member partition launched there reads that member."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO
from test_webserver_e2e import LAUNCH, STATUS, free_port, graphql

pytestmark = pytest.mark.e2e

NODES = """
{ assetNodes { assetKey { path } dependencyKeys { path }
  partitionKeysByDimension { name partitionKeys } } }
"""


@pytest.fixture
def region_server(tmp_path: Path):
    from pipeline.demo import make_demo_city

    home = make_demo_city(tmp_path, 2025).root
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nrun_coordinator:\n  module: dagster.core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"
    )
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "NIANBAO_HOME": str(home)}
    log = open(tmp_path / "webserver.log", "wb")  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, (tmp_path / "webserver.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("webserver did not start: " + (tmp_path / "webserver.log").read_text()[-2000:])
        yield port, home
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_ui_shows_year_by_district_partitions_and_lineage_and_runs_a_member(region_server):
    port, home = region_server
    nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(port, NODES, {})["assetNodes"]}
    dimensions = {d["name"]: d["partitionKeys"] for d in nodes["member_figures"]["partitionKeysByDimension"]}
    assert set(dimensions["district"]) == {"shifanqu", "xiqu", "beiqu"} and "2025" in dimensions["year"]
    assert ["member_figures"] in [d["path"] for d in nodes["region_figures"]["dependencyKeys"]]
    assert ["region_figures"] in [d["path"] for d in nodes["region_page"]["dependencyKeys"]]

    tags = {
        "dagster/partition": "beiqu|2025",
        "dagster/partition/district": "beiqu",
        "dagster/partition/year": "2025",
    }
    params = {
        "selector": {
            "repositoryLocationName": "nianbao",
            "repositoryName": "__repository__",
            "jobName": "region_members",
        },
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    launched = graphql(port, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline, status = time.monotonic() + 240, None
    while time.monotonic() < deadline:
        status = graphql(port, STATUS, {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    assert status == "SUCCESS"
    written = json.loads((home / "warehouse/2025/region/members/beiqu.json").read_text(encoding="utf-8"))
    assert written["state"] == "已报送" and written["source"] == "package"
