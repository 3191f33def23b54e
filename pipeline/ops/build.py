"""Building a year against the home's Dagster instance, in this process.

Used by `nianbao build`, `nianbao demo` and the resident worker of `nianbao
serve` (which keeps the job and the instance open, so a rebuild after one
upload costs about a second, not a new process's start-up).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pipeline.defs.runs import QUIET_DAGSTER, step_failures


def last_year() -> int:
    """The newest year with a partition (schemas/years.py: tests/test_prefetch.py holds
    it and pipeline/defs/partitions.py together). Without loading Dagster, so the CLI
    can say early that a year cannot be built."""
    from schemas.years import last_year as newest

    return newest()


@dataclass(frozen=True)
class BuildResult:
    success: bool
    run_id: str
    failures: list[str]  # "步骤 X 失败：…" lines, the office's message innermost


class Builder:
    """Holds the job definition of one home, ready to run a year on an instance."""

    def __init__(self, home):
        from pipeline.defs.definitions import build_definitions

        self.home = home
        self.job = build_definitions(str(home.root)).resolve_job_def("yearly_report")

    def run(
        self,
        year: int,
        instance,
        tags: dict[str, str] | None = None,
        formats: tuple[str, ...] | None = None,
        unit_documents: bool = False,
    ) -> BuildResult:
        """Build `year`; `formats` limits the writers (pipeline/render/writers.py), default all;
        `unit_documents` writes every unit's DOCX/PDF too (else made when downloaded)."""
        from pipeline.defs.assets.reports import outputs_run_config

        chosen = formats is not None or unit_documents
        outputs = outputs_run_config(formats, unit_documents) if chosen else {}
        run_config = {**QUIET_DAGSTER, **outputs}
        result = self.job.execute_in_process(
            partition_key=str(year),
            instance=instance,
            raise_on_error=False,
            run_config=run_config,
            tags=tags or {},
        )
        failures = [] if result.success else step_failures(result.all_events)
        return BuildResult(result.success, result.run_id, failures)


# --- intake on the second core while a cold command starts -------------------------
# A `nianbao build` process spends its first second loading Dagster and opening the
# instance, on one core. Meanwhile a forked child runs the submissions step's own
# `collect` for the year (archive every file, parse the new ones into the parse cache),
# holding the year's build lock as any build does; the step then finds every file
# stored and parsed, and still records the run's intake itself. The child only warms
# what the step would do: whatever happens in it, the step does the work again.


def start_intake_prefetch(home, year: int, progress) -> int | None:
    """Fork the child for a buildable `year`; its pid, or None where it cannot be
    forked (one core, no fork, other threads: pipeline/forked.py)."""
    from pipeline.forked import can_fork

    if not can_fork():
        return None
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        _prefetch_intake(home, year, progress)
        code = 0
    finally:
        os._exit(code)  # never the parent's exit handlers or buffers


def _prefetch_intake(home, year: int, progress) -> None:
    from pipeline.locks import LockTimeout, year_lock
    from pipeline.steps.intake import collect
    from pipeline.steps.preflight import preflight

    try:
        with year_lock(home.root, year, timeout=0):
            preflight(home, year)  # damage: archive nothing; the run's first step says why
            collect(home, year, home.registry(), progress=lambda message: progress(f"启动时预读：{message}"))
    except LockTimeout:
        pass  # another build has the year: it archives and parses, then this one


def wait_intake_prefetch(pid: int | None) -> None:
    """Wait for the child: the run then takes the year's lock and reads its cache."""
    if pid is not None:
        os.waitpid(pid, 0)
