"""Validation assets: the format's rules over every submission, and each unit's status."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipeline.defs.assets.common import OWNER, frame_table, messages_table, progress, table_schema, year_of
from pipeline.defs.assets.intake import submissions, unit_registry
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome
from schemas.frames import zip_columns


@asset(
    partitions_def=yearly_partitions,
    deps=[submissions, unit_registry],
    group_name="validation",
    owners=[OWNER],
    kinds={"pandera", "parquet"},
    description="按本年度格式校验（pandera）：结构（N5、N6）与勾稽规则（N1…N9 等）。"
    "有“错误”的单位本年度报送被退回、不计入汇总；“提醒”不影响采用。",
    check_specs=[
        AssetCheckSpec("unit_errors", asset="validated_submissions",
                       description="各单位报送中的“错误”（使该单位被退回）"),
        AssetCheckSpec("unit_warnings", asset="validated_submissions",
                       description="各单位报送中的“提醒”（不影响采用）"),
    ],
)  # fmt: skip
def validated_submissions(context: AssetExecutionContext, home: NianbaoHome):
    from pipeline.ingest.archive import record_outcomes
    from pipeline.steps.intake import Intake
    from pipeline.steps.validate import validate_year
    from pipeline.warehouse import TABLES, Warehouse, model_columns
    from schemas import format_for_year

    data_home, year = home.home(), year_of(context)
    warehouse = Warehouse.of(data_home, year)
    fmt = format_for_year(year, data_home.root)
    intake = Intake(
        cells=warehouse.read("cells"),
        files=warehouse.read("files"),
        messages=warehouse.read_messages("intake_messages"),
    )
    result = validate_year(data_home, year, fmt, data_home.registry(), intake)
    warehouse.write("accepted", result.accepted)
    warehouse.write_messages("messages", result.messages)
    warehouse.write("status", result.status)
    if result.previous is not None:  # last year, read once: the year-over-year table reads it here
        warehouse.write("last_year", result.previous[model_columns(TABLES["last_year"].model)])
    else:
        warehouse.path("last_year").unlink(missing_ok=True)

    status_of = dict(zip_columns(result.status, "unit", "status"))
    record_outcomes(
        data_home.archive,
        {
            (f.sha256, f.unit, str(year), f.file): (status_of.get(f.unit, "unprocessed") if f.in_use else "superseded")
            if f.unit in status_of else "unprocessed"
            for f in intake.files.itertuples()
        },
    )  # fmt: skip
    errors = [m for m in result.messages if m.severity == "ERROR"]
    warnings = [m for m in result.messages if m.severity == "WARNING"]
    progress(context, f"校验完成：错误 {len(errors)} 条，提醒 {len(warnings)} 条（格式 {fmt.code}）")
    yield MaterializeResult(
        metadata={
            "format": fmt.code,
            "accepted_cells": len(result.accepted),
            "errors": len(errors),
            "warnings": len(warnings),
            "path": MetadataValue.path(str(warehouse.path("accepted"))),
            **table_schema("accepted"),
        }
    )
    yield AssetCheckResult(
        check_name="unit_errors",
        passed=not errors,
        severity=AssetCheckSeverity.ERROR,
        metadata={"failures": len(errors), "failure_table": messages_table(errors)},
    )
    yield AssetCheckResult(
        check_name="unit_warnings",
        passed=not warnings,
        severity=AssetCheckSeverity.WARN,
        metadata={"failures": len(warnings), "failure_table": messages_table(warnings)},
    )


@asset(
    partitions_def=yearly_partitions,
    deps=[validated_submissions],
    group_name="validation",
    owners=[OWNER],
    kinds={"python", "csv"},
    description="各单位报送状态：accepted（已采用）、rejected（已退回）、missing（未报送），及错误、提醒条数。",
)
def submission_status(context: AssetExecutionContext, home: NianbaoHome) -> MaterializeResult:
    from pipeline.render.outputs import write_status
    from pipeline.steps.validate import STATUS_TEXT
    from pipeline.warehouse import Warehouse

    data_home, year = home.home(), year_of(context)
    status = Warehouse.of(data_home, year).read("status")
    path = write_status(data_home.reports_dir(year), status)
    counts = status["status"].value_counts()
    progress(context, "报送状态：" + "，".join(f"{STATUS_TEXT[k]} {v} 个" for k, v in counts.items()))
    return MaterializeResult(
        metadata={
            **{state: int(counts.get(state, 0)) for state in ("accepted", "rejected", "missing")},
            "path": MetadataValue.path(str(path)),
            "status_table": frame_table(status, ["unit", "name", "status", "errors", "warnings", "file"]),
            **table_schema("status"),
        }
    )
