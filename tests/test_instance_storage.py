"""The home's instance class (pipeline/ops/storage.py): Dagster's SQLite storage and
layout, with one open connection per database instead of one per event."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from dagster import AssetKey, DagsterInstance
from dagster import __version__ as dagster_version

from pipeline.cli import build_year
from pipeline.ops.instance import ensure_instance, open_instance
from pipeline.ops.storage import MAX_OPEN_SHARDS, HomeInstance, PooledSqliteEventLogStorage


def test_the_home_instance_pools_connections_and_keeps_dagsters_layout(home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert build_year(home, 2025, quiet=True, formats=("html", "md"))
    with open_instance(home) as instance:
        assert isinstance(instance, HomeInstance)
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        [record] = instance.get_run_records()
        assert instance.get_latest_materialization_event(AssetKey("district_report")) is not None
        run_id = record.dagster_run.run_id
    # Dagster's own files, readable without nianbao: a run shard and the index.
    runs = home.root / "dagster" / "history" / "runs"
    with sqlite3.connect(runs / f"{run_id}.db") as db:
        assert db.execute("select count(*) from event_logs").fetchone()[0] > 50
    assert (runs / "index.db").exists()
    # Each new shard is a copy of the release's empty shard, which is no run of its own.
    assert [t.name for t in runs.glob(".empty-run-shard-*.db")] == [f".empty-run-shard-{dagster_version}.db"]
    with open_instance(home) as instance:
        assert instance.event_log_storage.get_all_run_ids() == [run_id]
    # A plain Dagster instance on the same files (no instance_class) sees the same history.
    plain = home.root / "plain"
    plain.mkdir()
    (plain / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {home.root / 'dagster'}\n", encoding="utf-8"
    )
    with DagsterInstance.from_config(str(plain)) as instance:
        assert [r.dagster_run.run_id for r in instance.get_run_records()] == [run_id]


def test_runs_after_a_wipe_and_many_shards_still_store_events(home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with open_instance(home) as instance:
        storage = instance.event_log_storage
        for i in range(MAX_OPEN_SHARDS + 3):  # more runs than kept open: the oldest are closed
            with storage.run_connection(f"run-{i}") as conn:
                conn.exec_driver_sql("select 1")
        assert len(storage._engines) <= MAX_OPEN_SHARDS
        storage.wipe()  # deletes the shard files: no pooled connection may outlive them
        assert set(storage._engines) <= {"index"}  # the index is emptied, not deleted
    assert build_year(home, 2025, quiet=True, formats=("html", "md"))
    with open_instance(home) as instance:
        assert len(instance.get_run_records()) == 1


def test_the_fsync_pragma_is_set_on_the_instances_engines_only(home, tmp_path, monkeypatch):
    from sqlalchemy import create_engine

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with open_instance(home) as instance:
        with instance.event_log_storage.run_connection("some-run") as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
        with other.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # SQLite's FULL, untouched
        other.dispose()


def test_a_home_opts_out_of_the_instance_class_in_its_dagster_yaml(home, monkeypatch):
    """Without the `instance_class` section (deploy/dagster-upgrade.md), builds run on
    Dagster's own instance and storage, and nianbao's storage module is never imported."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    config = ensure_instance(home) / "dagster.yaml"
    text = config.read_text(encoding="utf-8")
    section = "instance_class:\n  module: pipeline.ops.storage\n  class: HomeInstance\n"
    assert section in text
    config.write_text(text.replace(section, ""), encoding="utf-8")
    probe = (
        "import sys\n"
        "from pipeline.cli import build_year\n"
        "from pipeline.home import Home\n"
        "from pipeline.ops.instance import open_instance\n"
        f"home = Home.resolve({str(home.root)!r})\n"
        "assert build_year(home, 2025, quiet=True, formats=('md',))\n"
        "with open_instance(home) as instance:\n"
        "    print(type(instance).__name__, type(instance.event_log_storage).__name__,"
        " len(instance.get_run_records()), 'pipeline.ops.storage' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["DagsterInstance", "SqliteEventLogStorage", "1", "False"], result.stderr[
        -2000:
    ]
