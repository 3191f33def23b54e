"""`nianbao build --home REGION --year Y`: every member partition of the year, then the
region's year, through Dagster in this process, recorded in the region home's instance
(pipeline/ops/instance.py) so the UI shows the runs."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.defs.runs import QUIET_DAGSTER, step_failures


@dataclass(frozen=True)
class RegionBuild:
    success: bool
    members: dict[str, str]  # member code -> its state (编制完成, 已报送, 缺报, 读取失败)
    failures: list[str]


def build_region(
    region,
    year: int,
    formats: tuple[str, ...] | None = None,
    executor=None,
    member_formats: tuple[str, ...] | None = None,
) -> RegionBuild:
    """Build `year` of the region home: each member (a broken one stops no other), then the
    region. `formats`: the writers of the region's report and, unless `member_formats` says
    otherwise, of the members' own builds (default every one)."""
    from dagster import MultiPartitionKey

    from pipeline.defs.region import DISTRICT, YEAR, build_region_definitions
    from pipeline.ops.instance import open_instance
    from pipeline.region import region_members
    from pipeline.steps.region import read_member

    defs = build_region_definitions(str(region.root), executor=executor)
    # The members' jobs first, then the region's year: the year's assets read every member's files.
    members_job, year_job = defs.resolve_job_def("region_members"), defs.resolve_job_def("region_year")
    members = region_members(region)
    failures: list[str] = []
    tags = {"nianbao/started_by": "cli"}
    chosen = {"config": {"formats": list(formats)}} if formats else {}
    members_chosen = {"config": {"formats": list(member_formats)}} if member_formats else chosen
    members_config = {"ops": {"member_figures": members_chosen}} if members_chosen else {}
    outputs = {"ops": {"region_report": chosen}} if formats else {}
    with open_instance(region) as instance:
        for member in members:
            key = MultiPartitionKey({YEAR: str(year), DISTRICT: member.code})
            result = members_job.execute_in_process(
                partition_key=key,
                instance=instance,
                raise_on_error=False,
                run_config={**QUIET_DAGSTER, **members_config},
                tags=tags,
            )
            if not result.success:
                failures += step_failures(result.all_events)
        result = year_job.execute_in_process(
            partition_key=str(year), instance=instance, raise_on_error=False,
            run_config={**QUIET_DAGSTER, **outputs}, tags=tags,
        )  # fmt: skip
        if not result.success:
            failures += step_failures(result.all_events)
    states = {m.code: read_member(region, year, m)[1]["state"] for m in members}
    return RegionBuild(not failures, states, failures)
