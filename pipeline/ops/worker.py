"""The resident rebuild worker: after an accepted upload, rebuild the year in a
process that already holds the code and the instance.

A new Dagster run process pays several seconds of imports and start-up; this
thread pays them once, then each rebuild of a year (unchanged files are not
re-parsed: intake caches by content hash) takes about a second at 80 units.
Requests for a year that arrive while it is building are folded into one more
run. Runs are recorded in the home's instance (tag nianbao/started_by=portal),
so they appear in the Dagster UI like any other.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

log = logging.getLogger("nianbao.worker")


@dataclass
class YearState:
    requested_at: str = ""
    started_at: str = ""
    finished_at: str = ""
    success: bool | None = None
    run_id: str = ""
    message: str = ""
    pending: bool = False


@dataclass
class WorkerState:
    alive: bool = False
    years: dict[int, YearState] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def warm_up() -> None:
    """Load what a rebuild's steps load on first use (pandas, pyarrow, pandera, the
    readers, rules and writers, WeasyPrint: about 2 s on a quiet 2-core machine) before
    the first upload rather than during it, then take these long-lived objects out of
    the cyclic collector's walks (pipeline/collector.py): every
    collection of the oldest generation walked them again, 0.2-0.4 s of a rebuild."""
    import pandera.pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import weasyprint  # noqa: F401

    import pipeline.render.docx  # noqa: F401
    import pipeline.render.outputs  # noqa: F401
    import pipeline.render.pdf  # noqa: F401
    import pipeline.render.review  # noqa: F401
    import pipeline.steps.intake  # noqa: F401
    import pipeline.steps.opendata  # noqa: F401
    import pipeline.steps.prose  # noqa: F401
    import pipeline.steps.provenance  # noqa: F401
    import pipeline.steps.revisions  # noqa: F401
    import pipeline.steps.sections  # noqa: F401
    import pipeline.steps.validate  # noqa: F401
    import pipeline.steps.yoy  # noqa: F401
    import pipeline.warehouse  # noqa: F401
    import schemas.rules  # noqa: F401
    from pipeline import collector

    collector.freeze_loaded()


class RebuildWorker:
    def __init__(self, home):
        self.home = home
        self.state = WorkerState()
        self._wanted: list[int] = []  # years asked for, oldest request first
        self._cond = threading.Condition()
        self._stop = False
        self._building: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="nianbao-rebuild", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 60) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def request(self, year: int) -> None:
        with self._cond:
            entry = self.state.years.setdefault(year, YearState())
            entry.requested_at, entry.pending = _now(), True
            if year not in self._wanted:
                self._wanted.append(year)
            self._cond.notify_all()

    def snapshot(self) -> dict:
        with self._cond:
            return {
                "alive": self.state.alive,
                "years": {str(y): asdict(s) for y, s in sorted(self.state.years.items())},
            }

    def wait_idle(self, year: int, timeout: float) -> bool:
        """True once `year` is neither asked for nor building (for tests and the benchmark)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while year in self._wanted or self._building == year:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _loop(self) -> None:
        from pipeline.ops.build import Builder
        from pipeline.ops.instance import open_instance
        from pipeline.years import year_problem

        try:
            builder = Builder(self.home)
            instance = open_instance(self.home)
            warm_up()
        except Exception:  # noqa: BLE001 - logged; the portal keeps taking uploads
            log.exception("重新编制进程无法启动")
            return
        with self._cond:
            self.state.alive = True
        try:
            while True:
                with self._cond:
                    while not self._wanted and not self._stop:
                        self._cond.wait()
                    if self._stop:
                        return
                    year = self._wanted.pop(0)
                    self._building = year
                    entry = self.state.years[year]
                    entry.pending, entry.started_at = False, _now()
                problem = year_problem(year, self.home.root)
                if problem:
                    success, run_id, message = False, "", problem
                else:
                    try:
                        result = builder.run(year, instance, tags={"nianbao/started_by": "portal"})
                        success, run_id = result.success, result.run_id
                        message = "；".join(result.failures)
                    except Exception as exc:  # noqa: BLE001 - one failed rebuild must not stop the worker
                        log.exception("重新编制 %s 年度失败", year)
                        success, run_id, message = False, "", f"重新编制失败：{exc}"
                with self._cond:
                    entry.finished_at, entry.success, entry.run_id, entry.message = (
                        _now(),
                        success,
                        run_id,
                        message,
                    )
                    self._building = None
                    self._cond.notify_all()
                log.info("重新编制 %s 年度：%s %s", year, "完成" if success else "失败", message)
        finally:
            with self._cond:
                self.state.alive = False
                self._building = None
                self._cond.notify_all()
            instance.dispose()
