"""Upload -> district report latency, the way `nianbao serve` runs it.

    .venv/bin/python benchmarks/bench_upload.py [--units 80 1000] [--repeat 3]

For each N: a home with N synthetic units (benchmarks/generate.py), built once;
then the portal with its resident rebuild worker (create_app(rebuild=True),
the process `nianbao serve` starts), in this process on a loopback port. Each
round uploads a changed workbook of one unit through the API and measures:
- answer: the API's reply (archive + the per-file check + landing in the inbox);
- report.md / report.html: until the district report on disk has changed;
- run done: until the worker's run has finished (unit reports, validation page).
Prints the medians. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.generate import generate, size_arguments  # noqa: E402

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


def bench(units: int, repeat: int) -> dict:
    from pipeline.home import Home
    from pipeline.ops.build import Builder
    from pipeline.ops.instance import open_instance
    from pipeline.portal.app import create_app
    from pipeline.portal.server import running
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
    app = create_app(home, rebuild=True)
    worker = app.state.portal.worker
    md, html = home.reports_dir(YEAR) / "report.md", home.reports_dir(YEAR) / "report.html"
    rounds = []
    with running(app) as base:
        # Let the worker load the job and the instance before the first upload.
        while not worker.snapshot()["alive"]:
            time.sleep(0.05)
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
            assert worker.wait_idle(YEAR, 600)
            done = time.perf_counter() - t0
            state = worker.snapshot()["years"][str(YEAR)]
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
    args = size_arguments(__doc__)
    results = [bench(n, args.repeat) for n in args.units]
    print("\n上传 → 全区报告（中位数，秒）")
    print("单位数\t首次编制\t接口回复\treport.md\treport.html\t任务完成")
    for r in results:
        print(
            f"{r['units']}\t{r['first_build']:.2f}\t{r['answer']:.2f}\t{r['md']:.2f}\t{r['html']:.2f}\t{r['done']:.2f}"
        )


if __name__ == "__main__":
    main()
