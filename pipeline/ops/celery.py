"""A year's build through Dagster's celery executor (dagster-celery) with a Redis broker.

The launching process runs Dagster's execution loop: it puts each step on the broker's
queue and records the run in the home's instance; `dagster-celery worker` processes, on
this machine or others, take the steps and run them against the same instance and the
same data home (deploy/README.md: the home at the same path on every machine, the
instance on PostgreSQL). Queueing, retries and placement are celery's and Dagster's.
Needs `pip install 'nianbao[celery]'`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.ops.build import QUIET_DAGSTER, BuildResult, step_failures

# The broker's URL when no --broker is given (also read by deploy/celery.yaml for the workers).
BROKER_ENV = "NIANBAO_CELERY_BROKER"
# The celery app the workers load: dagster-celery's own, configured from the worker YAML.
WORKER_APP = "dagster_celery.app"


def executor_config(broker: str) -> dict:
    """The run's executor config: steps and their results both through `broker` (Redis)."""
    return {"execution": {"config": {"broker": broker, "backend": broker}}}


def worker_yaml(broker: str) -> str:
    """The worker's configuration file (`dagster-celery worker start -y`): the same block
    as the run's executor config, so workers and runs meet on one broker."""
    return f"execution:\n  config:\n    broker: '{broker}'\n    backend: '{broker}'\n"


def worker_command(config_yaml: Path, name: str, concurrency: int = 1) -> list[str]:
    """One dagster-celery worker taking `concurrency` steps at a time (run it with
    DAGSTER_HOME set to the instance's directory, and the project importable)."""
    return [
        "dagster-celery", "worker", "start", "-A", WORKER_APP, "-y", str(config_yaml),
        "-n", name, "--loglevel", "WARNING", "--", f"--concurrency={concurrency}",
    ]  # fmt: skip


def reconstructable_job(home, job_name: str = "yearly_report"):
    """The job, named so that each worker can rebuild it (pipeline.defs.definitions.celery_job)."""
    from dagster import build_reconstructable_job

    return build_reconstructable_job(
        "pipeline.defs.definitions", "celery_job", reconstructable_args=(str(home.root), job_name)
    )


def run_through_celery(
    home, partition_key: str, instance, broker: str, *, run_config: dict | None = None, tags=None
) -> BuildResult:
    """Run the home's job for `partition_key` through the celery workers listening on
    `broker`, recorded in `instance` (a persistent instance the workers can open too)."""
    from dagster import execute_job

    with execute_job(
        reconstructable_job(home),
        instance=instance,
        run_config={**QUIET_DAGSTER, **(run_config or {}), **executor_config(broker)},
        tags={"dagster/partition": partition_key, **(tags or {})},
        raise_on_error=False,
    ) as result:
        failures = [] if result.success else step_failures(result.all_events)
        return BuildResult(result.success, result.run_id, failures)
