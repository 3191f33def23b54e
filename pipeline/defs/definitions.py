"""The one Definitions object of the `nianbao` code location.

Imports are light on purpose: asset bodies import pandas, pandera and the
readers when they run, so the code location reloads quickly.
"""

from dagster import Definitions, EnvVar, in_process_executor

from pipeline.defs.assets.intake import submissions, unit_registry
from pipeline.defs.assets.reports import reports
from pipeline.defs.assets.sections import report_sections
from pipeline.defs.assets.validation import submission_status, validated_submissions
from pipeline.defs.jobs import yearly_report
from pipeline.defs.resources import NianbaoHome
from pipeline.defs.schedules import yearly_report_schedule
from pipeline.defs.sensors import inbox_sensor

defs = Definitions(
    assets=[unit_registry, submissions, validated_submissions, submission_status, report_sections, reports],
    jobs=[yearly_report],
    schedules=[yearly_report_schedule],
    sensors=[inbox_sensor],
    resources={"home": NianbaoHome(path=EnvVar("NIANBAO_HOME"))},
    executor=in_process_executor,
)
