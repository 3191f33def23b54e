"""A region's Dagster definitions (issue 18): members partitioned year × district, the
region's assets partitioned by year, depending on every member of their year through a
partition mapping, so the UI shows district → region and a district's rebuild is one
member partition plus the region's year.

The code location (pipeline/defs/definitions.py) uses these when NIANBAO_HOME is a region
home; `nianbao build --home REGION` runs the two jobs (pipeline/ops/region.py).
"""

import warnings

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    Config,
    Definitions,
    EnvVar,
    ExecutorDefinition,
    MaterializeResult,
    MetadataValue,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    StaticPartitionsDefinition,
    asset,
    define_asset_job,
    in_process_executor,
)

from pipeline.defs.assets.common import OWNER, messages_table, progress, year_of
from pipeline.defs.resources import NianbaoHome
from pipeline.defs.runs import QUIET_DAGSTER, step_failures

GROUP = "region"
YEAR, DISTRICT = "year", "district"
# Asset check name -> the region check (pipeline/steps/region.py CHECKS) and its severity.
CHECKS = {
    "region_equals_members": ("R1", AssetCheckSeverity.ERROR),
    "published_matches_compiled": ("R2", AssetCheckSeverity.ERROR),
    "members_present_and_on_time": ("R3", AssetCheckSeverity.WARN),
    "office_text_matches_tables": ("prose", AssetCheckSeverity.WARN),
}


class RegionOutputsConfig(Config):
    """The writers of the whole-area report and of the members' own builds
    (`nianbao build --formats`); None: every writer registered in pipeline/render/writers.py."""

    formats: list[str] | None = None


def member_build(formats: list[str] | None = None, run_id: str = ""):
    """The member district's own `yearly_report` job, run in this process on its home
    (the district pipeline as it is), writing `formats`. Its runs use a throwaway instance:
    the member's asset keys are the district's own and would mix across members in the region's."""

    def build(member_home, year: int) -> list[str]:
        from dagster import DagsterInstance

        from pipeline.defs.assets.reports import outputs_run_config
        from pipeline.defs.district import build_definitions

        job = build_definitions(str(member_home.root)).resolve_job_def("yearly_report")
        with DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(
                partition_key=str(year), instance=instance, raise_on_error=False,
                run_config={**QUIET_DAGSTER, **outputs_run_config(formats)}, tags={"nianbao/region_run": run_id},
            )  # fmt: skip
            if result.success:
                return []
            failures = step_failures(result.all_events)
            return failures or ["编制未完成"]

    return build


def extra_page_sections(region, year: int) -> list:
    """Sections other region outputs add to the region page (pipeline/render/region.py
    PageSection): the hook where the leaders' indicator cards and the 整改通知 list plug in."""
    from pipeline.render.region_cards import cards_section, notices_section

    return [cards_section(region, year), notices_section(region, year)]


