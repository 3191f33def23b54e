"""Helpers shared by the asset modules: the year, the format, metadata tables."""

from __future__ import annotations

import logging

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

OWNER = "team:nianbao"
MAX_TABLE_ROWS = 500  # keep event-log entries small; the full list is in validation.html

MESSAGE_SCHEMA = TableSchema(
    columns=[
        TableColumn("unit", "string", description="单位"),
        TableColumn("file", "string", description="文件"),
        TableColumn("location", "string", description="工作表与单元格，或 CSV 行号"),
        TableColumn("rule", "string", description="规则编号"),
        TableColumn("message", "string", description="说明"),
    ]
)


# Progress lines for a person watching `nianbao build`: the CLI gives this logger a
# handler; in the web UI the same lines are in the run's event log.
PROGRESS = logging.getLogger("nianbao.progress")


def progress(context, message: str) -> None:
    context.log.info(message)
    PROGRESS.info(message)


def year_of(context) -> int:
    return int(context.partition_key)


def messages_table(messages) -> MetadataValue:
    records = [
        TableRecord(
            {
                "unit": m.unit_label,
                "file": m.file,
                "location": "，".join(p for p in (m.sheet, m.location) if p),
                "rule": m.rule,
                "message": m.text,
            }
        )
        for m in messages[:MAX_TABLE_ROWS]
    ]
    return MetadataValue.table(records=records, schema=MESSAGE_SCHEMA)


def table_schema(name: str) -> dict:
    """Dagster metadata showing the warehouse table's contract (pipeline/warehouse.py)."""
    from pipeline.warehouse import TABLES

    model = TABLES[name].model
    columns = [
        TableColumn(field, str(column.dtype), description=column.description or "")
        for field, column in model.to_schema().columns.items()
    ]
    return {"dagster/column_schema": TableSchema(columns=columns)}


def frame_table(frame, columns: list[str]) -> MetadataValue:
    schema = TableSchema(columns=[TableColumn(c, "string") for c in columns])
    records = [
        TableRecord({c: str(v) for c, v in zip(columns, row)})
        for row in frame[columns].head(MAX_TABLE_ROWS).itertuples(index=False)
    ]
    return MetadataValue.table(records=records, schema=schema)
