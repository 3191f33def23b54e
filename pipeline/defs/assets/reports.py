"""Report assets: the district report, each unit's report, the validation report."""

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipeline.defs.assets.common import OWNER, progress, year_of
from pipeline.defs.assets.sections import SECTION_ASSETS
from pipeline.defs.assets.validation import submission_status, validated_submissions
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome


@multi_asset(
    specs=[
        AssetSpec("district_report", deps=[*SECTION_ASSETS, submission_status], group_name="reports",
                  owners=[OWNER], kinds={"jinja", "html", "markdown"}, partitions_def=yearly_partitions,
                  description="全区（合并）年度报告：reports/<年度>/report.html 与 report.md，汇总所有已采用单位。"),
        AssetSpec("unit_reports", deps=[*SECTION_ASSETS, submission_status], group_name="reports",
                  owners=[OWNER], kinds={"jinja", "html", "markdown"}, partitions_def=yearly_partitions,
                  description="各单位的年度报告：reports/<年度>/units/<单位代码>.html 与 .md。"),
        AssetSpec("validation_report", deps=[validated_submissions, submission_status], group_name="reports",
                  owners=[OWNER], kinds={"jinja", "html"}, partitions_def=yearly_partitions,
                  description="报送审核情况：reports/<年度>/validation.html，按单位列出每一条错误和提醒。"),
    ],
    partitions_def=yearly_partitions,
)  # fmt: skip
def reports(context: AssetExecutionContext, home: NianbaoHome):
    from pipeline.render.outputs import write_district, write_units, write_validation
    from pipeline.render.reports import build_views
    from pipeline.warehouse import Warehouse
    from schemas import format_for_year
    from schemas.base import NARRATIVE_TABLE

    data_home, year = home.home(), year_of(context)
    config = data_home.config()
    fmt = format_for_year(year, data_home.root)
    warehouse = Warehouse.of(data_home, year)
    frames = {key: warehouse.read_section(key) for key in SECTION_ASSETS}
    sections = {
        code: frame[frame["table"] == code] for frame in frames.values() for code in frame["table"].unique()
    }
    for code in [*fmt.tables, NARRATIVE_TABLE]:
        sections.setdefault(code, frames["narrative"].iloc[0:0])
    status = warehouse.read("status")
    out = data_home.reports_dir(year)

    district, units = build_views(fmt, year, config, sections, status, data_home.root)
    html, md, text = write_district(out, fmt, district)
    progress(context, f"已生成全区报告：{html}")
    yield MaterializeResult(
        asset_key="district_report",
        metadata={
            "html": MetadataValue.path(str(html)),
            "markdown": MetadataValue.path(str(md)),
            "preview": MetadataValue.md(text),
            "units_accepted": len(units),
        },
    )
    paths = write_units(out, fmt, units)
    progress(context, f"已生成 {len(units)} 个单位的报告")
    yield MaterializeResult(
        asset_key="unit_reports",
        metadata={"reports": len(units), "folder": MetadataValue.path(str(out / "units"))},
    )
    files = warehouse.read("files")
    in_use = files[files["in_use"]]
    versions = {r.unit: f"版本 {r.sha256[:12]}，接收于 {r.received_at}" for r in in_use.itertuples()}
    path = write_validation(
        out, district=config["district"], year=year, fmt=fmt, status=status,
        messages=warehouse.read_messages("messages"), versions=versions,
    )  # fmt: skip
    yield MaterializeResult(
        asset_key="validation_report",
        metadata={"html": MetadataValue.path(str(path)), "unit_files": len(paths)},
    )
