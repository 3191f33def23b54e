"""Running nianbao as a system: the home's Dagster instance, builds, `serve`, backups."""
