"""The one Definitions object of the `nianbao` code location.

Imports are light on purpose: asset bodies import pandas, pandera and the
readers when they run, so the code location reloads quickly. The data home is
a resource value: the web UI's code location reads it from NIANBAO_HOME (set by
`make ui` / `nianbao serve`), the CLI passes its --home directly.
"""

from dagster import Definitions, EnvVar, in_process_executor

from pipeline.defs.district import build_definitions

__all__ = ["BROKER_ENV", "audit_job", "build_definitions", "celery_job", "defs", "location_definitions"]


def location_definitions() -> Definitions:
    """The code location's definitions: a region's (pipeline/defs/region.py) when
    NIANBAO_HOME is a region home (its home.toml lists [[members]]), else a district's."""
    import os

    from pipeline.home import Home, HomeError
    from pipeline.region import is_region

    try:
        region = os.environ.get("NIANBAO_HOME") and is_region(Home.resolve())
    except HomeError:
        region = False  # the district definitions say what is wrong with the home when they run
    if region:
        from pipeline.defs.region import build_region_definitions

        return build_region_definitions(EnvVar("NIANBAO_HOME"), executor=location_executor())
    return build_definitions(EnvVar("NIANBAO_HOME"), executor=location_executor() or in_process_executor)


# The Redis broker of the celery workers; set for the code location (the UI, the daemon
# and the runs they launch, and the workers themselves), every run's steps go to celery.
BROKER_ENV = "NIANBAO_CELERY_BROKER"


def location_executor():
    """dagster-celery's executor on the broker in NIANBAO_CELERY_BROKER when that is set
    (deploy/README.md), else None (in process)."""
    import os

    if not os.environ.get(BROKER_ENV):
        return None
    try:
        from dagster_celery import celery_executor
    except ImportError:
        from pipeline.home import HomeError

        # The UI shows this as the code location's load error: one line saying what to do.
        raise HomeError(
            f"设置了环境变量 {BROKER_ENV}（由 celery worker 执行编制），但没有安装 dagster-celery："
            "请运行 pip install 'nianbao[celery]'，或去掉该环境变量改为在本进程内执行。"
        ) from None

    return celery_executor.configured({"broker": {"env": BROKER_ENV}, "backend": {"env": BROKER_ENV}})


defs = location_definitions()


def audit_job():
    """The audit job of the home in NIANBAO_HOME: `nianbao audit` runs it with
    dagster.reconstructable(audit_job), so that the multiprocess executor's step
    processes can rebuild it by name."""
    return defs.resolve_job_def("audit_reports")


def celery_job(home_path: str, job_name: str):
    """`job_name` of the home at `home_path` (a region's or a district's) on dagster-celery's
    executor. Every process running a step (a celery worker, on any machine that sees the
    home at the same path) rebuilds the job by calling this function by name with the same
    arguments (dagster.build_reconstructable_job in pipeline/ops/celery.py)."""
    from dagster_celery import celery_executor

    from pipeline.home import Home
    from pipeline.region import is_region

    if is_region(Home.resolve(home_path)):
        from pipeline.defs.region import build_region_definitions

        return build_region_definitions(home_path, executor=celery_executor).resolve_job_def(job_name)
    return build_definitions(home_path, executor=celery_executor).resolve_job_def(job_name)
