"""Intake assets: who must report this year, and what they handed in."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from pipeline.defs.assets.common import OWNER, frame_table, progress, table_schema, year_of
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome


@asset(
    partitions_def=yearly_partitions,
    group_name="intake",
    owners=[OWNER],
    kinds={"python", "parquet"},
    description="本年度应报送的单位：单位名册（registry/units.csv）中在该年度有效的单位。"
    "编制的第一步：先核对编制要读的数据目录文件，有损坏时停止，不写出任何文件。",
)
def unit_registry(context: AssetExecutionContext, home: NianbaoHome) -> MaterializeResult:
    from pipeline.steps.preflight import preflight
    from pipeline.warehouse import Warehouse

    data_home, year = home.home(), year_of(context)
    preflight(data_home, year)  # the job's first step: damage stops it before any write
    units = data_home.registry().frame(year)
    path = Warehouse.of(data_home, year).write("units", units)
    progress(context, f"{year} 年度应报送单位 {len(units)} 个")
    return MaterializeResult(
        metadata={
            "units": len(units),
            "path": MetadataValue.path(str(path)),
            "registry": frame_table(units, ["code", "name", "kind"]),
            **table_schema("units"),
        }
    )


@asset(
    partitions_def=yearly_partitions,
    deps=[unit_registry],
    group_name="intake",
    owners=[OWNER],
    kinds={"python", "parquet"},
    description="各单位报送的文件：先按内容哈希存档，再解析为单元格（表、行、列、值及来源位置）。"
    "未变化的文件不重复解析。",
)
def submissions(context: AssetExecutionContext, home: NianbaoHome) -> MaterializeResult:
    from pipeline.home import write_atomic
    from pipeline.steps.inbox import digest, inbox_state
    from pipeline.steps.intake import collect
    from pipeline.warehouse import Warehouse

    data_home, year = home.home(), year_of(context)
    state = inbox_state(data_home, year)
    intake = collect(
        data_home, year, data_home.registry(), progress=lambda message: progress(context, message)
    )
    warehouse = Warehouse.of(data_home, year)
    warehouse.write("cells", intake.cells.astype({"year": "int64"}))
    warehouse.write("files", intake.files)
    warehouse.write_messages("intake_messages", intake.messages)
    write_atomic(data_home.inbox_digest(year), digest(state))
    in_use = intake.files[intake.files["in_use"]]
    return MaterializeResult(
        metadata={
            "files": len(intake.files),
            "files_in_use": len(in_use),
            "files_parsed_now": intake.parsed,
            "cells": len(intake.cells),
            "file_problems": len(intake.messages),
            "path": MetadataValue.path(str(warehouse.path("cells"))),
            "files_table": frame_table(intake.files, ["unit", "file", "sha256", "in_use"]),
            **table_schema("cells"),
        }
    )
