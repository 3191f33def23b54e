"""A simulated province through Dagster: N districts x M units, one year (issue 18).

.venv/bin/python benchmarks/bench_region.py --districts 100 --units 50

Every district is a member the province runs (`source = "home"`), with M synthetic units'
CSV files (pipeline/synth.py, seeded by district and unit: the same province every time).
Each way of building starts from a fresh copy of it and prints its wall time:

  floor        each district's own yearly build in this process, one after another, summed
  in process   `nianbao build --home PROVINCE` (pipeline/ops/region.py): members, then region
  run queue    the members' partitions as one Dagster backfill (`dagster job backfill`), run by
               `dagster-daemon` through the shipped queue limits (one run per district, at
               most 4 at once), each run in its own process; then the region's year
  celery xK    the same, every step sent to K dagster-celery workers on a Redis broker
               (redis-server on loopback, started here)
  region step  the region's year alone (sum, checks, report, page, open data)

with the ratio of each to the floor, and the peak memory of this process and of the
largest child (a run, a worker, the daemon).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.home import Home
from pipeline.synth import UnitHistory, submission, to_csv
from schemas import format_for_year

YEAR = 2025
FORMATS = ("html", "md")  # the quick writers; DOCX/PDF cost the same in every way of building
BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def make_province(root: Path, districts: int, units: int, year: int = YEAR) -> Home:
    """The province home at `root`: home.toml with one [[members]] entry per district and
    members/<code>/ a district home whose units handed in valid CSV files for `year`."""
    fmt = format_for_year(year)
    entries = []
    for d in range(districts):
        code, name = f"d{d:03d}", f"基准{d:03d}区"
        entries.append(f'[[members]]\ncode = "{code}"\nname = "{name}"\nsource = "home"\n')
        member = root / "members" / code
        (member / "registry").mkdir(parents=True)
        (member / "home.toml").write_text(
            f'district = "{name}"\ngovernment = "{name}人民政府办公室"\nlevel = "县级"\n', encoding="utf-8"
        )
        codes = [f"U{u:03d}" for u in range(units)]
        rows = ["code,name,kind,first_year,last_year"] + [f"{c},{name}单位{c},部门,{year}," for c in codes]
        (member / "registry" / "units.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        for unit in codes:
            cells = submission(fmt, f"{name}单位{unit}", year, random.Random(f"{code}/{unit}"), UnitHistory(),
                               regulations=False)  # fmt: skip
            folder = member / "inbox" / str(year) / unit
            folder.mkdir(parents=True)
            (folder / f"{unit}.csv").write_bytes(to_csv(cells, unit=unit, year=year))
    head = 'district = "基准省"\ngovernment = "基准省人民政府办公厅"\nlevel = "省级"\n\n[region]\ndeadline = "03-31"\n'
    (root / "home.toml").write_text(head + "\n" + "\n".join(entries), encoding="utf-8")
    return Home.resolve(root)


def fresh(template: Path, name: str) -> Home:
    target = template.parent / name
    shutil.copytree(template, target)
    return Home.resolve(target)


def floor(province: Home) -> float:
    """Each district's own yearly build in this process, summed (no region, no queue)."""
    from dagster import DagsterInstance

    from pipeline.defs.assets.reports import outputs_run_config
    from pipeline.defs.district import build_definitions
    from pipeline.defs.runs import QUIET_DAGSTER
    from pipeline.region import region_members

    total = 0.0
    for member in region_members(province):
        root = province.root / "members" / member.code
        started = time.perf_counter()
        job = build_definitions(str(root)).resolve_job_def("yearly_report")
        with DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(partition_key=str(YEAR), instance=instance,
                                            run_config={**QUIET_DAGSTER, **outputs_run_config(FORMATS)})  # fmt: skip
        assert result.success
        total += time.perf_counter() - started
    return total


def in_process(province: Home) -> float:
    from pipeline.ops.region import build_region

    started = time.perf_counter()
    result = build_region(province, YEAR, FORMATS)
    assert result.success, result.failures
    return time.perf_counter() - started


