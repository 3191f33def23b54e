"""Generate a data home with N synthetic units' filled workbooks (.xlsx) for one year.

.venv/bin/python benchmarks/generate.py --units 80 --year 2025 --out build/bench/n80
"""

from __future__ import annotations

import argparse
import atexit
import random
import shutil
import uuid
from pathlib import Path

from pipeline.synth import UnitHistory, submission, to_csv
from pipeline.workbook.writer import write_template
from schemas import format_for_year


def bench_home(out: Path, units: int) -> list[str]:
    """An empty home (home.toml, a registry of `units` units) at `out`, replacing what was
    there; returns the unit codes."""
    set_aside(out.parent, (out.name,))  # see TRASH: a build is timed right after this
    (out / "registry").mkdir(parents=True)
    (out / "home.toml").write_text(
        'district = "基准区"\ngovernment = "基准区人民政府办公室"\n', encoding="utf-8"
    )
    codes = [f"U{i:04d}" for i in range(units)]
    lines = ["code,name,kind,first_year,last_year"] + [f"{c},基准单位{c},部门,2008," for c in codes]
    (out / "registry" / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return codes


# Outputs of the last run are moved aside, not deleted, before a timed cold build, and
# deleted when the benchmark ends. On ext4 without a journal (this machine's disk), an
# inode freed within the last seconds to minutes is skipped when a new file is created,
# one by one: after deleting a 1000-unit build's 3,000 files, each file the next build
# creates took 0.6-1 ms instead of 0.02 ms (strace: in openat), 2 s of a cold build,
# which a new home never pays. (`mount` or dmesg says whether a disk has a journal.)
# Emptying the trash at exit has the same effect on whatever creates files in the next
# half minute or so: start another benchmark after that.
TRASH = Path(__file__).resolve().parents[1] / "build" / "bench" / "trash"


def set_aside(home: Path, subs: tuple[str, ...] = ("archive", "warehouse", "reports")) -> None:
    """Move `home`'s `subs` out of the way (into TRASH, deleted at exit)."""
    for sub in subs:
        if (home / sub).exists():
            TRASH.mkdir(parents=True, exist_ok=True)
            (home / sub).rename(TRASH / uuid.uuid4().hex)


@atexit.register
def _empty_trash() -> None:
    shutil.rmtree(TRASH, ignore_errors=True)


def compile_sources() -> None:
    """Byte-compile nianbao's own modules, as an installed package is: timed processes then
    load them as the floors load the libraries (from .pyc), whatever PYTHONDONTWRITEBYTECODE
    says (set on some machines, it makes every process compile ~15k lines from source, ~0.2 s)."""
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("pipeline", "schemas", "benchmarks"):
        compileall.compile_dir(root / package, quiet=1)


def size_arguments(doc: str | None) -> argparse.Namespace:
    """The benchmarks' command line: --units (the district sizes) and --repeat."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, nargs="+", default=[80, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


def generate(out: Path, units: int, year: int, *, csv: bool = False) -> Path:
    """A home of `units` synthetic units for `year`: filled workbooks, or interchange CSV files."""
    return generate_years(out, units, (year,), csv=csv)


def generate_years(out: Path, units: int, years: tuple[int, ...], *, csv: bool = False) -> Path:
    """A home of `units` synthetic units with a submission for each of `years`, each
    year carrying over from the one before (a home with history: the review page then
    draws trend charts)."""
    codes = bench_home(out, units)
    for code in codes:
        rng, history = random.Random(code), UnitHistory()
        for year in years:
            fmt = format_for_year(year)
            cells = submission(fmt, f"基准单位{code}", year, rng, history)
            if csv:
                path = out / "inbox" / str(year) / code / f"{code}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(to_csv(cells))
                continue
            write_template(
                fmt, out / "inbox" / str(year) / code / f"{code}.xlsx",
                unit_code=code, unit_name=f"基准单位{code}", year=year, values=cells,
            )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=80)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--csv", action="store_true", help="interchange CSV files instead of workbooks")
    args = parser.parse_args()
    print(generate(args.out, args.units, args.year, csv=args.csv))


if __name__ == "__main__":
    main()
