"""The audit of published reports (`nianbao audit`, pipeline/steps/audit.py) as assets.

The files of audit/<year>/ are read by SHARDS steps, each every SHARDS-th file, so
that the job's multiprocess executor (jobs.py) reads them on every core; each step
leaves its reads in the year's warehouse, and `published_audit` checks the bodies
together and writes reports/<year>/audit/. The home is the plain resource
(`audit_home`): an audit is not a build and does not wait for the year's build lock.
"""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from pipeline.defs.assets.common import OWNER, messages_table, progress, year_of
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome

SHARDS = 2  # steps reading files at once: the machine's two cores
GROUP = "audit"


def shard_path(data_home, year: int, shard: int):
    return data_home.warehouse_dir(year) / f"audit_shard_{shard}.pickle"


def bodies_path(data_home, year: int):
    return data_home.warehouse_dir(year) / "audit_bodies.csv"


def _reads_asset(shard: int):
    @asset(
        name=f"audit_reads_{shard}",
        partitions_def=yearly_partitions,
        group_name=GROUP,
        owners=[OWNER],
        kinds={"python", "pdf", "docx"},
        description=f"审查已公开的年报（第 {shard + 1}/{SHARDS} 组）：读取 audit/<年度>/ 中每隔 {SHARDS} 份的一份"
        "（网页、Word、PDF），按内容哈希沿用已读结果。",
    )
    def reads(context: AssetExecutionContext, audit_home: NianbaoHome) -> MaterializeResult:
        from pipeline.steps.audit import read_shard, save_cache

        data_home, year = audit_home.home(), year_of(context)
        done = read_shard(data_home, year, shard, SHARDS, lambda line: progress(context, line))
        save_cache(shard_path(data_home, year, shard), list(done.items()))
        return MaterializeResult(metadata={"files": len(done)})

    return reads


audit_reads = [_reads_asset(shard) for shard in range(SHARDS)]


@asset(
    partitions_def=yearly_partitions,
    deps=audit_reads,
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python", "html", "csv"},
    description="已公开年报审查结果：每份报告按报送的全部规则、六个部分、统计表、与其他单位文字雷同等检查，"
    "写出 reports/<年度>/audit/index.html（每个单位一行）和 audit.csv（每条问题一行）。",
)
def published_audit(context: AssetExecutionContext, audit_home: NianbaoHome) -> MaterializeResult:
    from pipeline.home import write_atomic
    from pipeline.render.audit import write_audit
    from pipeline.steps.audit import audit_year, cached_reads, read_year
    from pipeline.tabular import frame_csv

    data_home, year = audit_home.home(), year_of(context)
    done = {}
    for shard in range(SHARDS):
        done.update(cached_reads(shard_path(data_home, year, shard)))
    reads = read_year(data_home, year, done)
    previous = read_year(data_home, year - 1) if data_home.audit_dir(year - 1).is_dir() else []
    audit = audit_year(data_home, year, reads, previous)
    paths = write_audit(data_home.reports_dir(year) / "audit", audit)
    write_atomic(bodies_path(data_home, year), frame_csv(audit.bodies))  # for the CLI's summary
    errors = [m for m in audit.findings if m.severity == "ERROR"]
    progress(
        context,
        f"审查了 {len(reads)} 份报告：错误 {len(errors)} 条，提醒 {len(audit.findings) - len(errors)} 条；"
        f"见 {paths['html']}",
    )
    return MaterializeResult(
        metadata={
            "reports": len(reads),
            "errors": len(errors),
            "warnings": len(audit.findings) - len(errors),
            "path": MetadataValue.path(str(paths["html"])),
            "findings": messages_table(audit.findings),
        }
    )