def build_region_definitions(
    home_path: str | EnvVar, executor: ExecutorDefinition | None = None
) -> Definitions:
    """Definitions over the region home at `home_path`. The partitions are the home's
    buildable years × its members' codes, read now (a member added to home.toml needs
    a reload). `executor`: the jobs' executor, default in-process (dagster-celery plugs in here)."""
    from pipeline.home import Home
    from pipeline.region import region_members
    from pipeline.years import buildable_years

    path = home_path.get_value() if isinstance(home_path, EnvVar) else home_path
    region = Home.resolve(path)
    years = StaticPartitionsDefinition(buildable_years(region.root))
    members = MultiPartitionsDefinition(
        {YEAR: years, DISTRICT: StaticPartitionsDefinition([m.code for m in region_members(region)])}
    )
    with warnings.catch_warnings():  # "beta": the mapping is the one Dagster gives for this shape
        warnings.simplefilter("ignore")
        by_year = MultiToSingleDimensionPartitionMapping(partition_dimension_name=YEAR)

    @asset(
        partitions_def=members, group_name=GROUP, owners=[OWNER], kinds={"parquet"},
        description="一个下级地区一个年度已采用的全区数字：warehouse/<年度>/region/members/<代码>.parquet 与 .json"
        "（来源 home：运行该区自己的年度编制；package：读开放数据包；published：读已公开的年报）。",
    )  # fmt: skip
    def member_figures(
        context: AssetExecutionContext, home: NianbaoHome, config: RegionOutputsConfig
    ) -> MaterializeResult:
        from pipeline.steps.region import intake_member

        keys = context.partition_key.keys_by_dimension
        year, code = int(keys[YEAR]), keys[DISTRICT]
        region_home = home.home()
        member = {m.code: m for m in region_members(region_home)}[code]
        status = intake_member(region_home, member, year, member_build(config.formats, context.run.run_id))
        line = f"{member.name}（{code}）{year} 年度：{status['state']}"
        progress(context, line + (f"（{status['reason']}）" if status["reason"] else ""))
        return MaterializeResult(
            metadata={
                k: status[k] for k in ("state", "source", "errors", "warnings", "copy_paste", "figures")
            }
            | {"reason": status["reason"], "on_time": str(status["on_time"])}
        )

    @asset(
        partitions_def=years, group_name=GROUP, owners=[OWNER], kinds={"parquet"},
        deps=[AssetDep(member_figures, partition_mapping=by_year)],
        check_specs=[AssetCheckSpec(name, asset="region_figures") for name in CHECKS],
        description="全域合计（各下级地区之和）：warehouse/<年度>/region/figures.parquet，审查结果 checks.json。",
    )  # fmt: skip
    def region_figures(context: AssetExecutionContext, home: NianbaoHome):
        from pipeline.steps.region import ACCEPTED_STATES, compile_region

        region_home, year = home.home(), year_of(context)
        data, found = compile_region(region_home, year)
        accepted = sum(s["state"] in ACCEPTED_STATES for s in data.statuses.values())
        progress(
            context, f"全域合计：{accepted}/{len(data.members)} 个下级地区计入，{len(data.totals)} 个数字"
        )
        yield MaterializeResult(metadata={"members": len(data.members), "accepted": accepted,
                                          "figures": len(data.totals)})  # fmt: skip
        for name, (check, severity) in CHECKS.items():
            messages = found[check]
            for m in messages:
                progress(context, m.render())
            yield AssetCheckResult(
                asset_key="region_figures", check_name=name, passed=not messages, severity=severity,
                metadata={"failures": len(messages), "failure_table": messages_table(messages)},
            )  # fmt: skip

    @asset(
        partitions_def=years, group_name=GROUP, owners=[OWNER], kinds={"html", "docx", "pdf"}, deps=[region_figures],
        description="全域年度报告：reports/<年度>/region/report.html、.md、.docx、.pdf（下级地区作为单位）。",
    )  # fmt: skip
    def region_report(context: AssetExecutionContext, home: NianbaoHome, config: RegionOutputsConfig):
        from pipeline.render.region import write_region_report
        from pipeline.steps.region import region_year

        region_home, year = home.home(), year_of(context)
        paths = write_region_report(region_home, region_year(region_home, year), year, config.formats)
        progress(context, f"已生成全域报告：{'、'.join(str(p) for p in paths)}")
        return MaterializeResult(metadata={"files": MetadataValue.json([str(p) for p in paths])})

    @asset(
        partitions_def=years, group_name=GROUP, owners=[OWNER], kinds={"csv"}, deps=[region_figures],
        description="开放数据：reports/<年度>/open-data/figures.csv，每个下级地区一组，全域合计的单位代码为 region。",
    )  # fmt: skip
    def region_open_data(context: AssetExecutionContext, home: NianbaoHome):
        from pipeline.render.region import write_region_open_data
        from pipeline.steps.region import region_year

        region_home, year = home.home(), year_of(context)
        paths = write_region_open_data(region_home, region_year(region_home, year), year)
        return MaterializeResult(metadata={"files": MetadataValue.json([str(p) for p in paths])})

    @asset(
        partitions_def=years, group_name=GROUP, owners=[OWNER], kinds={"docx"}, deps=[region_figures],
        description="整改通知：reports/<年度>/region/notices/<地区代码>.docx，每个下级地区一份"
        "（问题 → 整改要求 → 整改期限，期限为编制之日起 [region] rectify_days 天）。",
    )  # fmt: skip
    def region_notices(context: AssetExecutionContext, home: NianbaoHome):
        from datetime import datetime

        from pipeline.render.region_cards import write_region_notices
        from pipeline.render.times import BEIJING

        region_home, year = home.home(), year_of(context)
        paths = write_region_notices(region_home, year, datetime.now(BEIJING).date())
        progress(context, f"已生成整改通知 {len(paths)} 份")
        return MaterializeResult(metadata={"files": MetadataValue.json([str(p) for p in paths])})

    @asset(
        partitions_def=years, group_name=GROUP, owners=[OWNER], kinds={"html"},
        deps=[region_figures, region_report, region_open_data, region_notices],
        description="下级地区报送与审查页：reports/<年度>/region/index.html（地区 × 年度）。",
    )  # fmt: skip
    def region_page(context: AssetExecutionContext, home: NianbaoHome):
        from pipeline.render.region import write_region_page

        region_home, year = home.home(), year_of(context)
        page = write_region_page(region_home, year, extra_page_sections(region_home, year))
        progress(context, f"已生成下级地区报送与审查页：{page}")
        return MaterializeResult(metadata={"html": MetadataValue.path(str(page))})

    region_members_job = define_asset_job(
        "region_members", selection=[member_figures],
        description="读取一个下级地区一个年度的数字（年度 × 地区分区）。",
    )  # fmt: skip
    region_year_job = define_asset_job(
        "region_year", selection=[region_figures, region_report, region_open_data, region_notices, region_page],
        description="汇总一个年度的全域数字、审查并生成全域报告和报送情况页。",
    )  # fmt: skip
    return Definitions(
        assets=[member_figures, region_figures, region_report, region_open_data, region_notices, region_page],
        jobs=[region_members_job, region_year_job],
        resources={"home": NianbaoHome(path=home_path)},
        executor=executor or in_process_executor,
    )
