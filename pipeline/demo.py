"""Demo homes: copies of data/demo/<district>/ ready to build.

An existing demo home is kept as it is (the portal's tokens and uploads made
while trying it out survive `make demo`); `fresh=True` replaces it. A new copy
gets realistic receipt times: most units hand in during January of the next
year, a few after the 31 January deadline, so the office's matrix shows what
it is for. Times are derived from the unit and year, so every copy agrees.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.home import Home

DEMO_SOURCE = Path(__file__).resolve().parents[1] / "data" / "demo"
BEIJING = timezone(timedelta(hours=8))
LATE_ONE_IN = 8  # about one unit in eight hands in after the deadline


def demo_districts() -> list[Path]:
    return sorted(p for p in DEMO_SOURCE.iterdir() if (p / "home.toml").is_file())


def receipt_time(unit: str, year: int, name: str) -> datetime:
    """A working-hours moment in January of year+1 (deadline 31 January), or for
    about one unit in eight, in the first three weeks of February."""
    seed = int.from_bytes(hashlib.sha256(f"{unit}/{year}/{name}".encode()).digest()[:8], "big")
    late = int.from_bytes(hashlib.sha256(f"{unit}/{year}".encode()).digest()[:2], "big") % LATE_ONE_IN == 0
    day = datetime(year + 1, 2, 2, tzinfo=BEIJING) if late else datetime(year + 1, 1, 6, tzinfo=BEIJING)
    days = seed % (19 if late else 25)
    minutes = 9 * 60 + (seed >> 8) % (8 * 60)  # 09:00-17:00
    return day + timedelta(days=days, minutes=minutes, seconds=(seed >> 20) % 60)


def _stamp_receipts(home: Home, years: list[int]) -> None:
    """Archive every demo file with its receipt time, and give it that mtime."""
    from pipeline.ingest.archive import archive_files
    from pipeline.steps.inbox import read_inbox_file, scan_inbox

    for year in years:
        for unit, path in scan_inbox(home, year):
            if not path.is_file() or path.is_symlink():
                continue
            moment = receipt_time(unit, year, path.name)
            archive_files(home.archive, [(unit, year, path.name, read_inbox_file(path))], received_at=moment)
            stamp = moment.timestamp()
            os.utime(path, (stamp, stamp))


def _years(dest: Path) -> list[int]:
    inbox = dest / "inbox"
    return (
        sorted(int(p.name) for p in inbox.iterdir() if p.is_dir() and p.name.isdigit())
        if inbox.is_dir()
        else []
    )


def make_demo_homes(target: Path, fresh: bool = False) -> list[tuple[Home, list[int], bool]]:
    """Every demo district under `target`: (home, years with files, kept). An
    existing home is kept unless `fresh`, which copies it anew."""
    homes = []
    for source in demo_districts():
        dest = target / source.name
        kept = not fresh and (dest / "home.toml").is_file()
        if not kept:
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        home = Home.resolve(dest)
        years = _years(dest)
        if not kept:
            _stamp_receipts(home, years)
        homes.append((home, years, kept))
    return homes


# --- the demo city (issue 18) ------------------------------------------------------
# 示范市 over three districts: 示范区 (the demo district, run by the city), 西区 (a small
# synthetic district, run by the city) and 北区 (hands in its open-data package). 北区's
# published report, put under published/, differs from its package by one figure, so the
# city's page shows an R2 flag. Made for the demo's latest year only.

CITY = "shifanshi"
CITY_TOML = """\
# 示范市: the demo city (issue 18), a region home over three districts.
district = "示范市"
government = "示范市人民政府办公室"
level = "设区的市"

[region]
deadline = "03-31"   # a district's result for year Y is due on 31 March of Y+1

[[members]]
code = "shifanqu"
name = "示范区"
source = "home"      # members/shifanqu/ is the district's own data home; the city runs its build

[[members]]
code = "xiqu"
name = "西区"
source = "home"

