"""A hostile district against the same district without its junk file.

    .venv/bin/python benchmarks/bench_hostile.py [--units 80] [--repeat 3]

Two homes of N synthetic units (benchmarks/generate.py): a clean one, and the same
with one more unit that hands in a 20 MB junk CSV (the largest file the portal
accepts: lines of nonsense the reader must refuse). Each is built cold with
`nianbao build --formats html,md`; the figures are the median wall time and the peak resident
memory of the build process and its children (ru_maxrss). Targets (issue 11):
hostile build <= 1.5 x clean build, peak memory <= 500 MB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from benchmarks.generate import compile_sources, generate, set_aside  # noqa: E402

YEAR = 2025
JUNK_BYTES = 20 * 1024 * 1024 - 1024  # just under the 20 MB limit


def add_junk_unit(home: Path) -> None:
    with open(home / "registry" / "units.csv", "a", encoding="utf-8") as f:
        f.write("JUNK,垃圾数据单位,部门,2008,\n")
    line = b"junk,junk,junk,junk\n"
    body = b"table,row,column,value\n" + line * ((JUNK_BYTES - 23) // len(line))
    folder = home / "inbox" / str(YEAR) / "JUNK"
    folder.mkdir(parents=True)
    (folder / "junk.csv").write_bytes(body)


def cold_build(home: Path) -> tuple[float, float]:
    """(seconds, peak MB) of one cold build of `home` in a fresh process."""
    set_aside(home)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: measure in a fresh
    # interpreter per build so that the figure is this build's.
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    # Without the Word/PDF documents: they come after the reports and have their own
    # benchmark (bench_documents.py); the junk file's cost is in reading and checking.
    command = [
        str(BIN / "nianbao"),
        "build",
        "--year",
        str(YEAR),
        "--home",
        str(home),
        "--formats",
        "html,md",
    ]
    out = subprocess.run([sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True)
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench-hostile")
    args = parser.parse_args()
    compile_sources()
    clean = generate(args.out / "clean", args.units, YEAR)
    hostile = generate(args.out / "hostile", args.units, YEAR)
    add_junk_unit(hostile)
    figures = {}
    for name, home in (("clean", clean), ("hostile", hostile)):
        runs = [cold_build(home) for _ in range(args.repeat)]
        figures[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
        print(f"{name:8s} N={args.units}: build {figures[name][0]:.2f} s, peak {figures[name][1]:.0f} MB")
    ratio = figures["hostile"][0] / figures["clean"][0]
    print(
        f"hostile / clean: {ratio:.2f} x (target <= 1.5); hostile peak {figures['hostile'][1]:.0f} MB (target <= 500)"
    )
    import pandas as pd

    status = hostile / "warehouse" / str(YEAR) / "status.parquet"
    junk = pd.read_parquet(status).set_index("unit").loc["JUNK"]
    print(f"junk unit: {junk['status']}, {junk['errors']} errors, {junk['warnings']} warnings")


if __name__ == "__main__":
    main()
