"""Report assets: the district report, each unit's report, the validation report.

The publication documents (DOCX, PDF) are built downstream by
pipeline/defs/assets/documents.py, so these never wait for them."""

from dagster import AssetExecutionContext, AssetSpec, Config, MaterializeResult, MetadataValue, multi_asset

from pipeline.defs.assets.common import OWNER, progress, year_of
from pipeline.defs.assets.sections import SECTION_ASSETS
from pipeline.defs.assets.validation import submission_status, validated_submissions
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome


class OutputsConfig(Config):
    """Which writers run (`nianbao build --formats`; None: every writer registered in
    pipeline/render/writers.py), and whether each unit's documents are written too
    (`--unit-documents`; otherwise made on download)."""

    formats: list[str] | None = None
    unit_documents: bool = False


def outputs_run_config(formats=None, unit_documents: bool = False) -> dict:
    """Run config choosing the writers of the report and publication assets (None: every one)."""
    chosen: dict = {"unit_documents": unit_documents}
    if formats is not None:
        chosen["formats"] = list(formats)
    return {"ops": {"reports": {"config": chosen}, "publication_bundle": {"config": chosen}}}


# The district report and the validation report take about as long as this many units'
# reports (html and md, measured at 80 and 1,000 units): the units are shared out so that
# both processes finish together.
DISTRICT_AND_VALIDATION_AS_UNITS = 40


def _paths(paths) -> MetadataValue:
    return MetadataValue.json(sorted(str(p) for p in paths))


@multi_asset(
    specs=[
        AssetSpec("district_report", deps=[*SECTION_ASSETS, submission_status, "year_over_year"], group_name="reports",
                  owners=[OWNER], kinds={"jinja", "html", "markdown"}, partitions_def=yearly_partitions,
                  description="全区（合并）年度报告：reports/<年度>/report.html 与 report.md，汇总所有已采用单位。"),
        AssetSpec("unit_reports", deps=[*SECTION_ASSETS, submission_status, "year_over_year"], group_name="reports",
                  owners=[OWNER], kinds={"jinja", "html", "markdown"}, partitions_def=yearly_partitions,
                  description="各单位的年度报告：reports/<年度>/units/<单位代码>.html 与 .md。"),
        AssetSpec("validation_report", deps=[validated_submissions, submission_status], group_name="reports",
                  owners=[OWNER], kinds={"jinja", "html"}, partitions_def=yearly_partitions,
                  description="报送审核情况：reports/<年度>/validation.html，按单位列出每一条错误和提醒。"),
    ],
    partitions_def=yearly_partitions,
    # Run as soon as the sections, the status and the year-over-year table are there, before the insight step that
    # is ready at the same time: an upload's district report is on disk that much sooner.
    op_tags={"dagster/priority": "1"},
)  # fmt: skip
def reports(context: AssetExecutionContext, home: NianbaoHome, config: OutputsConfig):
    from pipeline.render.on_demand import load_views
    from pipeline.render.outputs import Beside, write_district, write_units, write_validation
    from pipeline.warehouse import Warehouse

    data_home, year = home.home(), year_of(context)
    fmt, district, units, status = load_views(data_home, year)
    out = data_home.reports_dir(year)

    def district_and_validation():
        warehouse = Warehouse.of(data_home, year)
        files = warehouse.read("files")
        in_use = files[files["in_use"]]
        versions = {r.unit: (r.sha256, r.received_at) for r in in_use.itertuples()}
        validation = write_validation(
            out, district=data_home.config()["district"], year=year, fmt=fmt, status=status,
            messages=warehouse.read_messages("messages"), versions=versions,
        )  # fmt: skip
        return write_district(out, fmt, district, config.formats), validation

    # Most units' reports in a second process, where there is a core for it, the others
    # here with the district's and the validation report (pipeline/render/outputs.Beside).
    beside = Beside(district_and_validation, DISTRICT_AND_VALIDATION_AS_UNITS)
    paths = write_units(out, fmt, units, config.formats, beside=beside)
    written, validation = beside.result
    md_path = written.get("md")
    progress(
        context, f"已生成全区报告：{'、'.join(str(p) for p in written.values()) or '（未选择 html、md）'}"
    )
    metadata = {name: MetadataValue.path(str(path)) for name, path in written.items()}
    if md_path is not None:
        metadata["preview"] = MetadataValue.md(md_path.read_text(encoding="utf-8"))
    yield MaterializeResult(
        asset_key="district_report",
        metadata={**metadata, "files": _paths(written.values()), "units_accepted": len(units)},
    )
    progress(context, f"已生成 {len(units)} 个单位的报告")
    yield MaterializeResult(
        asset_key="unit_reports",
        metadata={
            "reports": len(units),
            "folder": MetadataValue.path(str(out / "units")),
            "files": _paths(paths),
        },
    )
    yield MaterializeResult(
        asset_key="validation_report",
        metadata={"html": MetadataValue.path(str(validation)), "files": _paths([validation]),
                  "unit_files": len(paths)},
    )  # fmt: skip
