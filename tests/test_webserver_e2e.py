"""The office's real path: the Dagster webserver over a data home, the
yearly_report job launched through its GraphQL API, the report files written."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import REPO, copy_demo

pytestmark = pytest.mark.e2e

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}
"""
STATUS = """
query Status($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_webserver(tmp_path: Path, home: Path):
    """The real `dagster-webserver` over `home` on a free loopback port, until the block ends.
    Runs launch at once (no daemon): with the default queued coordinator a daemon would
    have to dequeue them (`make ui` runs `dagster dev`, which starts one)."""
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nrun_coordinator:\n  module: dagster.core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"
    )
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "NIANBAO_HOME": str(home)}
    log_path = tmp_path / "webserver.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml",
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_until_serving(process, port, log_path)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_serving(process, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                return
        except OSError:
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.5)
    pytest.fail("webserver did not start: " + log_path.read_text()[-2000:])


def graphql(port: int, query: str, variables: dict) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def launch_and_wait(port: int, job: str, tags: dict[str, str], seconds: float = 240) -> str | None:
    """Launch `job` with `tags` through the webserver's GraphQL API, as the UI's launch
    button does, and wait for the run to end: its final status (None if it did not end)."""
    params = {
        "selector": {"repositoryLocationName": "nianbao", "repositoryName": "__repository__", "jobName": job},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    launched = graphql(port, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline, status = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        status = graphql(port, STATUS, {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(1)
    return status


@pytest.fixture
def webserver(tmp_path: Path):
    home = copy_demo(tmp_path / "shifanqu", "shifanqu", [2025]).root  # the year the run builds
    with running_webserver(tmp_path, home) as port:
        yield port, home


def test_office_launches_yearly_report_from_the_web_ui(webserver):
    port, home = webserver
    assert launch_and_wait(port, "yearly_report", {"dagster/partition": "2025"}) == "SUCCESS"

    reports = home / "reports" / "2025"
    assert (reports / "report.html").read_text(encoding="utf-8").count(
        "示范区2025年政府信息公开工作年度报告"
    ) >= 1
    status_csv = (reports / "status.csv").read_text(encoding="utf-8")
    assert "JTJ,rejected" in status_csv and "NYJD,missing" in status_csv
    assert (reports / "units" / "ZFB.html").exists() and (reports / "validation.html").exists()
