"""One partition per report year the data home can build (pipeline/years.py).

The UI offers only those years: from the 2008 regulation through next year, less
the legacy years (before 2019) for which the home has no indicator catalogue, which
could only fail. The list is worked out when asked (a file test per legacy year),
for the home the definitions were built for (pipeline/defs/definitions.py), so it
follows a catalogue added later and the turn of the year without a reload.
"""

from __future__ import annotations

from pathlib import Path

from dagster import StaticPartitionsDefinition

from pipeline.years import buildable_years


class BuildableYears(StaticPartitionsDefinition):
    """The years of `home` (every year when no home is known yet), as static keys."""

    def __init__(self) -> None:
        super().__init__([])
        self.home: Path | None = None

    @property
    def _partition_keys(self) -> list[str]:
        return buildable_years(self.home)

    @_partition_keys.setter
    def _partition_keys(self, _keys) -> None:
        pass  # StaticPartitionsDefinition.__init__ sets it; here it is computed


yearly_partitions = BuildableYears()


def use_home(path: str | None) -> None:
    """The partitions follow the home at `path` (the code location's, or the CLI's --home)."""
    yearly_partitions.home = Path(path) if path else None
