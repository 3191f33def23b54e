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

from pipeline.defs.definitions import BROKER_ENV
from pipeline.defs.runs import QUIET_DAGSTER, step_failures
from pipeline.ops.build import BuildResult

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


def reconstructable_job(home, job_name: str):
    """The job, named so that each worker can rebuild it (pipeline.defs.definitions.celery_job)."""
    from dagster import build_reconstructable_job

    return build_reconstructable_job(
        "pipeline.defs.definitions", "celery_job", reconstructable_args=(str(home.root), job_name)
    )


def run_through_celery(
    home, job_name: str, partition_key, instance, broker: str, *, run_config: dict | None = None, tags=None
) -> BuildResult:
    """Run the home's `job_name` for `partition_key` (a year, or a MultiPartitionKey of a
    region's year x district) through the celery workers listening on `broker`, recorded
    in `instance` (a persistent instance the workers open too)."""
    from dagster import execute_job

    partition = {"dagster/partition": str(partition_key)}
    for dimension, key in getattr(partition_key, "keys_by_dimension", {}).items():
        partition[f"dagster/partition/{dimension}"] = key  # as Dagster tags a run it launches
    with execute_job(
        reconstructable_job(home, job_name),
        instance=instance,
        run_config={**QUIET_DAGSTER, **(run_config or {}), **executor_config(broker)},
        tags={**partition, **(tags or {})},
        raise_on_error=False,
    ) as result:
        failures = [] if result.success else step_failures(result.all_events)
        return BuildResult(result.success, result.run_id, failures)


def build_region_through_celery(
    region, year: int, instance, broker: str, formats: tuple[str, ...] | None = None
):
    """A region home's `year` as `nianbao build` does it (pipeline/ops/region.py): each
    member's partition, then the region's year, every step run by a celery worker."""
    from pipeline.ops.region import members_then_region

    def run(job_name: str, partition_key, run_config: dict) -> list[str]:
        return run_through_celery(
            region, job_name, partition_key, instance, broker, run_config=run_config
        ).failures

    return members_then_region(region, year, run, formats)


def celery_problem(broker: str | None) -> str | None:
    """Why a build cannot go through celery here, in one line; None when it can."""
    if not broker:
        return f"使用 celery 执行器需要 --broker（如 redis://127.0.0.1:6379/0）或环境变量 {BROKER_ENV}"
    if not broker.startswith(("redis://", "rediss://")):
        return f"--broker 应为 Redis 地址（redis://主机:端口/库号），收到：{broker}"
    try:
        import dagster_celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        return "未安装 celery 执行器：pip install 'nianbao[celery]'（见 deploy/README.md）"
    return None
