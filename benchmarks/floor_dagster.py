"""Dagster's own floor: import dagster, create an ephemeral instance and run six
empty assets in process, the same shape as `yearly_report` (six steps)."""

import dagster as dg


def empty(name: str, upstream=None):
    @dg.asset(name=name, deps=[upstream] if upstream else [])
    def _asset() -> dg.MaterializeResult:
        return dg.MaterializeResult()

    return _asset


assets = []
for step in ("registry", "submissions", "validated", "status", "sections", "reports"):
    assets.append(empty(step, assets[-1] if assets else None))
job = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("steps")]).resolve_job_def("steps")
with dg.DagsterInstance.ephemeral() as instance:
    job.execute_in_process(
        instance=instance, run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    )
