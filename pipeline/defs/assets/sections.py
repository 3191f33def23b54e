"""Section assets: one per report section, each holding every accepted unit's
values and the district's sums. Computed in one step (they share one read of the
accepted cells); each section is still its own asset in the lineage."""

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from pipeline.defs.assets.common import OWNER, messages_table, year_of
from pipeline.defs.assets.validation import validated_submissions
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome

SECTION_ASSETS = {
    "proactive": "二、主动公开政府信息情况：各单位数值与全区合计。",
    "applications": "三、收到和处理政府信息公开申请情况：各单位数值与全区合计。",
    "review_litigation": "四、政府信息公开行政复议、行政诉讼情况：各单位数值与全区合计。",
    "indicators": "2019 年以前（旧格式）各单位报送的统计指标与全区合计。",
    "narrative": "各单位填写的文字部分（总体情况、存在的主要问题及改进情况、其他需要报告的事项）。",
}
TABLE_SECTIONS = ("proactive", "applications", "review_litigation", "indicators")
# The rules a district's sums must still satisfy (the others are about one unit's hand-in).
SUM_RULE_KINDS = frozenset({"identity", "range"})


def section_asset_for(fmt, table_code: str) -> str:
    """The section asset a table's values land in, as the format says (Table.section).
    A format naming a section asset that does not exist fails here, loudly."""
    key = fmt.tables[table_code].section_asset
    if key not in TABLE_SECTIONS:
        raise LookupError(
            f"格式 {fmt.code} 的表 {table_code} 属于报告部分“{key}”，但没有这个部分的资产"
            f"（已有：{'、'.join(TABLE_SECTIONS)}）。请在 pipeline/defs/assets/sections.py 中增加。"
        )
    return key


@multi_asset(
    specs=[
        AssetSpec(
            key, deps=[validated_submissions], group_name="sections", owners=[OWNER],
            kinds={"python", "parquet"}, description=description, partitions_def=yearly_partitions,
        )
        for key, description in SECTION_ASSETS.items()
    ],
    check_specs=[
        AssetCheckSpec("sums_follow_rules", asset=key, blocking=True,
                       description="全区合计仍满足本格式的勾稽规则（核对汇总过程）")
        for key in TABLE_SECTIONS
    ],
    partitions_def=yearly_partitions,
)  # fmt: skip
def report_sections(context: AssetExecutionContext, home: NianbaoHome):
    import pandas as pd

    from pipeline.steps.provenance import preview, provenance
    from pipeline.steps.sections import DISTRICT, all_sections
    from pipeline.warehouse import Warehouse
    from schemas import format_for_year
    from schemas.base import NARRATIVE_TABLE
    from schemas.rules import check_cells

    data_home, year = home.home(), year_of(context)
    fmt = format_for_year(year, data_home.root)
    warehouse = Warehouse.of(data_home, year)
    accepted = warehouse.read("accepted")
    sections = all_sections(accepted, fmt)

    def sums_failures():
        # Re-check the format's identities on the sums: they hold when they hold per
        # unit, so a failure here means the aggregation itself went wrong.
        sums = pd.concat(
            [frame.assign(table=code) for code, frame in sections.items() if code != NARRATIVE_TABLE],
            ignore_index=True,
        )
        sums = sums[sums["scope"] == DISTRICT].rename(columns={"value": "raw"})
        sums = sums.assign(unit=DISTRICT, year=year, file="", sheet="", location="")
        return check_cells(sums, fmt, kinds=SUM_RULE_KINDS).messages

    def store():
        """Each section asset's frame written, with its metadata; and where every
        district figure came from (warehouse table `provenance`)."""
        grouped: dict[str, list] = {key: [] for key in SECTION_ASSETS}
        for code, frame in sections.items():
            key = NARRATIVE_TABLE if code == NARRATIVE_TABLE else section_asset_for(fmt, code)
            grouped[key].append(frame.assign(table=code))
        sources = provenance(accepted, warehouse.read("cells"))
        warehouse.write("provenance", sources)
        stored = {}
        for key, frames in grouped.items():
            frame = (
                pd.concat(frames, ignore_index=True)
                if frames
                else pd.DataFrame(columns=["scope", "row", "column", "value", "table"])
            )
            path = warehouse.write_section(key, frame)
            stored[key] = {
                "tables": sorted(frame["table"].unique().tolist()),
                "district_cells": int((frame["scope"] == DISTRICT).sum()),
                "unit_rows": int((frame["scope"] != DISTRICT).sum()),
                "path": str(path),
                "provenance_preview": MetadataValue.md(
                    "\n\n".join(
                        f"**{code}**\n\n{preview(sources, code)}" for code in sorted(frame["table"].unique())
                    )
                    or "（无）"
                ),
            }
        return stored

    failures, stored = sums_failures(), store()
    for key, metadata in stored.items():
        yield MaterializeResult(asset_key=key, metadata=metadata)
    for key in TABLE_SECTIONS:
        tables = {c for c in fmt.tables if section_asset_for(fmt, c) == key}
        mine = [m for m in failures if any(fmt.rule(m.rule).table == t for t in tables)]
        yield AssetCheckResult(
            asset_key=key,
            check_name="sums_follow_rules",
            passed=not mine,
            metadata={"failures": len(mine), "failure_table": messages_table(mine)},
        )
