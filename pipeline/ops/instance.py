"""The Dagster instance of a data home: <home>/dagster/, or DAGSTER_HOME.

Every door (CLI build, `nianbao serve`'s webserver, daemon and worker, the
portal) opens the same instance, so the UI shows every run whoever started it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

INSTANCE_DIR = "dagster"
TEMPLATE = Path(__file__).with_name("dagster.yaml")
WORKSPACE = """\
# Written by nianbao: the code location served for this data home.
load_from:
  - python_module:
      module_name: pipeline.defs.definitions
      location_name: nianbao
"""


def instance_dir(home) -> Path:
    """Where the home's instance lives: DAGSTER_HOME when set, else <home>/dagster."""
    override = os.environ.get("DAGSTER_HOME")
    return Path(override).expanduser().resolve() if override else home.root / INSTANCE_DIR


def ensure_instance(home) -> Path:
    """The instance directory, with dagster.yaml and workspace.yaml in place
    (copied from the project's files when missing; never overwritten)."""
    folder = instance_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(TEMPLATE, config)
    workspace = folder / "workspace.yaml"
    if not workspace.exists():
        workspace.write_text(WORKSPACE, encoding="utf-8")
    return folder


# Runs executed in this process (`nianbao build`, the resident worker of `nianbao serve`)
# do not capture stdout/stderr into compute-log files: capturing redirects the whole
# process's file descriptors 1 and 2 for the run (the portal's own log lines too) and
# starts `tail -F` children, under which each file the build created took 0.9 ms
# instead of 0.06 ms. Their progress is in the run's event log and on the terminal.
# Runs the daemon or the UI launch in their own processes capture as dagster.yaml says.
IN_PROCESS_OVERRIDES = {
    "compute_logs": {
        "module": "dagster._core.storage.noop_compute_log_manager",
        "class": "NoOpComputeLogManager",
    }
}


def open_instance(home):
    """The home's DagsterInstance for this process (a context manager: close it when done).

    Opening creates or migrates the storage's schema; two openers doing that at
    once on a fresh SQLite instance race in Alembic ("more than one head"), so
    opening is serialised by a lock file in the instance directory."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    folder = ensure_instance(home)
    fd = os.open(folder / ".open.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return DagsterInstance.from_ref(InstanceRef.from_dir(str(folder), overrides=IN_PROCESS_OVERRIDES))
    finally:
        os.close(fd)


def service_env(home, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the webserver and daemon of `home`."""
    env = dict(os.environ if base is None else base)
    env["DAGSTER_HOME"] = str(ensure_instance(home))
    env["NIANBAO_HOME"] = str(home.root)
    # Quiet, private services: no telemetry, no "superseded command" notices.
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env