[[members]]
code = "beiqu"
name = "北区"
source = "package"   # members/beiqu/<year>/figures.csv + datapackage.json, as nianbao writes them
"""
# code, name, kind, scale (applications a year) of the synthetic districts' units
SYNTHETIC = {
    "xiqu": ("西区", [("XQZF", "西区人民政府办公室", "部门", 20), ("XQJY", "西区教育局", "部门", 12),
                      ("XQGA", "西区公安分局", "部门", 25), ("XQJD", "西区东街街道办事处", "街道", 8)]),
    "shifanqu": ("示范区", [("SQZF", "示范区人民政府办公室", "部门", 15), ("SQJD", "示范区东湖街道办事处", "街道", 6)]),
    "beiqu": ("北区", [("BQZF", "北区人民政府办公室", "部门", 18), ("BQZJ", "北区住房和城市更新局", "部门", 22),
                       ("BQJD", "北区北苑街道办事处", "街道", 6)]),
}  # fmt: skip


def _synthetic_cells(code: str, year: int) -> dict[str, tuple[str, dict]]:
    """unit code -> (unit name, its valid cells) of a synthetic district for `year`."""
    import random

    from pipeline.synth import UnitHistory, submission
    from schemas import format_for_year

    fmt = format_for_year(year)
    name, units = SYNTHETIC[code]
    rng = random.Random(f"{code}/{year}")
    return {
        unit: (unit_name, submission(fmt, unit_name, year, rng, UnitHistory(), scale, regulations=False))
        for unit, unit_name, _kind, scale in units
    }


def _synthetic_home(dest: Path, code: str, year: int) -> Home:
    """A county-level district home with its units' CSV files for `year` in the inbox."""
    from pipeline.synth import to_csv

    name, units = SYNTHETIC[code]
    (dest / "registry").mkdir(parents=True, exist_ok=True)
    (dest / "home.toml").write_text(
        f'district = "{name}"\ngovernment = "{name}人民政府办公室"\nlevel = "县级"\n', encoding="utf-8"
    )
    rows = ["code,name,kind,first_year,last_year"] + [f"{u},{n},{k},{year}," for u, n, k, _s in units]
    (dest / "registry" / "units.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for unit, (_unit_name, cells) in _synthetic_cells(code, year).items():
        folder = dest / "inbox" / str(year) / unit
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{unit}-{year}.csv").write_bytes(to_csv(cells, unit=unit, year=year))
    home = Home.resolve(dest)
    _stamp_receipts(home, [year])
    return home


def _synthetic_sections(code: str, year: int):
    """The district sections of a synthetic district, as its own build would sum them."""
    import pandas as pd

    from pipeline.steps.sections import all_sections
    from schemas import format_for_year
    from schemas.rules import check_cells

    fmt = format_for_year(year)
    rows = [
        (unit, year, t, r, c, v, f"{unit}-{year}.csv", "", "")
        for unit, (_n, cells) in _synthetic_cells(code, year).items()
        for (t, r, c), v in cells.items()
    ]
    frame = pd.DataFrame(
        rows, columns=["unit", "year", "table", "row", "column", "raw", "file", "sheet", "location"]
    )
    checked = check_cells(frame, fmt).cells
    accepted = checked[checked["ok"] & (checked["kind"] != "")]
    return fmt, {k: v for k, v in all_sections(accepted, fmt).items() if k in fmt.tables}


def _package_member(city: Path, code: str, year: int) -> None:
    """members/<code>/<year>/figures.csv + datapackage.json as the district's build writes
    them (pipeline/steps/opendata.py), and its published report under published/<year>/,
    rendered by the district writers with one figure changed (the R2 case)."""
    import tempfile

    import pandas as pd

    from pipeline.render.reports import build_views
    from pipeline.render.writers import RenderContext
    from pipeline.steps.opendata import write_open_data
    from pipeline.steps.revisions import LOG_COLUMNS
    from pipeline.steps.sections import DISTRICT

    fmt, tables = _synthetic_sections(code, year)
    name, units = SYNTHETIC[code]
    config = {"district": name, "government": f"{name}人民政府办公室"}
    names = {u: n for u, n, _k, _s in units}
    folder = city / "members" / code / str(year)
    with tempfile.TemporaryDirectory(dir=city) as scratch:
        written = write_open_data(
            Path(scratch), fmt, year, config, tables, names, pd.DataFrame(columns=LOG_COLUMNS)
        )
        folder.mkdir(parents=True, exist_ok=True)
        for path in written:
            if path.name in ("figures.csv", "datapackage.json"):
                shutil.move(path, folder / path.name)
        # Handed in on 20 March: in time for the 31 March deadline.
        stamp = datetime(year + 1, 3, 20, 10, tzinfo=BEIJING).timestamp()
        os.utime(folder / "figures.csv", (stamp, stamp))
        # A typo in a figure no total checks (行政许可 decisions): the report still adds up, so
        # only the comparison with the compiled figures (R2) finds it.
        changed = dict(tables)
        proactive = changed["proactive"].copy()
        cell = (
            (proactive["scope"] == DISTRICT)
            & (proactive["row"] == "licensing")
            & (proactive["column"] == "decisions")
        )
        proactive.loc[cell, "value"] = str(int(proactive.loc[cell, "value"].item()) + 1)
        changed["proactive"] = proactive
        narrative = pd.DataFrame(columns=["scope", "row", "column", "value"])
        status = pd.DataFrame({"unit": list(names), "status": "accepted", "name": list(names.values())})
        view, _units = build_views(
            fmt, year, config, {**changed, "narrative": narrative}, status, Home(Path(scratch))
        )
    published = city / "published" / str(year) / f"{code}.html"
    published.parent.mkdir(parents=True, exist_ok=True)
    published.write_text(RenderContext(fmt).html(view), encoding="utf-8")


def make_demo_city(target: Path, year: int, district: Home | None = None) -> Home:
    """build/demo/shifanshi/ made anew: `district` (a built demo district home, e.g.
    build/demo/shifanqu) becomes member shifanqu, with its `year` inbox and last year's
    warehouse; without it, shifanqu is a second synthetic district."""
    city = target / CITY
    if city.exists():
        shutil.rmtree(city)
    (city / "members").mkdir(parents=True)
    (city / "home.toml").write_text(CITY_TOML, encoding="utf-8")
    member = city / "members" / "shifanqu"
    if district is not None:
        # Last year's warehouse (the year-over-year comparison) and this year's parse cache
        # (the units' files are not parsed again).
        parts = ("home.toml", "registry", f"texts/{year}", f"inbox/{year}", f"warehouse/{year - 1}",
                 f"warehouse/{year}/parse_cache.parquet", f"warehouse/{year}/parse_cache.json")  # fmt: skip
        for part in parts:
            source = district.root / part
            if source.is_dir():
                shutil.copytree(source, member / part, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
            elif source.is_file():
                (member / part).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, member / part)
        _stamp_receipts(Home.resolve(member), [year])
    else:
        _synthetic_home(member, "shifanqu", year)
    _synthetic_home(city / "members" / "xiqu", "xiqu", year)
    _package_member(city, "beiqu", year)
    return Home.resolve(city)
