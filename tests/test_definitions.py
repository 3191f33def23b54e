"""The code location loads, and its definitions follow the house rules."""

from __future__ import annotations

import subprocess
import sys

from dagster import DefaultScheduleStatus, DefaultSensorStatus, Definitions

from pipeline.defs.definitions import defs

EXPECTED_ASSETS = {
    "unit_registry", "submissions", "validated_submissions", "submission_status", "proactive", "applications",
    "review_litigation", "indicators", "narrative", "district_report", "unit_reports", "validation_report",
    "year_over_year", "revisions_log", "open_data", "review_page",  # issue 9 (pipeline/defs/assets/insight.py)
    "publication_bundle",
    "audit_reads_0", "audit_reads_1", "published_audit",  # issue 17 (pipeline/defs/assets/audit.py)
}  # fmt: skip


def test_definitions_load():
    Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("yearly_report")
    assert job.partitions_def is not None
    keys = job.partitions_def.get_partition_keys()
    assert keys[0] == "2008" and "2025" in keys


def test_every_asset_has_group_description_owner_and_kinds():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name != "default", key
        assert node.description, key
        assert node.owners, key
        assert node.kinds, key


def test_the_yearly_job_leaves_the_audit_out_and_the_audit_job_reads_on_every_core():
    from dagster._core.definitions.executor_definition import multiprocess_executor

    yearly = {
        k.to_user_string() for k in defs.resolve_job_def("yearly_report").asset_layer.executable_asset_keys
    }
    audit = {
        k.to_user_string() for k in defs.resolve_job_def("audit_reports").asset_layer.executable_asset_keys
    }
    assert audit == {"audit_reads_0", "audit_reads_1", "published_audit"} and not yearly & audit
    assert defs.resolve_job_def("audit_reports").executor_def is multiprocess_executor


def test_checks_are_declared():
    graph = defs.resolve_asset_graph()
    names = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("validated_submissions", "unit_errors") in names
    assert ("applications", "sums_follow_rules") in names


def test_schedule_is_off_by_default_and_targets_last_year():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from dagster import build_schedule_context

    schedule = defs.resolve_schedule_def("yearly_report_schedule")
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == "0 9 1 2 *"
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 2, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai")),
        repository_def=defs.get_repository_def(),
    )
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2025"


def test_sensor_is_declared():
    sensor = defs.resolve_sensor_def("inbox_sensor")
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert sensor.job_name == "yearly_report"


def test_import_is_light():
    """The code location is re-imported often: no pandas, pandera or openpyxl at import."""
    code = "import sys, pipeline.defs.definitions; print(sorted(m for m in ('pandas', 'pandera', 'openpyxl', 'pyarrow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_instance_settings_allow_one_run_per_year(tmp_path, monkeypatch):
    """`make ui` uses dagster.yaml: runs of the same year never overlap."""
    import shutil

    from conftest import REPO
    from dagster import DagsterInstance

    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        config = instance.run_coordinator.get_run_queue_config()
    assert config.tag_concurrency_limits == [
        {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
        {"key": "dagster/partition/district", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
    ]
