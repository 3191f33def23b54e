"""Dagster wiring only: assets, checks, sensors, schedules, jobs, resources, partitions, Definitions."""
