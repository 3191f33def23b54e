"""The home's instance on a real PostgreSQL server, started here (Debian's
postgresql: initdb/pg_ctl, as the postgres user when run as root): the CLI's
yearly build recorded in it, a run launched through the UI's GraphQL API and
dequeued by the daemon, and the run history still there after the services
restart. The instance uses deploy/dagster-postgres.yaml as documented."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REPO
from test_serve import NIANBAO, Served, copy_demo, free_port, graphql

pytestmark = pytest.mark.e2e
INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } } }
}
"""
STATUS = "query S($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
RUNS = "query { runsOrError { ... on Runs { results { runId status } } } }"


def as_postgres(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """initdb refuses to run as root: run the server's tools as the postgres user."""
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def postgres():
    if not INITDB:
        pytest.skip("未安装 PostgreSQL（Debian 软件包 postgresql），跳过 PostgreSQL 测试")
    pytest.importorskip("dagster_postgres", reason="未安装 dagster-postgres（pip install -e '.[postgres]'）")
    bindir = Path(INITDB[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="nianbao-pg-"))  # outside pytest's 0700 tree: postgres must enter
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "nianbao", "--auth=trust", "-E", "UTF8"])
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root}"
    as_postgres(
        [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
    )
    try:
        as_postgres(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "nianbao", "dagster"]
        )
        yield {
            "NIANBAO_PG_USER": "nianbao",
            "NIANBAO_PG_PASSWORD": "unused-with-trust",
            "NIANBAO_PG_HOST": "127.0.0.1",
            "NIANBAO_PG_PORT": str(port),
            "NIANBAO_PG_DB": "dagster",
        }
    finally:
        subprocess.run(
            (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
            + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_build_and_ui_runs_on_postgres_survive_a_restart(postgres, tmp_path):
    home = copy_demo(tmp_path)
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    shutil.copy(REPO / "deploy" / "dagster-postgres.yaml", instance_dir / "dagster.yaml")
    env = {**os.environ, **postgres, "DAGSTER_HOME": str(instance_dir)}

    built = subprocess.run(
        [NIANBAO, "build", "--home", str(home), "--year", "2025"], env=env, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    assert not (home / "dagster").exists()  # DAGSTER_HOME wins; nothing in SQLite
    assert (home / "reports" / "2025" / "report.md").exists()

    served = Served(home, env)
    try:
        served.wait_ready()
        params = {
            "selector": {
                "repositoryLocationName": "nianbao",
                "repositoryName": "__repository__",
                "jobName": "yearly_report",
            },
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "2024"}]},
        }
        launched = graphql(served.ui_port, LAUNCH, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        deadline, status = time.monotonic() + 240, None
        while time.monotonic() < deadline:
            status = graphql(served.ui_port, STATUS, {"id": run_id})["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(1)
        assert status == "SUCCESS"  # queued, dequeued by the daemon, run by a launched process
    finally:
        assert served.stop() == 0

    again = Served(home, env)
    try:
        again.wait_ready()
        runs = {r["runId"]: r["status"] for r in graphql(again.ui_port, RUNS)["runsOrError"]["results"]}
        assert runs.get(run_id) == "SUCCESS"
        assert len(runs) >= 2  # the CLI's build is there too
    finally:
        assert again.stop() == 0
