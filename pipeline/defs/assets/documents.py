"""The publication bundle: reports/<year>/publish/ with the district's report as HTML,
DOCX and PDF and each unit's as HTML (its DOCX and PDF with `unit_documents`, else
made when downloaded: pipeline/render/on_demand.py). Downstream of the reports, so
the HTML and Markdown never wait for the slow writers; a unit whose report is
unchanged keeps its files."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from pipeline.defs.assets.common import OWNER, progress, year_of
from pipeline.defs.assets.reports import OutputsConfig
from pipeline.defs.partitions import yearly_partitions
from pipeline.defs.resources import NianbaoHome


@asset(
    partitions_def=yearly_partitions,
    deps=["district_report", "unit_reports"],
    group_name="reports",
    owners=[OWNER],
    kinds={"docx", "pdf", "html"},
    description="发布包：reports/<年度>/publish/ 下的全区报告（report.html、.docx、.pdf）及各单位报告"
    "（units/<单位代码>.html；各单位的 Word/PDF 在门户下载时生成，或编制时选 --unit-documents），"
    "供上传到政府信息公开年报栏目。",
)
def publication_bundle(context: AssetExecutionContext, home: NianbaoHome, config: OutputsConfig):
    from pipeline.render.on_demand import load_views
    from pipeline.render.outputs import write_publication
    from pipeline.render.writers import WRITERS, bundled

    data_home, year = home.home(), year_of(context)
    fmt, district, units, _ = load_views(data_home, year)
    out = data_home.reports_dir(year)
    result = write_publication(
        out, fmt, district, units, data_home.root, config.formats, unit_documents=config.unit_documents
    )
    rewritten = len(result["written"])
    progress(
        context,
        f"已生成发布包：{out / 'publish'}（{'、'.join(w.name for w in bundled(config.formats or WRITERS))}；"
        f"本次写入 {rewritten} 个文件）" + ("，征求意见稿" if district.draft else ""),
    )
    for warning in result["warnings"]:
        context.log.warning(warning)
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(out / "publish")),
            "district_files": MetadataValue.json([str(p) for p in result["district"]]),
            "unit_files": MetadataValue.json([str(p) for p in result["units"]]),
            "rewritten": MetadataValue.json([str(p) for p in result["written"]]),
            "draft": district.draft,
            "writer_warnings": len(result["warnings"]),
        }
    )
