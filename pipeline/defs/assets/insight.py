"""Beyond the tables (issue 9): year-over-year values, the office text's checks,
the revisions log, open data and the office's review page, after the sections."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from pipeline.defs.assets.common import OWNER, messages_table, progress, table_schema, year_of
from pipeline.defs.assets.sections import SECTION_ASSETS
from pipeline.defs.assets.validation import submission_status, validated_submissions
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome
from schemas.frames import zip_columns

ANOMALY_RULES = ("Y1", "Y2", "G1", "P6")


def _tables(warehouse, fmt):
    """This year's figures of the format's tables, from the section assets."""
    import pandas as pd

    frames = [warehouse.read_section(key) for key in SECTION_ASSETS if warehouse.section_path(key).exists()]
    sections = {
        code: f[f["table"] == code].drop(columns="table") for f in frames for code in f["table"].unique()
    }
    return {
        code: sections.get(code, pd.DataFrame(columns=["scope", "row", "column", "value"]))
        for code in fmt.tables
    }


@asset(
    partitions_def=yearly_partitions,
    deps=[*SECTION_ASSETS, validated_submissions],
    group_name="insight",
    owners=[OWNER],
    kinds={"python", "parquet"},
    description="与上年比较：全区与各单位每个数字的上年可比数字、增减和变化百分比"
    "（2020→2021 格式变化按格式数据中的对照表）。每次编制算一次，报告、审阅页和发布包都读它。",
    check_specs=[
        AssetCheckSpec("no_anomalies", asset="year_over_year",
                       description="各单位没有与上年相比的异常、照抄或与行政层级不符的数字（Y1、Y2、P6、G1）"),
    ],
)  # fmt: skip
def year_over_year(context: AssetExecutionContext, home: NianbaoHome):
    from pipeline.steps.sections import DISTRICT
    from pipeline.steps.yoy import last_year_sections, read_last_year
    from pipeline.steps.yoy import year_over_year as compare
    from pipeline.warehouse import Warehouse
    from schemas import format_for_year

    data_home, year = home.home(), year_of(context)
    fmt = format_for_year(year, data_home.root)
    warehouse = Warehouse.of(data_home, year)
    last = last_year_sections(data_home, year, *read_last_year(data_home, year))
    yoy = compare(_tables(warehouse, fmt), fmt, last)
    path = warehouse.write("yoy", yoy)
    anomalies = [m for m in warehouse.read_messages("messages") if m.rule in ANOMALY_RULES]
    compared = yoy[(yoy["scope"] == DISTRICT) & (yoy["previous"] != "")]
    yield MaterializeResult(
        metadata={"figures": len(yoy), "district_compared": len(compared), "path": MetadataValue.path(str(path)),
                  **table_schema("yoy")},
    )  # fmt: skip
    yield AssetCheckResult(
        check_name="no_anomalies", passed=not anomalies, severity=AssetCheckSeverity.WARN,
        metadata={"failures": len(anomalies), "failure_table": messages_table(anomalies)},
    )  # fmt: skip


@multi_asset(
    specs=[
        AssetSpec("revisions_log", deps=[*SECTION_ASSETS, submission_status], group_name="insight",
                  owners=[OWNER], kinds={"python", "csv"}, partitions_def=yearly_partitions,
                  description="更正说明：报告发布（home.toml 中的发布日期）后，更正报送改动的每个数字一条，"
                  "保存在数据目录 revisions/<年度>/log.csv。"),
        AssetSpec("open_data", deps=[*SECTION_ASSETS, "revisions_log"], group_name="insight", owners=[OWNER],
                  kinds={"python", "csv", "json"}, partitions_def=yearly_partitions,
                  description="开放数据：reports/<年度>/open-data/，Frictionless 数据包（datapackage.json），"
                  "全区与各单位统计表的长表 CSV、更正说明和同一数据的 JSON 文档。"),
        AssetSpec("review_page", deps=["year_over_year", "revisions_log", validated_submissions],
                  group_name="insight", owners=[OWNER], kinds={"jinja", "html"}, partitions_def=yearly_partitions,
                  description="政务公开办审阅页 reports/<年度>/review.html：与上年比较、趋势图、文字核对、"
                  "异常提醒、更正说明和每个全区数字的来源（不对外发布）。"),
    ],
    check_specs=[
        AssetCheckSpec("office_text_matches_tables", asset="review_page",
                       description="政务公开办的文字中引用的数字与全区表格一致（P1–P4）"),
    ],
    partitions_def=yearly_partitions,
)  # fmt: skip
def insight(context: AssetExecutionContext, home: NianbaoHome):
    from pipeline.forked import both
    from pipeline.render.review import review_view, trend_series, write_review
    from pipeline.steps import revisions
    from pipeline.steps.office_texts import office_template_context, office_texts, render_office_texts
    from pipeline.steps.opendata import write_open_data
    from pipeline.steps.prose import office_messages
    from pipeline.steps.rules import check_settings
    from pipeline.steps.sections import DISTRICT, values_for
    from pipeline.steps.yoy import district_changes
    from pipeline.warehouse import Warehouse
    from schemas import format_for_year

    data_home, year = home.home(), year_of(context)
    config = data_home.config()
    fmt = format_for_year(year, data_home.root)
    warehouse = Warehouse.of(data_home, year)
    tables = _tables(warehouse, fmt)
    status = warehouse.read("status")
    names = dict(zip_columns(status, "unit", "name"))
    yoy = warehouse.read("yoy")  # the year_over_year asset's table: last year is not read again here
    anomalies = [m for m in warehouse.read_messages("messages") if m.rule in ANOMALY_RULES]

    log = revisions.update(data_home.root, year, config, fmt, tables, warehouse.read("files"), names)
    yield MaterializeResult(
        asset_key="revisions_log",
        metadata={
            "entries": len(log),
            "path": MetadataValue.path(str(data_home.root / "revisions" / str(year))),
        },
    )

    out = data_home.reports_dir(year)

    def open_data():
        if fmt.report_kind != "tables":
            return []
        imported = status[status["origin"] == "published"] if "origin" in status.columns else status.iloc[0:0]
        published = dict(zip_columns(imported, "unit", "file"))
        return write_open_data(out, fmt, year, config, tables, names, log, published)

    def v(table: str, row: str, column: str) -> str:
        return values_for(tables[table], DISTRICT).get((row, column), "0")

    def review_page():
        extra = office_template_context(district_changes(yoy), v)
        texts = render_office_texts(
            office_texts(data_home, year), {**extra, "year": year, "district": config["district"]}
        )
        office = office_messages(fmt, year, texts, lambda t, r, c: float(v(t, r, c)), config["district"],
                                 check_settings(config))  # fmt: skip
        view = review_view(fmt, year, config, yoy, warehouse.read("provenance"), names, office, log,
                           trend_series(data_home, year), anomalies)  # fmt: skip
        return write_review(out, view), office

    # Open data in a second process, where there is a core for it, while the review page is made here.
    written, (page, office) = both(open_data, review_page)
    yield MaterializeResult(
        asset_key="open_data",
        metadata={"files": [str(p) for p in written], "folder": MetadataValue.path(str(out / "open-data"))},
    )
    progress(context, f"已生成审阅页：{page}")
    yield MaterializeResult(asset_key="review_page", metadata={"html": MetadataValue.path(str(page))})
    yield AssetCheckResult(
        asset_key="review_page", check_name="office_text_matches_tables", passed=not office,
        severity=AssetCheckSeverity.WARN,
        metadata={"failures": len(office), "failure_table": messages_table(office)},
    )  # fmt: skip