def region_step(province: Home) -> float:
    """The region's year again on members already built (province from in_process)."""
    from dagster import DagsterInstance

    from pipeline.defs.region import build_region_definitions
    from pipeline.defs.runs import QUIET_DAGSTER

    job = build_region_definitions(str(province.root)).resolve_job_def("region_year")

    chosen = {"ops": {"region_report": {"config": {"formats": list(FORMATS)}}}}
    with DagsterInstance.ephemeral() as instance:
        started = time.perf_counter()
        result = job.execute_in_process(partition_key=str(YEAR), instance=instance,
                                        run_config={**QUIET_DAGSTER, **chosen})  # fmt: skip
        assert result.success
        return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Group:
    """Processes this benchmark started, each in its own process group, stopped by pid."""

    def __init__(self, log: Path):
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.processes: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(
            argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.log.close()


def start_redis(group: Group, folder: Path) -> str:
    import redis

    port = free_port()
    group.start([shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(port),
                 "--dir", str(folder), "--save", "", "--appendonly", "no"], dict(os.environ))  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(300):
        try:
            client.ping()
            return f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def wait_workers(broker: str, count: int) -> None:
    from celery import Celery

    app = Celery(broker=broker)
    for _ in range(600):
        if len(app.control.ping(timeout=1) or []) >= count:
            return
        time.sleep(0.5)
    raise SystemExit("celery workers did not start")


def through_queue(province: Home, workers: int = 0) -> tuple[float, float]:
    """The members' backfill, then the region's year, through the daemon's run queue;
    with `workers`, every step through that many celery workers. (total, region run) seconds."""
    from dagster import DagsterRunStatus, RunsFilter

    from pipeline.ops.celery import worker_command, worker_yaml
    from pipeline.ops.instance import ensure_instance, open_instance, service_env
    from pipeline.region import region_members

    folder = ensure_instance(province)
    with open_instance(province):
        pass  # the schema made once, before the daemon, runs and workers open it
    env = {**service_env(province), "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    group = Group(province.root / "bench-services.log")
    try:
        if workers:
            env["NIANBAO_CELERY_BROKER"] = start_redis(group, folder)
            (folder / "celery.yaml").write_text(worker_yaml(env["NIANBAO_CELERY_BROKER"]), encoding="utf-8")
            for w in range(workers):
                group.start(worker_command(folder / "celery.yaml", f"bench-w{w}"), env)
            wait_workers(env["NIANBAO_CELERY_BROKER"], workers)
        group.start([str(BIN / "dagster-daemon"), "run", "-w", str(folder / "workspace.yaml")], env)
        keys = [f"{m.code}|{YEAR}" for m in region_members(province)]  # Dagster's key: dimensions by name
        started = time.perf_counter()
        backfill(folder, env, "region_members", keys)
        wait_runs(province, "region_members", len(keys))
        region_started = time.perf_counter()
        backfill(folder, env, "region_year", [str(YEAR)])
        wait_runs(province, "region_year", 1)
        ended = time.perf_counter()
        with open_instance(province) as instance:
            failed = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
            assert not failed, [r.run_id for r in failed]
        return ended - started, ended - region_started
    finally:
        group.stop()


def backfill(folder: Path, env: dict[str, str], job: str, keys: list[str]) -> None:
    """Queue one run per partition key (Dagster's own CLI; the daemon launches them)."""
    subprocess.run(
        [str(BIN / "dagster"), "job", "backfill", "-w", str(folder / "workspace.yaml"), "-l", "nianbao",
         "-j", job, "--partitions", ",".join(keys), "--noprompt"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip


def wait_runs(province: Home, job: str, count: int, limit: float = 7200) -> None:
    from dagster import DagsterRunStatus, RunsFilter

    from pipeline.ops.instance import open_instance

    done = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    deadline = time.monotonic() + limit
    with open_instance(province) as instance:
        while time.monotonic() < deadline:
            runs = instance.get_runs(RunsFilter(job_name=job))
            if len(runs) >= count and all(r.status in done for r in runs):
                return
            time.sleep(0.5)
    raise SystemExit(f"{job}: runs not finished in {limit:.0f} s")


def megabytes(kilobytes: int) -> str:
    return f"{kilobytes / 1024:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--districts", type=int, default=100)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--skip", nargs="*", default=[], choices=["queue", "celery"], help="ways not to run")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.generate import compile_sources

    compile_sources()
    work = Path(tempfile.mkdtemp(prefix="nianbao-bench-region-"))
    try:
        made = time.perf_counter()
        template = work / "template"
        make_province(template, args.districts, args.units)
        print(f"province: {args.districts} districts x {args.units} units, {YEAR}, formats {','.join(FORMATS)} "
              f"(made in {time.perf_counter() - made:.1f} s, {os.cpu_count()} cores)", flush=True)  # fmt: skip
        rows: list[tuple[str, float]] = []
        base = floor(fresh(template, "floor"))
        rows.append(("floor: districts one by one, summed", base))
        print(f"{rows[-1][0]:<46} {base:8.1f} s", flush=True)
        province = fresh(template, "in-process")
        rows.append(("province in process (nianbao build)", in_process(province)))
        print(f"{rows[-1][0]:<46} {rows[-1][1]:8.1f} s  {rows[-1][1] / base:5.2f} x floor", flush=True)
        step = region_step(province)
        if "queue" not in args.skip:
            total, _ = through_queue(fresh(template, "queue"))
            rows.append(("province through the run queue", total))
            print(f"{rows[-1][0]:<46} {total:8.1f} s  {total / base:5.2f} x floor", flush=True)
        if "celery" not in args.skip:
            for count in (1, 2):
                total, _ = through_queue(fresh(template, f"celery{count}"), workers=count)
                rows.append((f"province through the queue, celery x{count}", total))
                print(f"{rows[-1][0]:<46} {total:8.1f} s  {total / base:5.2f} x floor", flush=True)
        print(f"{'region step alone (region_year, in process)':<46} {step:8.1f} s")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"peak memory: this process {megabytes(own)}, largest child {megabytes(child)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
