"""A region's instance on a real PostgreSQL server (tests/test_postgres.py starts it, with
deploy/dagster-postgres.yaml as documented): `nianbao build` of 示范市 records every member
partition's run and the region's year there, with Dagster's partition tags, and nothing
in SQLite."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import REPO
from test_postgres import postgres  # noqa: F401 - the module's PostgreSQL server fixture
from test_serve import NIANBAO

pytestmark = pytest.mark.e2e


def test_region_build_is_recorded_in_postgres(postgres, tmp_path, monkeypatch):  # noqa: F811
    from dagster import DagsterInstance

    from pipeline.demo import make_demo_city

    city = make_demo_city(tmp_path, 2025)
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    shutil.copy(REPO / "deploy" / "dagster-postgres.yaml", instance_dir / "dagster.yaml")
    env = {**os.environ, **postgres, "DAGSTER_HOME": str(instance_dir)}
    built = subprocess.run(
        [NIANBAO, "build", "--home", str(city.root), "--year", "2025", "--formats", "html,md"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert not (city.root / "dagster").exists()
    for name, value in {**postgres, "DAGSTER_HOME": str(instance_dir)}.items():
        monkeypatch.setenv(name, value)
    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
    assert sorted(r.job_name for r in runs) == ["region_members"] * 3 + ["region_year"]
    assert all(r.status.value == "SUCCESS" for r in runs)
    districts = sorted(
        r.tags.get("dagster/partition/district", "") for r in runs if r.job_name == "region_members"
    )
    assert districts == ["beiqu", "shifanqu", "xiqu"]
