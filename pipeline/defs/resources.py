"""The data home as a Dagster resource."""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource, Failure, InitResourceContext


class NianbaoHome(ConfigurableResource):
    """The data home directory: home.toml, registry/, inbox/, archive/, warehouse/, reports/."""

    path: str

    def home(self):
        from pipeline.home import Home

        return Home.resolve(self.path)


class BuildingHome(NianbaoHome):
    """The home as the job's resource (definitions.py binds this one).

    For a run of one year, it first says in one line when the home cannot
    build that year (no catalogue, out of range), then holds the year's build
    lock (pipeline/locks.py) for the whole run: with the in-process executor
    resources are set up once per run, so a CLI build, the serve worker and a
    UI run of the same year take turns instead of overlapping. Outside a run
    (the sensor) it is the plain home. A subclass, so that code handed a plain
    NianbaoHome (tests of the sensor) need not open it as a context manager."""

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[NianbaoHome]:
        run = context.run
        year = run.tags.get("dagster/partition") if run is not None else None
        if year is None or not year.isdigit():
            yield self
            return
        from pipeline.home import HomeError
        from pipeline.locks import year_lock
        from pipeline.years import year_problem

        try:
            home = self.home()
            problem = year_problem(int(year), home.root)
        except HomeError as exc:
            problem = str(exc)
        if problem:
            # Failure: the UI shows this text as the run's error, not a stack of Dagster frames.
            raise Failure(description=problem, allow_retries=False)

        # The run's log says whom it waits for (at once, then every 30 s); a run from the UI
        # or the daemon can be cancelled there. `nianbao build` takes the lock itself first,
        # visibly and with its --wait limit; here the same thread takes it again for free.
        with year_lock(home.root, int(year), waiting=context.log.info, reentrant=True):
            yield self
