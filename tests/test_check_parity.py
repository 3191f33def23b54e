"""One per-file check for every door: for every file in use in every demo year
(legacy, trial and national formats) and for every file of the hostile corpus,
`nianbao check` prints exactly the messages the build gives that unit's file.

The build reads each file with the same `read_file` and runs the format's rules
over all units at once; `nianbao check` runs them over the one file. Rules are
per unit, so the two must agree message for message.
"""

from __future__ import annotations

import pytest
from conftest import build, hand_in, valid_cells, write_home
from hostile.corpus import CASES, UNIT, YEAR

from pipeline.cli import main
from pipeline.home import Home
from pipeline.region import is_region
from pipeline.synth import to_csv
from pipeline.warehouse import Warehouse


def nianbao_check(capsys, home: Home, path, unit: str, year: int) -> list[str]:
    """The message lines `nianbao check` prints for the file at `path`."""
    main(["check", str(path), "--unit", unit, "--year", str(year), "--home", str(home.root)])
    out = capsys.readouterr().out
    return [line for line in out.splitlines() if line.startswith("【")]


def build_lines(home: Home, year: int, unit: str) -> list[str]:
    return [m.render() for m in Warehouse.of(home, year).read_messages("messages") if m.unit == unit]


@pytest.fixture(scope="module")
def demo_homes(tmp_path_factory):
    target = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--home", str(target), "--formats", "html,md"]) == 0
    homes = [Home.resolve(p) for p in sorted(target.iterdir())]
    # The district homes; the demo city (a region home: no inbox of its own) is checked below.
    return [h for h in homes if not is_region(h)]


def test_demo_city_has_each_district_and_its_totals_are_their_sums(demo_homes):
    """`nianbao demo` also builds 示范市 over three districts (issue 18): its open data carries
    each district as a unit, and the city's rows (unit `region`) are their sums."""
    import csv
    from decimal import Decimal

    city = demo_homes[0].root.parent / "shifanshi"
    with open(city / "reports" / "2025" / "open-data" / "figures.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["unit"] for r in rows} == {"region", "shifanqu", "xiqu", "beiqu"}
    sums: dict = {}
    for r in rows:
        if r["unit"] != "region":
            key = (r["table"], r["row"], r["column"])
            sums[key] = sums.get(key, Decimal(0)) + Decimal(r["value"])
    totals = {(r["table"], r["row"], r["column"]): Decimal(r["value"]) for r in rows if r["unit"] == "region"}
    assert totals == sums and len(totals) > 100
    page = (city / "reports" / "2025" / "region" / "index.html").read_text(encoding="utf-8")
    assert "R2" in page and "北区" in page and "行政许可" in page


def test_check_equals_build_for_every_demo_file(demo_homes, capsys):
    compared = {"legacy": 0, "trial-2019": 0, "national-2021": 0}
    for home in demo_homes:
        for year_dir in sorted((home.root / "inbox").iterdir()):
            year = int(year_dir.name)
            files = Warehouse.of(home, year).read("files")
            for row in files[files["in_use"]].itertuples():
                path = year_dir / row.unit / row.file
                assert nianbao_check(capsys, home, path, row.unit, year) == build_lines(
                    home, year, row.unit
                ), f"{home.root.name} {year} {row.unit} {row.file}"
                code = "legacy" if year < 2019 else ("trial-2019" if year < 2021 else "national-2021")
                compared[code] += 1
    assert all(n > 0 for n in compared.values()), compared


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    """A district of three units; A hands in a valid file every time, B a hostile one."""
    root = tmp_path_factory.mktemp("hostile")
    home = write_home(root / "home", [("A", "甲局"), ("B", "乙局"), ("C", "丙街道")])
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=1)))
    return home


@pytest.mark.parametrize(
    "case", [c for c in CASES if "/" not in c.name and "\\" not in c.name], ids=lambda c: c.id
)
def test_check_equals_build_for_every_hostile_file(case, hostile_home, tmp_path, capsys):
    assert UNIT == "B"
    folder = hostile_home.inbox_dir(YEAR) / "B"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    data = case.build(tmp_path)
    try:
        path = hand_in(hostile_home, YEAR, "B", case.name, data)
    except (OSError, ValueError):
        pytest.skip("the file system cannot hold this name (the portal test covers it)")
    build(hostile_home, YEAR)
    assert nianbao_check(capsys, hostile_home, path, "B", YEAR) == build_lines(hostile_home, YEAR, "B")
    # The other unit's report is the same whatever B handed in.
    a_report = (hostile_home.reports_dir(YEAR) / "units" / "A.md").read_text(encoding="utf-8")
    assert a_report == A_REPORT.setdefault("md", a_report) and "甲局" in a_report


A_REPORT: dict[str, str] = {}  # unit A's report from the first hostile build, for the others to equal
