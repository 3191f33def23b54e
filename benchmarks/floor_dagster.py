"""Dagster's own floor: the cost of a run of the yearly job's shape that does no work.

    python benchmarks/floor_dagster.py            # ephemeral instance, six empty assets
    python benchmarks/floor_dagster.py --home DIR # the yearly job's shape on a home instance

Without --home: import dagster, create an ephemeral instance and run six empty
assets in process. With --home: import what a build imports (dagster, pandas,
pandera, pyarrow, jinja2), open the instance of the data home DIR (pipeline/ops/
instance.py; created by an earlier run) and run empty steps of the yearly job's
shape: 8 steps materializing 17 assets with 8 asset checks and 10 log lines, each
recorded in the instance as a real build's are, with the collector handled as
`nianbao build` handles it. What a cold build costs beyond this is nianbao's own work.
"""

import sys

import dagster as dg

# (assets, checks, log lines) per step, as the yearly job (pipeline/defs/assets/).
SHAPE = [(1, 0, 1), (1, 1, 3), (1, 1, 1), (1, 0, 1), (7, 4, 0), (4, 2, 1), (3, 0, 2), (1, 0, 1)]


def empty_step(index: int, assets: int, checks: int, logs: int, upstream: list[str]):
    names = [f"step{index}_asset{i}" for i in range(assets)]
    specs = [dg.AssetSpec(name, deps=upstream) for name in names]
    check_specs = [dg.AssetCheckSpec(f"check{i}", asset=names[0]) for i in range(checks)]

    @dg.multi_asset(name=f"step{index}", specs=specs, check_specs=check_specs)
    def _step(context: dg.AssetExecutionContext):
        for i in range(logs):
            context.log.info(f"进度 {i}")
        for name in names:
            yield dg.MaterializeResult(asset_key=name, metadata={"rows": 1})
        for i in range(checks):
            yield dg.AssetCheckResult(asset_key=names[0], check_name=f"check{i}", passed=True)

    return _step, names


def yearly_shape():
    steps, upstream = [], []
    for index, (assets, checks, logs) in enumerate(SHAPE):
        step, upstream = empty_step(index, assets, checks, logs, upstream)
        steps.append(step)
    return steps


def simple_chain():
    def empty(name: str, upstream=None):
        @dg.asset(name=name, deps=[upstream] if upstream else [])
        def _asset() -> dg.MaterializeResult:
            return dg.MaterializeResult()

        return _asset

    assets = []
    for step in ("registry", "submissions", "validated", "status", "sections", "reports"):
        assets.append(empty(step, assets[-1] if assets else None))
    return assets


QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

if "--home" in sys.argv:
    import gc

    gc.disable()  # the collector as `nianbao build` handles it (pipeline/cli.py `run`)
    import jinja2  # noqa: F401
    import pandas  # noqa: F401
    import pandera.pandas  # noqa: F401
    import pyarrow  # noqa: F401

    from pipeline.home import Home
    from pipeline.ops.instance import open_instance

    home = Home.resolve(sys.argv[sys.argv.index("--home") + 1])
    job = dg.Definitions(assets=yearly_shape(), jobs=[dg.define_asset_job("steps")]).resolve_job_def("steps")
    with open_instance(home) as instance:
        gc.freeze()
        gc.enable()
        job.execute_in_process(instance=instance, run_config=QUIET)
    gc.freeze()
else:
    job = dg.Definitions(assets=simple_chain(), jobs=[dg.define_asset_job("steps")]).resolve_job_def("steps")
    with dg.DagsterInstance.ephemeral() as instance:
        job.execute_in_process(instance=instance, run_config=QUIET)
