"""One partition per report year, from the 2008 regulation through next year."""

from dagster import TimeWindowPartitionsDefinition

# A year's window closes on 1 January of the next year; end_offset=2 adds the
# current year (reports in progress) and next year (so a schedule or an early
# template for next year has a partition to name).
yearly_partitions = TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start="2008", fmt="%Y", end_offset=2, timezone="Asia/Shanghai"
)
