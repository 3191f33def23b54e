"""Time the publication writers (DOCX, PDF) at N units.

    .venv/bin/python benchmarks/bench_documents.py [--units 80] [--workers 2]

On a home of N synthetic units (benchmarks/generate.py) built once with
`--formats html,md` (the reports, no documents):
- district: the district report's DOCX and PDF, rendered in this process
  (first render, fonts cold; then warm, the median of three);
- units cold: every unit's HTML + DOCX + PDF into an empty publish/ folder,
  through write_publication with --workers processes (what the asset does);
- one changed: after one unit's file changed and the reports were rebuilt,
  write_publication again: the files rewritten (only that unit's and the
  district's) and the time it took;
- on demand: one unit's PDF and DOCX as the portal's download makes them
  (pipeline/render/on_demand.py: reading the views back, then rendering);
- build: `nianbao build` cold with --formats html,md, with every format (the
  district's documents, the units' pages) and with --unit-documents.
Targets (issue 8): district DOCX + PDF <= 2 s; all unit documents cold <= 60 s on
2 cores; after one change only that unit's and the district's documents rewritten.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_build import change_one_file  # noqa: E402
from benchmarks.generate import compile_sources, generate, set_aside  # noqa: E402


def nianbao_build(home: Path, year: int, formats: str, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "nianbao"), "build", "--year", str(year), "--home", str(home), "--formats", formats, *extra],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )  # fmt: skip
    return time.perf_counter() - started


def fresh(home: Path) -> None:
    set_aside(home)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=80)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    compile_sources()
    os.environ["NIANBAO_DOCUMENT_WORKERS"] = str(args.workers)
    home = REPO / "build" / "bench" / f"n{args.units}"
    inbox = home / "inbox" / str(args.year)
    if not inbox.is_dir() or len(list(inbox.iterdir())) != args.units:
        print(f"生成 {args.units} 个单位的工作簿…", flush=True)
        generate(home, args.units, args.year)

    fresh(home)
    quick_cold = nianbao_build(home, args.year, "html,md")

    from pipeline.home import Home
    from pipeline.render.on_demand import load_views
    from pipeline.render.outputs import write_publication
    from pipeline.render.writers import WRITERS, RenderContext

    data_home = Home.resolve(home)
    fmt, district, units, _ = load_views(data_home, args.year)
    ctx = RenderContext(fmt, data_home.root)
    figures = {}
    for name in ("docx", "pdf"):
        started = time.perf_counter()
        WRITERS[name].render(district, ctx)
        first = time.perf_counter() - started
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            WRITERS[name].render(district, ctx)
            runs.append(time.perf_counter() - started)
        figures[name] = (first, statistics.median(runs))

    out = data_home.reports_dir(args.year)
    set_aside(out, ("publish",))
    started = time.perf_counter()
    cold = write_publication(out, fmt, district, units, data_home.root, unit_documents=True)
    units_cold = time.perf_counter() - started

    change_one_file(home, args.year, time.time_ns())  # a new file each run, whatever the last run left
    nianbao_build(home, args.year, "html,md")
    fmt, district, units, _ = load_views(data_home, args.year)
    started = time.perf_counter()
    again = write_publication(out, fmt, district, units, data_home.root, unit_documents=True)
    one_changed = time.perf_counter() - started
    rewritten = sorted(str(p.relative_to(out / "publish")) for p in again["written"])

    from pipeline.render.on_demand import unit_document

    code = sorted(units)[1]
    on_demand = {}
    for name in ("pdf", "docx"):
        (out / "publish" / "units" / f"{code}.{name}").unlink()  # as if never downloaded
        started = time.perf_counter()
        unit_document(data_home, args.year, code, name)
        on_demand[name] = time.perf_counter() - started

    fresh(home)
    full_cold = nianbao_build(home, args.year, "html,md,docx,pdf")
    fresh(home)
    every_cold = nianbao_build(home, args.year, "html,md,docx,pdf", "--unit-documents")

    print(f"\nN = {args.units}，文档进程数 {args.workers}（本机 {os.cpu_count()} 核）")
    print(f"全区报告 DOCX：首次 {figures['docx'][0]:.2f} 秒，此后 {figures['docx'][1]:.2f} 秒")
    print(f"全区报告 PDF： 首次 {figures['pdf'][0]:.2f} 秒，此后 {figures['pdf'][1]:.2f} 秒")
    print(f"全区报告 DOCX + PDF（此后）：{figures['docx'][1] + figures['pdf'][1]:.2f} 秒（目标 <= 2 秒）")
    print(
        f"全部单位文档（冷启动，{len(units)} 个单位 × html/docx/pdf，连同全区）：{units_cold:.2f} 秒"
        f"（写入 {len(cold['written'])} 个文件；目标 <= 60 秒）"
    )
    print(
        f"改一个文件后重写发布包：{one_changed:.2f} 秒，写入 {len(rewritten)} 个文件：{'、'.join(rewritten)}"
    )
    print(
        f"门户下载时生成一个单位的文档（未缓存）：PDF {on_demand['pdf']:.2f} 秒，"
        f"DOCX {on_demand['docx']:.2f} 秒"
    )
    print(
        f"nianbao build 冷启动：--formats html,md {quick_cold:.2f} 秒；全部格式 {full_cold:.2f} 秒；"
        f"全部格式加 --unit-documents {every_cold:.2f} 秒"
    )


if __name__ == "__main__":
    main()
