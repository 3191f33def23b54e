"""`nianbao build --home REGION --year Y`: every member partition of the year, then the
region's year, through Dagster in this process, recorded in the region home's instance
(pipeline/ops/instance.py) so the UI shows the runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.defs.runs import QUIET_DAGSTER, step_failures


@dataclass(frozen=True)
class RegionBuild:
    success: bool
    members: dict[str, str]  # member code -> its state (编制完成, 已报送, 缺报, 读取失败)
    failures: list[str]


# Runs one job of the region's definitions for a partition with a run config; returns
# the failure lines (none: the run succeeded). In process, or through celery.
RunJob = Callable[[str, object, dict], list[str]]


def build_region(
    region,
    year: int,
    formats: tuple[str, ...] | None = None,
    executor=None,
    member_formats: tuple[str, ...] | None = None,
) -> RegionBuild:
    """Build `year` of the region home in this process, recorded in its instance: each
    member (a broken one stops no other), then the region. `formats`: the writers of the
    region's report and, unless `member_formats` says otherwise, of the members' own
    builds (default every one)."""
    from pipeline.defs.region import build_region_definitions
    from pipeline.ops.instance import open_instance

    defs = build_region_definitions(str(region.root), executor=executor)
    with open_instance(region) as instance:

        def run(job_name: str, partition_key, run_config: dict) -> list[str]:
            result = defs.resolve_job_def(job_name).execute_in_process(
                partition_key=partition_key, instance=instance, raise_on_error=False,
                run_config={**QUIET_DAGSTER, **run_config}, tags={"nianbao/started_by": "cli"},
            )  # fmt: skip
            return [] if result.success else step_failures(result.all_events)

        return members_then_region(region, year, run, formats, member_formats)


def members_then_region(region, year: int, run: RunJob, formats=None, member_formats=None) -> RegionBuild:
    """Every member's partition of `year`, then the region's year (its assets read every
    member's files), each through `run`; the members' states as their intakes wrote them."""
    from dagster import MultiPartitionKey

    from pipeline.defs.region import DISTRICT, YEAR
    from pipeline.region import region_members
    from pipeline.steps.region import read_status

    chosen = {"config": {"formats": list(formats)}} if formats else {}
    members_chosen = {"config": {"formats": list(member_formats)}} if member_formats else chosen
    members_config = {"ops": {"member_figures": members_chosen}} if members_chosen else {}
    year_config = {"ops": {"region_report": chosen}} if formats else {}
    members = region_members(region)
    failures: list[str] = []
    for member in members:
        failures += run(
            "region_members", MultiPartitionKey({YEAR: str(year), DISTRICT: member.code}), members_config
        )
    failures += run("region_year", str(year), year_config)
    states = {m.code: read_status(region, year, m)["state"] for m in members}
    return RegionBuild(not failures, states, failures)
