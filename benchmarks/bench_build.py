"""Time `nianbao build` against floors measured in the same run.

    .venv/bin/python benchmarks/bench_build.py [--units 80 1000] [--repeat 3]

For each N: N synthetic units' workbooks for one year (benchmarks/generate.py).
- parse floor: one process importing the same libraries and reading every cell of
  the same files with openpyxl (benchmarks/floor_parse.py);
- CSV floor and CSV cold build: the same district handed in as interchange CSV,
  read by one process with pandas, and built cold;
- cold build with history: a CSV home with 2024 and 2025 on record (2024 built, so
  last year's figures, year-over-year table and the review page's trend charts are
  all computed), 2025 built cold, against the CSV floor of 2025's files;
- import floor: that process without reading the files;
- cold build: `nianbao build` on a home with no archive, warehouse or reports (its
  Dagster instance exists, as in any home built before: creating one is timed once,
  apart, as the first build of a new home);
- rebuild: `nianbao build` after one unit's file changed;
- Dagster floor: a process that imports what a build imports, opens a home's
  instance and runs empty steps of the yearly job's shape (17 assets, 8 checks,
  ~110 events recorded) (benchmarks/floor_dagster.py --home): what any build on
  the persistent instance costs before nianbao does any work.
Cold builds and floors are measured in pairs, the ratio being the median of the
pairs' ratios. Prints the figures and the ratios (targets: cold <= 2.0 x parse floor; rebuild
<= 1.5 x import floor). Each figure is the median of --repeat runs.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from benchmarks.generate import (  # noqa: E402
    bench_home,
    compile_sources,
    generate,
    generate_years,
    set_aside,
    size_arguments,
)


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - started


def median(command: list[str], repeat: int, before=None) -> float:
    runs = []
    for i in range(repeat):
        if before:
            before(i)
        runs.append(timed(command))
    return statistics.median(runs)


def change_one_file(home: Path, year: int, i: int) -> None:
    from pipeline.synth import UnitHistory, submission
    from pipeline.workbook.writer import write_template
    from schemas import format_for_year

    code = "U0003"
    cells = submission(
        format_for_year(year), f"基准单位{code}", year, random.Random(f"change-{i}"), UnitHistory()
    )
    path = home / "inbox" / str(year) / code / f"{code}.xlsx"
    write_template(
        format_for_year(year), path, unit_code=code, unit_name=f"基准单位{code}", year=year, values=cells
    )


# The build without Word/PDF documents, which have their own benchmark
# --formats option exists; an older CLI builds what it builds).
FORMATS = ["--formats", "html,md"]


def bench(units: int, repeat: int, year: int = 2025) -> dict:
    home = REPO / "build" / "bench" / f"n{units}"
    inbox = home / "inbox" / str(year)
    if not inbox.is_dir() or len(list(inbox.iterdir())) != units:
        print(f"生成 {units} 个单位的工作簿…", flush=True)
        generate(home, units, year)
    python, nianbao = str(BIN / "python"), str(BIN / "nianbao")
    floor = [python, "benchmarks/floor_parse.py", str(inbox)]
    build = [nianbao, "build", "--year", str(year), "--home", str(home), *FORMATS]

    def fresh(_, subs=("archive", "warehouse", "reports")):
        set_aside(home, subs)

    fresh(0, ("archive", "warehouse", "reports", "dagster"))
    first_build = timed(build)  # a new home: the Dagster instance is created too

    dagster_home = REPO / "build" / "bench" / "dagster-floor"
    if not (dagster_home / "dagster").is_dir():
        bench_home(dagster_home, 0)
        timed([python, "benchmarks/floor_dagster.py", "--home", str(dagster_home)])  # creates the instance
    csv_home = REPO / "build" / "bench" / f"n{units}-csv"
    csv_inbox = csv_home / "inbox" / str(year)
    if not csv_inbox.is_dir() or len(list(csv_inbox.iterdir())) != units:
        generate(csv_home, units, year, csv=True)
    csv_floor = [python, "benchmarks/floor_parse.py", str(csv_inbox), "--csv"]
    csv_build = [nianbao, "build", "--year", str(year), "--home", str(csv_home), *FORMATS]

    def fresh_csv(_):
        set_aside(csv_home)

    timed(csv_build)  # the instance of the CSV home exists before the timed builds

    history_home = REPO / "build" / "bench" / f"n{units}-csv-history"
    history_inbox = history_home / "inbox" / str(year)
    if not history_inbox.is_dir() or len(list(history_inbox.iterdir())) != units:
        generate_years(history_home, units, (year - 1, year), csv=True)
    history_floor = [python, "benchmarks/floor_parse.py", str(history_inbox), "--csv"]
    history_build = [nianbao, "build", "--home", str(history_home), *FORMATS]

    def fresh_history(_):
        set_aside(history_home)
        timed([*history_build, "--year", str(year - 1)])  # last year on record, not timed

    # Each cold build right after its floor, so that a change in the machine's load
    # (other sessions share it) moves both; the ratio is the median of the pairs'.
    pairs: dict[str, list[tuple[float, float]]] = {"xlsx": [], "csv": [], "history": []}
    for _ in range(repeat):
        pairs["xlsx"].append((timed(floor), median(build, 1, before=fresh)))
        pairs["csv"].append((timed(csv_floor), median(csv_build, 1, before=fresh_csv)))
        fresh_history(0)
        pairs["history"].append((timed(history_floor), timed([*history_build, "--year", str(year)])))
    result = {
        "units": units,
        "parse_floor_s": statistics.median(f for f, _ in pairs["xlsx"]),
        "cold_build_s": statistics.median(c for _, c in pairs["xlsx"]),
        "cold_ratio": statistics.median(c / f for f, c in pairs["xlsx"]),
        "csv_floor_s": statistics.median(f for f, _ in pairs["csv"]),
        "csv_cold_build_s": statistics.median(c for _, c in pairs["csv"]),
        "csv_cold_ratio": statistics.median(c / f for f, c in pairs["csv"]),
        "history_floor_s": statistics.median(f for f, _ in pairs["history"]),
        "history_cold_build_s": statistics.median(c for _, c in pairs["history"]),
        "history_cold_ratio": statistics.median(c / f for f, c in pairs["history"]),
        "import_floor_s": median([python, "benchmarks/floor_parse.py", "-", "--import-only"], repeat),
        "dagster_floor_s": median(
            [python, "benchmarks/floor_dagster.py", "--home", str(dagster_home)], repeat
        ),
        "first_build_s": first_build,
        "rebuild_one_changed_s": median(build, repeat, before=lambda i: change_one_file(home, year, i)),
    }
    result["rebuild_ratio"] = result["rebuild_one_changed_s"] / result["import_floor_s"]
    return result


def main() -> None:
    args = size_arguments(__doc__)
    compile_sources()
    rows = [bench(n, args.repeat) for n in args.units]
    print(
        f"\n{'N':>5} {'解析下限':>8} {'冷启动(xlsx)':>12} {'比值':>5}   {'CSV下限':>7} {'冷启动(CSV)':>11} {'比值':>5}"
    )
    for r in rows:
        print(
            f"{r['units']:>5} {r['parse_floor_s']:>7.2f}s {r['cold_build_s']:>11.2f}s {r['cold_ratio']:>5.2f}"
            f"   {r['csv_floor_s']:>6.2f}s {r['csv_cold_build_s']:>10.2f}s {r['csv_cold_ratio']:>5.2f}"
        )
    print("目标：冷启动比值 <= 2.0（xlsx 与 CSV 各自对照同一次运行中测得的下限）")
    print(f"\n{'N':>5} {'CSV下限':>7} {'有上年数据的冷启动(CSV)':>22} {'比值':>5}")
    for r in rows:
        print(
            f"{r['units']:>5} {r['history_floor_s']:>6.2f}s {r['history_cold_build_s']:>21.2f}s"
            f" {r['history_cold_ratio']:>5.2f}"
        )
    print("有历史的数据目录：上一年度已编制，本年度冷启动（含同比、趋势图）；目标 <= 2.0。")
    print(
        f"\n{'N':>5} {'导入下限':>8} {'Dagster下限':>11} {'新目录首次编制':>14} {'改一个文件后重编':>16} {'比值':>5}"
    )
    for r in rows:
        print(
            f"{r['units']:>5} {r['import_floor_s']:>7.2f}s {r['dagster_floor_s']:>10.2f}s "
            f"{r['first_build_s']:>13.2f}s {r['rebuild_one_changed_s']:>15.2f}s {r['rebuild_ratio']:>5.2f}"
        )
    print(
        "Dagster 下限：同样的导入、数据目录的实例、年度作业形状的空步骤；冷启动减去它即 nianbao 自己的工作。"
    )
    print("重编比值对照导入下限（目标 <= 1.5）；新目录首次编制含创建 Dagster 实例。")
    out = REPO / "build" / "bench" / "results.json"
    out.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print(f"结果已写入 {out}")


if __name__ == "__main__":
    main()
