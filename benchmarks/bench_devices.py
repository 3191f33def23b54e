"""What each speed device buys: cold builds with one device switched off, against the same floors.

    .venv/bin/python benchmarks/bench_devices.py [--units 80 1000] [--repeat 2] [--kinds xlsx csv]
                                                 [--devices storage gc ...]

For each N, on the homes of bench_build.py (generated when missing): in each round, for
each kind (xlsx, CSV) and each device (and "none", everything on), the floor (parse floor
for xlsx, CSV read floor for CSV) and right after it a cold build without the device. A
device's figure is the median of its builds' ratios to their floors; what it buys is the
ratio without it over the ratio with everything on, minus one (a share of today's build).

Every device is switched off from outside the code, as an operator or a test would: the
home's dagster.yaml without its `instance_class` section (the storage's opt-out), or the
build started through `pipeline.cli` with one piece replaced (LAUNCH).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_build import BIN, FORMATS  # noqa: E402
from benchmarks.generate import compile_sources, generate, set_aside  # noqa: E402

# The build as the console script runs it (`run`), after one replacement.
LAUNCH = "import sys\nfrom pipeline import cli\n{patch}\nsys.argv = ['nianbao', *sys.argv[1:]]\n{start}\n"
RUN = "cli.run()"
# forked.both run in this process, one after the other, for one step's asset module only.
FORK_OFF = (
    "import pipeline.forked as f\nreal = f.both\n"
    "def both(first, second):\n"
    "    if sys._getframe(1).f_globals['__name__'].endswith('.{step}'):\n"
    "        return first(), second()\n"
    "    return real(first, second)\n"
    "f.both = both"
)
DEVICES = {
    "none": ("", RUN),
    # Dagster's own instance class on the same files (deploy/dagster-upgrade.md); the
    # fsync pragma goes with it.
    "storage": ("", RUN),
    "pragma": ("import pipeline.ops.storage as s\ns._commits_without_fsync = lambda *a: None", RUN),
    # main() outside the collector's context; the intake prefetch still forks.
    "gc": ("", "cli._COMMAND_PROCESS = True\nsys.exit(cli.main())"),
    "prefetch": ("import pipeline.ops.build as b\nb.start_intake_prefetch = lambda *a: None", RUN),
    "fork_reports": (FORK_OFF.format(step="reports"), RUN),
    "fork_insight": (FORK_OFF.format(step="insight"), RUN),
    "capture": ("import pipeline.ops.instance as i\ni.IN_PROCESS_OVERRIDES = {}", RUN),
}
STORAGE_SECTION = "instance_class:\n  module: pipeline.ops.storage\n  class: HomeInstance\n"


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - started


def build_without(device: str, home: Path, build: list[str]) -> float:
    """A cold build of `home` without `device`."""
    patch, start = DEVICES[device]
    config = home / "dagster" / "dagster.yaml"
    text = config.read_text(encoding="utf-8")
    if device == "storage":
        config.write_text(text.replace(STORAGE_SECTION, ""), encoding="utf-8")
    try:
        return timed([str(BIN / "python"), "-c", LAUNCH.format(patch=patch, start=start), *build])
    finally:
        config.write_text(text, encoding="utf-8")


def home_of(units: int, csv: bool, year: int) -> Path:
    home = REPO / "build" / "bench" / (f"n{units}-csv" if csv else f"n{units}")
    inbox = home / "inbox" / str(year)
    if not inbox.is_dir() or len(list(inbox.iterdir())) != units:
        print(f"生成 {units} 个单位的{'CSV' if csv else '工作簿'}…", flush=True)
        generate(home, units, year, csv=csv)
    return home


def bench(units: int, devices: list[str], repeat: int, kinds: list[str], year: int = 2025) -> dict:
    python, nianbao = str(BIN / "python"), str(BIN / "nianbao")
    rows: dict[str, dict[str, list[tuple[float, float]]]] = {}
    commands = {}
    for kind in kinds:
        home = home_of(units, kind == "csv", year)
        floor = [python, "benchmarks/floor_parse.py", str(home / "inbox" / str(year))]
        floor += ["--csv"] if kind == "csv" else []
        build = ["build", "--year", str(year), "--home", str(home), *FORMATS]
        timed([nianbao, *build])  # the home's instance exists before the timed builds
        commands[kind] = home, floor, build
    # Round by round, each round starting one device further on, so that a change in the
    # machine's load during a round does not always fall on the same devices.
    for round_ in range(repeat):
        order = devices[round_ % len(devices) :] + devices[: round_ % len(devices)]
        for kind, (home, floor, build) in commands.items():
            for device in order:
                floor_s = timed(floor)
                set_aside(home)
                build_s = build_without(device, home, build)
                rows.setdefault(device, {}).setdefault(kind, []).append((floor_s, build_s))
                print(
                    f"  N={units} {kind} 关闭 {device}: 下限 {floor_s:.2f}s 冷启动 {build_s:.2f}s", flush=True
                )
    result = {}
    for device, kinds in rows.items():
        for kind, pairs in kinds.items():
            result.setdefault(device, {})[kind] = {
                "floor_s": statistics.median(f for f, _ in pairs),
                "build_s": statistics.median(b for _, b in pairs),
                "ratio": statistics.median(b / f for f, b in pairs),
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, nargs="+", default=[80, 1000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", default=["xlsx", "csv"], choices=["xlsx", "csv"])
    parser.add_argument("--devices", nargs="+", default=[d for d in DEVICES if d != "none"], choices=DEVICES)
    args = parser.parse_args()
    compile_sources()
    devices = ["none", *args.devices]
    out = {}
    for units in args.units:
        result = out[units] = bench(units, devices, args.repeat, args.kinds)
        print(
            f"\nN = {units}：关闭一项后的冷启动（比值对照同一次运行的下限；所省 = 关闭后比值 / 全开比值 - 1）"
        )
        for device in devices:
            cells = []
            for kind in args.kinds:
                r, base = result[device][kind], result["none"][kind]
                cells.append(
                    f"{kind} {r['build_s']:.2f}s 比值 {r['ratio']:.2f} 所省 {r['ratio'] / base['ratio'] - 1:+.0%}"
                )
            print(f"  {device:<14} " + "   ".join(cells))
    path = REPO / "build" / "bench" / "devices.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"结果已写入 {path}")


if __name__ == "__main__":
    main()
