"""Upload -> district report latency under `nianbao serve`.

    .venv/bin/python benchmarks/bench_upload.py [--units 80 1000] [--repeat 3] [--in-process]

For each N: a home with N synthetic units (benchmarks/generate.py), built once;
then `nianbao serve` on it (Dagster UI, daemon, and the portal with its resident
rebuild worker, on free loopback ports), as the office runs it. With
--in-process, only the portal with its worker (create_app(rebuild=True)) in this
process instead. Each round uploads a changed workbook of one unit through the
API and measures:
- answer: the API's reply (archive + the per-file check + landing in the inbox);
- report.md / report.html: until the district report on disk has changed;
- run done: until the worker's run has finished (unit reports, validation page,
  the district's documents).
Prints the medians. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.generate import compile_sources, generate  # noqa: E402

BIN = Path(sys.executable).parent

YEAR = 2025
UNIT = "U0003"


def changed_workbook(round_no: int) -> bytes:
    from pipeline.synth import UnitHistory, submission
    from pipeline.workbook.writer import write_template
    from schemas import format_for_year

    fmt = format_for_year(YEAR)
    cells = submission(fmt, f"基准单位{UNIT}", YEAR, random.Random(f"upload-{round_no}"), UnitHistory())
    path = REPO / "build" / "bench" / f".upload-{round_no}.xlsx"
    write_template(fmt, path, unit_code=UNIT, unit_name=f"基准单位{UNIT}", year=YEAR, values=cells)
    data = path.read_bytes()
    path.unlink()
    return data


def wait_changed(path: Path, before: int, started: float, limit: float = 600) -> float:
    while time.perf_counter() - started < limit:
        try:
            if path.stat().st_mtime_ns != before:
                return time.perf_counter() - started
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise TimeoutError(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def in_process(home):
    """The portal with its rebuild worker in this process; (base URL, worker idle test)."""
    from pipeline.portal.app import create_app
    from pipeline.portal.server import running

    app = create_app(home, rebuild=True)
    worker = app.state.portal.worker
    with running(app) as base:
        # Let the worker load the job and the instance before the first upload.
        while not worker.snapshot()["alive"]:
            time.sleep(0.05)

        def settled(year: int) -> dict:
            assert worker.wait_idle(year, 600)
            return worker.snapshot()["years"][str(year)]

        yield base, settled


@contextlib.contextmanager
def served(home):
    """`nianbao serve` on the home, as a child process; (base URL, worker idle test)."""
    port = free_port()
    log_path = home.root / "logs" / "bench-serve.out"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "w+b") as log:
        process = subprocess.Popen(
            [str(BIN / "nianbao"), "serve", "--home", str(home.root), "--port", str(port),
             "--ui-port", str(free_port())],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while "nianbao 已就绪" not in log_path.read_text(encoding="utf-8", errors="replace"):
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            while requests.get(f"{base}/health", timeout=10).json()["checks"].get("worker") != "ok":
                time.sleep(0.1)

            def settled(year: int) -> dict:
                while True:
                    state = requests.get(f"{base}/health", timeout=10).json()["rebuilds"]["years"][str(year)]
                    started, finished = state["started_at"], state["finished_at"]
                    if not state["pending"] and started >= state["requested_at"] and finished >= started:
                        return state
                    time.sleep(0.01)

            yield base, settled
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)


def bench(units: int, repeat: int, *, serve: bool) -> dict:
    from pipeline.home import Home
    from pipeline.ops.build import Builder
    from pipeline.ops.instance import open_instance
    from pipeline.portal.store import Store

    root = REPO / "build" / "bench" / f"upload-n{units}"
    print(f"生成 {units} 个单位并首次编制…", flush=True)
    generate(root, units, YEAR)
    home = Home.resolve(root)
    started = time.perf_counter()
    with open_instance(home) as instance:
        assert Builder(home).run(YEAR, instance).success
    first = time.perf_counter() - started
    token = Store(home).issue_token("unit", UNIT)[1]
    md, html = home.reports_dir(YEAR) / "report.md", home.reports_dir(YEAR) / "report.html"
    rounds = []
    with (served if serve else in_process)(home) as (base, settled):
        for i in range(repeat):
            data = changed_workbook(i)
            before_md, before_html = md.stat().st_mtime_ns, html.stat().st_mtime_ns
            t0 = time.perf_counter()
            answer = requests.post(
                f"{base}/api/v1/submissions",
                headers={"Authorization": f"Bearer {token}"},
                data={"year": str(YEAR)},
                files={"file": (f"{UNIT}.xlsx", data)},
                timeout=600,
            )
            replied = time.perf_counter() - t0
            assert answer.status_code == 201 and answer.json()["outcome"] == "accepted", answer.text[:300]
            to_md = wait_changed(md, before_md, t0)
            to_html = wait_changed(html, before_html, t0)
            state = settled(YEAR)
            done = time.perf_counter() - t0
            assert state["success"], state
            rounds.append((replied, to_md, to_html, done))
            print(
                f"  N={units} 第 {i + 1} 次：回复 {replied:.2f} 秒，report.md {to_md:.2f} 秒，"
                f"report.html {to_html:.2f} 秒，整个任务 {done:.2f} 秒",
                flush=True,
            )
    med = [statistics.median(r[k] for r in rounds) for k in range(4)]
    return {
        "units": units,
        "first_build": first,
        "answer": med[0],
        "md": med[1],
        "html": med[2],
        "done": med[3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, nargs="+", default=[80, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--in-process", action="store_true", help="the portal in this process, no serve")
    args = parser.parse_args()
    compile_sources()
    results = [bench(n, args.repeat, serve=not args.in_process) for n in args.units]
    where = "门户在本进程内" if args.in_process else "nianbao serve"
    print(f"\n上传 → 全区报告（{where}，中位数，秒）")
    print("单位数\t首次编制\t接口回复\treport.md\treport.html\t任务完成")
    for r in results:
        print(
            f"{r['units']}\t{r['first_build']:.2f}\t{r['answer']:.2f}\t{r['md']:.2f}\t{r['html']:.2f}\t{r['done']:.2f}"
        )


if __name__ == "__main__":
    main()
