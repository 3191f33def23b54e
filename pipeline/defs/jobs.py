"""The jobs: the year's report (executor: see definitions.py) and the audit of published reports."""

from dagster import AssetSelection, define_asset_job, multiprocess_executor

from pipeline.defs.assets.audit import GROUP as AUDIT_GROUP

yearly_report = define_asset_job(
    "yearly_report",
    selection=AssetSelection.all() - AssetSelection.groups(AUDIT_GROUP),
    description="编制某一年度的政府信息公开工作年度报告：收件、校验、汇总、生成全区及各单位报告。",
)

# Reading PDFs is CPU-bound: the audit's reading steps run in their own processes, one
# per core (Dagster's multiprocess executor; `nianbao audit` launches it through
# pipeline.defs.definitions.audit_job, which the step processes rebuild by name).
audit_reports = define_asset_job(
    "audit_reports",
    selection=AssetSelection.groups(AUDIT_GROUP),
    executor_def=multiprocess_executor,
    description="审查 audit/<年度>/ 中各单位已公开的年度报告（网页、Word、PDF），写出 reports/<年度>/audit/。",
)
