"""The one Definitions object of the `nianbao` code location.

Imports are light on purpose: asset bodies import pandas, pandera and the
readers when they run, so the code location reloads quickly. The data home is
a resource value: the web UI's code location reads it from NIANBAO_HOME (set by
`make ui` / `nianbao serve`), the CLI passes its --home directly.
"""

from dagster import Definitions, EnvVar, in_process_executor

from pipeline.defs.assets.audit import audit_reads, published_audit
from pipeline.defs.assets.documents import publication_bundle
from pipeline.defs.assets.insight import insight, year_over_year
from pipeline.defs.assets.intake import submissions, unit_registry
from pipeline.defs.assets.reports import reports
from pipeline.defs.assets.sections import report_sections
from pipeline.defs.assets.validation import submission_status, validated_submissions
from pipeline.defs.jobs import audit_reports, yearly_report
from pipeline.defs.partitions import use_home
from pipeline.defs.resources import BuildingHome, NianbaoHome
from pipeline.defs.schedules import yearly_report_schedule
from pipeline.defs.sensors import inbox_sensor


def build_definitions(home_path: str | EnvVar) -> Definitions:
    """Definitions over the data home at `home_path`; the executor is chosen here only.
    The code location's (home from the environment: the UI, the daemon) offer as
    partitions only the years that home can build (pipeline/defs/partitions.py); a
    build named by the CLI or the serve worker is checked before it runs (pipeline/years.py)
    and may name any year."""
    use_home(home_path.get_value() if isinstance(home_path, EnvVar) else None)
    return Definitions(
        assets=[
            unit_registry,
            submissions,
            validated_submissions,
            submission_status,
            report_sections,
            year_over_year,
            reports,
            insight,
            publication_bundle,
            *audit_reads,
            published_audit,
        ],
        jobs=[yearly_report, audit_reports],
        schedules=[yearly_report_schedule],
        sensors=[inbox_sensor],
        resources={"home": BuildingHome(path=home_path), "audit_home": NianbaoHome(path=home_path)},
        executor=in_process_executor,
    )


defs = build_definitions(EnvVar("NIANBAO_HOME"))


def audit_job():
    """The audit job of the home in NIANBAO_HOME: `nianbao audit` runs it with
    dagster.reconstructable(audit_job), so that the multiprocess executor's step
    processes can rebuild it by name."""
    return defs.resolve_job_def("audit_reports")
