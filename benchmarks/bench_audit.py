"""Time `nianbao audit` over N published reports against the libraries' floor.

    .venv/bin/python benchmarks/bench_audit.py [--reports 60] [--repeat 1] [--no-one-process]

The reports: a synthetic district of N units (benchmarks/generate.py, interchange
CSV) built once with `--formats html,md`; each unit's report then written by
nianbao's own writers as a web page, a Word document or a PDF, in turn (a third
each), into build/bench/audit-n<N>/published/ (kept for the next run).
- audit: `nianbao audit` on a home whose warehouse and reports were set aside (no
  cached reads: every file read), the whole command timed: Dagster's multiprocess
  executor reads the files in two processes (pipeline/defs/assets/audit.py);
- floor: the same files opened and their tables extracted by lxml, python-docx and
  pdfplumber alone (benchmarks/floor_audit.py), as two processes at once on halves
  of the files (both cores, as the audit uses them) and as one process (left out
  with --no-one-process: at N = 1000 on a shared machine it adds a quarter hour);
- again: the audit run a second time (every read from the cache).
Prints seconds per report and the ratio to the two-process floor (target <= 1.5).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from benchmarks.generate import bench_home, compile_sources, set_aside  # noqa: E402

KINDS = ("html", "docx", "pdf")


def make_reports(root: Path, count: int, year: int) -> Path:
    """N reports written by nianbao's writers, a third of each kind (kept between runs)."""
    out = root / "published"
    if out.is_dir() and len(list(out.iterdir())) == count:
        return out
    import random

    from pipeline.synth import UnitHistory, submission, to_csv
    from schemas import format_for_year

    source = root / "source"
    codes = bench_home(source, count)
    fmt = format_for_year(year)
    for code in codes:
        path = source / "inbox" / str(year) / code / f"{code}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_csv(submission(fmt, f"基准单位{code}", year, random.Random(code), UnitHistory())))
    print(f"编制 {count} 个单位的报告…", flush=True)
    subprocess.run([str(BIN / "nianbao"), "build", "--year", str(year), "--home", str(source), "--formats",
                    "html,md"], check=True, stdout=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
    from pipeline.home import Home, write_atomic
    from pipeline.render.model import resolve
    from pipeline.render.on_demand import load_views
    from pipeline.render.writers import WRITERS, RenderContext

    home = Home.resolve(source)
    fmt, _district, units, _ = load_views(home, year)
    ctx = RenderContext(fmt, home.root)
    set_aside(root, ("published",))
    out.mkdir()
    for i, (code, view) in enumerate(sorted(units.items())):
        writer = WRITERS[KINDS[i % 3]]
        write_atomic(out / f"{code}{writer.suffix}", writer.render(resolve(view), ctx))
        if (i + 1) % 100 == 0:
            print(f"  已写出 {i + 1}/{count} 份", flush=True)
    return out


def timed(commands: list[list[str]]) -> float:
    """Wall time of the commands run at once."""
    started = time.perf_counter()
    running = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO) for c in commands
    ]
    codes = [p.wait() for p in running]
    assert all(code in (0, 1) for code in codes), codes  # `nianbao audit` exits 1 when it finds errors
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--no-one-process", action="store_true", help="不测一个进程的下限（省时间）")
    args = parser.parse_args()
    compile_sources()
    root = REPO / "build" / "bench" / f"audit-n{args.reports}"
    published = make_reports(root, args.reports, args.year)
    home = root / "home"
    if not (home / "home.toml").exists():
        bench_home(home, 1)
    audit = [str(BIN / "nianbao"), "audit", str(published), "--year", str(args.year), "--home", str(home)]
    floor = [sys.executable, str(REPO / "benchmarks" / "floor_audit.py"), str(published)]
    runs = {"audit": [], "again": [], "floor2": [], "floor1": []}
    for _ in range(args.repeat):
        set_aside(home, ("warehouse", "reports", "audit"))
        runs["audit"].append(timed([audit]))
        runs["again"].append(timed([audit]))
        runs["floor2"].append(timed([floor + ["--shard", "0/2"], floor + ["--shard", "1/2"]]))
        if not args.no_one_process:
            runs["floor1"].append(timed([floor]))
    n = args.reports
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    print(f"\n{n} 份报告（网页、Word、PDF 各三分之一），年度 {args.year}，各取 {args.repeat} 次的中位数：")
    print(f"nianbao audit（冷，全部读取）：{med['audit']:.1f} 秒，每份 {med['audit'] / n * 1000:.0f} 毫秒")
    print(f"nianbao audit（再次，全部沿用缓存）：{med['again']:.1f} 秒")
    one = f"，一个进程 {med['floor1']:.1f} 秒" if "floor1" in med else ""
    print(f"下限（lxml/python-docx/pdfplumber 只打开文件、提取表格）：两个进程 {med['floor2']:.1f} 秒"
          f"（每份 {med['floor2'] / n * 1000:.0f} 毫秒）{one}")  # fmt: skip
    one = f"；审查 / 一进程下限 = {med['audit'] / med['floor1']:.2f}" if "floor1" in med else ""
    print(f"比值：审查 / 两进程下限 = {med['audit'] / med['floor2']:.2f}（目标 <= 1.5）{one}")


if __name__ == "__main__":
    main()
