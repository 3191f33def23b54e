"""The run queue of the shipped instance configurations (pipeline/ops/dagster.yaml, the
PostgreSQL one in deploy/): one run per year, one run per district of a region at a
time, a global maximum, and the Dagster daemon's own dequeue choosing by them."""

from __future__ import annotations

import shutil
import uuid

import pytest
from conftest import REPO
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus
from dagster._core.remote_origin import (
    RegisteredCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

from pipeline.ops.instance import TEMPLATE

PER_DISTRICT = {"key": "dagster/partition/district", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
PER_YEAR = {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


def _queue_config(config_file, tmp_path, monkeypatch):
    shutil.copy(config_file, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for name in (
        "NIANBAO_PG_USER",
        "NIANBAO_PG_PASSWORD",
        "NIANBAO_PG_HOST",
        "NIANBAO_PG_PORT",
        "NIANBAO_PG_DB",
    ):
        monkeypatch.setenv(name, "unused")  # the PostgreSQL file names them; nothing connects here
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(tmp_path))
    return config["run_coordinator"]["config"]


@pytest.mark.parametrize("config_file", [TEMPLATE, REPO / "deploy" / "dagster-postgres.yaml"])
def test_shipped_queue_limits_one_run_per_district_and_a_global_maximum(config_file, tmp_path, monkeypatch):
    config = _queue_config(config_file, tmp_path, monkeypatch)
    assert PER_DISTRICT in config["tag_concurrency_limits"]
    assert PER_YEAR in config["tag_concurrency_limits"]
    assert config["max_concurrent_runs"] == 4


def _run(instance, status: DagsterRunStatus, year: str, district: str) -> DagsterRun:
    tags = {
        "dagster/partition": f"{district}|{year}",  # Dagster's multi-partition key (dimensions sorted)
        "dagster/partition/year": year,
        "dagster/partition/district": district,
    }
    origin = RemoteJobOrigin(
        repository_origin=RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("nianbao"), "__repository__"),
        job_name="member_build",
    )
    run = DagsterRun(
        job_name="member_build", run_id=str(uuid.uuid4()), status=status, tags=tags, remote_job_origin=origin
    )
    instance.add_run(run)
    return run


def test_daemon_dequeues_at_most_one_run_per_district_up_to_the_maximum(tmp_path, monkeypatch):
    """A backfill of 6 districts x 2 years queued while district d0 is building: the
    daemon's dequeue (Dagster's own code, on the shipped limits) takes one run of each
    other district, none of d0, and no more than the global maximum less the run going."""
    shutil.copy(TEMPLATE, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        _run(instance, DagsterRunStatus.STARTED, "2024", "d0")
        for year in ("2024", "2025"):
            for district in ("d0", "d1", "d2", "d3", "d4", "d5"):
                _run(instance, DagsterRunStatus.QUEUED, year, district)
        daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
        chosen = daemon._get_runs_to_dequeue(instance, instance.get_concurrency_config(), None)
    districts = [run.tags["dagster/partition/district"] for run in chosen]
    assert len(chosen) == 3  # max_concurrent_runs 4, one in progress
    assert "d0" not in districts
    assert len(set(districts)) == len(districts)
