"""The home's Dagster instance class: SQLite storage that keeps its connections open.

Dagster's SQLite event log opens a new engine and connection for every event it
stores (two or three for an asset event), and each new SQLite connection parses
the database schema again: about 6 ms per event, 0.6 s of an 80-unit build
(~110 events). `HomeInstance` is named in the home's dagster.yaml
(`instance_class`); its default storage is Dagster's own SQLite storage with one
change: each database file (the index and each run's shard) keeps one engine with
one pooled connection, used under the storage's own lock as before.

Its commits are not each followed by an fsync (`PRAGMA synchronous=NORMAL` on these
engines only): Dagster already uses WAL, and with WAL, NORMAL keeps the database
consistent and syncs at checkpoints, so a power cut can lose the last events of a
run, never the history before them; on a virtual disk (~4 ms per fsync) the syncs
were a third of an 80-unit build.

Only the defaults change: a dagster.yaml that configures `storage` (PostgreSQL,
see deploy/dagster-postgres.yaml) is used exactly as written. The class subclasses
Dagster's private SQLite storage, hence the exact Dagster pin; a home opts out by
deleting the `instance_class` section of its dagster.yaml (Dagster's own instance on
the same files; deploy/dagster-upgrade.md).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import yaml
from dagster import DagsterInstance
from dagster import __version__ as dagster_version
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.pool import NullPool, QueuePool

# Open databases kept per process: the index and the runs being written or watched.
# A webserver browsing old runs evicts the least recently used.
MAX_OPEN_SHARDS = 16


def _commits_without_fsync(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one engine (one connection) per shard, kept open."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, object] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str):
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=QueuePool,
                    # One connection kept; Dagster sometimes inspects the engine while it
                    # holds that one (schema checks), which takes a short-lived second.
                    pool_size=1,
                    max_overflow=4,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                event.listen(engine, "connect", _commits_without_fsync)
            self._engines[shard] = engine
            while len(self._engines) > MAX_OPEN_SHARDS:
                _, old = self._engines.popitem(last=False)
                old.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str):
        # As Dagster's own _connect, with the engine kept instead of made and disposed.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _initdb(self, engine, for_index_shard=False) -> None:
        """A new run's shard starts as a copy of an empty, stamped shard: making one
        (tables, indexes, Alembic's stamp, which reads every migration script) took
        60 ms of each run."""
        path = Path(engine.url.database)
        if for_index_shard or path.exists():
            super()._initdb(engine, for_index_shard)
            return
        template = self._shard_template()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        shutil.copyfile(template, tmp)
        os.replace(tmp, path)

    def _shard_template(self) -> Path:
        """The empty shard of this Dagster release (a hidden file beside the shards, which
        Dagster's globs for run ids and wipes do not match)."""
        template = Path(self._base_dir) / f".empty-run-shard-{dagster_version}.db"
        if not template.exists():
            tmp = template.with_name(f"{template.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            engine = create_engine(f"sqlite:///{tmp}", poolclass=NullPool)
            try:
                super()._initdb(engine)
                with engine.connect() as conn:  # everything into the main file, no -wal beside it
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            os.replace(tmp, template)
        return template

    def _close_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._close_engines()  # wipe deletes the shard files: no connection may outlive them
        super().wipe()

    def upgrade(self) -> None:
        self._close_engines()
        super().upgrade()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()


class HomeSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (same files, same layout) with the pooled event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # ty: ignore[invalid-method-override]
        return cls.from_local(inst_data=inst_data, **config_value)


class HomeInstance(DagsterInstance):
    """The home's instance: Dagster's defaults, storage through HomeSqliteStorage."""

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @staticmethod
    def config_defaults(base_dir: str):
        defaults = dict(InstanceRef.config_defaults(base_dir))
        defaults["storage"] = ConfigurableClassData(
            __name__, HomeSqliteStorage.__name__, yaml.dump({"base_dir": base_dir}, default_flow_style=False)
        )
        return defaults
