"""After the units' 31 January deadline, build the previous year's report."""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from pipeline.defs.jobs import yearly_report


@schedule(
    job=yearly_report,
    cron_schedule="0 9 1 2 *",  # 1 February, 09:00
    execution_timezone="Asia/Shanghai",
    default_status=DefaultScheduleStatus.STOPPED,
    description="每年 2 月 1 日（各单位 1 月 31 日报送截止后）编制上一年度的报告。默认关闭。",
)
def yearly_report_schedule(context: ScheduleEvaluationContext):
    year = context.scheduled_execution_time.year - 1
    return RunRequest(run_key=f"schedule-{year}", partition_key=str(year))
