"""A district home's definitions (build_definitions): its yearly report, audit, sensor and
schedule. A module of its own so that the region's definitions (pipeline/defs/region.py),
which run each member district's job, and the code location (definitions.py) both use it."""

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


def build_definitions(home_path: str | EnvVar, executor=in_process_executor) -> Definitions:
    """Definitions over the data home at `home_path`; the executor is chosen here only
    (in process by default; definitions.celery_job passes dagster-celery's).
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
        executor=executor,
    )
