"""The job the coordinating office launches for a year (executor: see definitions.py)."""

from dagster import AssetSelection, define_asset_job

yearly_report = define_asset_job(
    "yearly_report",
    selection=AssetSelection.all(),
    description="编制某一年度的政府信息公开工作年度报告：收件、校验、汇总、生成全区及各单位报告。",
)
