"""Time issue 9's steps (year-over-year, provenance, open data, review page) against the build.

    .venv/bin/python benchmarks/bench_insight.py [--units 80 1000] [--repeat 3]

For each N: the benchmark home of bench_build.py (N synthetic units, generated when
missing), with 2024 and 2025 built cold by `nianbao build` (timed: the whole build,
now including the insight assets, against the parse floor of benchmarks/floor_parse.py).
Then each step alone, in process, on the built warehouse (median of --repeat runs).
Target: cold build <= 2.0 x parse floor.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_build import BIN, timed  # noqa: E402
from benchmarks.generate import compile_sources, generate_years, set_aside, size_arguments  # noqa: E402


def steps(home_path: Path, year: int = 2025) -> dict[str, float]:
    import pandas as pd

    from pipeline.defs.assets.sections import SECTION_ASSETS
    from pipeline.home import Home
    from pipeline.render.review import review_view, trend_series, write_review
    from pipeline.steps.opendata import write_open_data
    from pipeline.steps.provenance import provenance
    from pipeline.steps.yoy import last_year_sections, read_last_year, year_over_year
    from pipeline.warehouse import Warehouse
    from schemas import format_for_year

    home = Home.resolve(home_path)
    config, fmt, wh = home.config(), format_for_year(year), Warehouse.of(home, year)
    frames = [wh.read_section(k) for k in SECTION_ASSETS if wh.section_path(k).exists()]
    tables = {
        c: f[f["table"] == c].drop(columns="table")
        for f in frames
        for c in f["table"].unique()
        if c in fmt.tables
    }
    status = wh.read("status")
    names = dict(zip(status["unit"], status["name"]))
    out: dict[str, float] = {}

    t = time.perf_counter()
    yoy = year_over_year(tables, fmt, last_year_sections(home, year, *read_last_year(home, year)))
    out["yoy_s"] = time.perf_counter() - t
    t = time.perf_counter()
    prov = provenance(wh.read("accepted"), wh.read("cells"))
    out["provenance_s"] = time.perf_counter() - t
    t = time.perf_counter()
    write_open_data(home.reports_dir(year), fmt, year, config, tables, names, pd.DataFrame())
    out["open_data_s"] = time.perf_counter() - t
    t = time.perf_counter()
    view = review_view(fmt, year, config, yoy, prov, names, [], pd.DataFrame(), trend_series(home, year), [])
    write_review(home.reports_dir(year), view)
    out["review_page_s"] = time.perf_counter() - t
    return out


def bench(units: int, repeat: int) -> dict:
    home = REPO / "build" / "bench" / f"insight-n{units}"
    if not (home / "inbox" / "2025").is_dir() or len(list((home / "inbox" / "2025").iterdir())) != units:
        print(f"生成 {units} 个单位 2024、2025 年度的工作簿…", flush=True)
        generate_years(home, units, (2024, 2025))
    python, nianbao = str(BIN / "python"), str(BIN / "nianbao")

    def fresh():
        set_aside(home, ("archive", "warehouse", "reports", "revisions"))

    floor = statistics.median(
        timed([python, "benchmarks/floor_parse.py", str(home / "inbox" / "2025")]) for _ in range(repeat)
    )
    colds = []
    for _ in range(repeat):
        fresh()
        # Without the Word/PDF documents, as the core cold-build target is measured (bench_build.py).
        timed([nianbao, "build", "--year", "2024", "--home", str(home), "--formats", "html,md"])
        colds.append(timed([nianbao, "build", "--year", "2025", "--home", str(home), "--formats", "html,md"]))
    runs = [steps(home) for _ in range(repeat)]
    result = {"units": units, "parse_floor_s": floor, "cold_build_s": statistics.median(colds)}
    for key in runs[0]:
        result[key] = statistics.median(r[key] for r in runs)
    result["cold_ratio"] = result["cold_build_s"] / floor
    return result


def main() -> None:
    args = size_arguments(__doc__)
    compile_sources()
    rows = [bench(n, args.repeat) for n in args.units]
    print(
        f"\n{'N':>6} {'解析下限':>8} {'冷启动编制':>9} {'比值':>5} {'与上年比较':>8} {'来源':>6} {'开放数据':>7} {'审阅页':>6}"
    )
    for r in rows:
        print(f"{r['units']:>6} {r['parse_floor_s']:>8.2f}s {r['cold_build_s']:>9.2f}s {r['cold_ratio']:>5.2f} "
              f"{r['yoy_s']:>9.2f}s {r['provenance_s']:>6.2f}s {r['open_data_s']:>8.2f}s {r['review_page_s']:>6.2f}s")  # fmt: skip
    print("目标：冷启动比值 <= 2.0")
    out = REPO / "build" / "bench" / "insight-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print(f"结果已写入 {out}")


if __name__ == "__main__":
    main()
