"""Dagster assets: intake -> validation -> sections -> reports, partitioned by year."""
