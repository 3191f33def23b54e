"""Plain steps the Dagster assets, the CLI and the portal call: no Dagster imports."""
