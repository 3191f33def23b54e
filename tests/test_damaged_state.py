"""Damaged state never reaches an output (issue 20, rows D07, D08, D09 and the parse
cache note; the "last year not built" bullet): each fault is made for real in a
real home, and the build, `verify`, `template` and the portal are run against it."""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import build, hand_in, valid_cells, write_home
from hostile.client import Client

from pipeline.home import Home, PreviousYearNotBuilt
from pipeline.ingest.archive import read_manifest
from pipeline.portal.app import create_app
from pipeline.portal.server import running
from pipeline.portal.store import Store
from pipeline.steps.intake import collect
from pipeline.steps.preflight import PreflightError, preflight
from pipeline.synth import UnitHistory, to_csv
from pipeline.warehouse import Warehouse

UNITS = [("A", "甲局"), ("B", "乙局")]


def nianbao(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("NIANBAO_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


def lines_of_failure(stderr: str) -> list[str]:
    """stderr without the progress lines ("HH:MM:SS  …")."""
    return [line for line in stderr.splitlines() if line.strip() and not line[:2].isdigit()]


def two_years(tmp_path: Path) -> Home:
    """A home with 2024 and 2025 handed in and built, in order."""
    home = write_home(tmp_path / "home", UNITS)
    for seed, (unit, _) in enumerate(UNITS, 1):
        history = UnitHistory()
        for year in (2024, 2025):
            hand_in(
                home, year, unit, f"{unit}{year}.csv", to_csv(valid_cells(year, seed=seed, history=history))
            )
    build(home, 2024)
    build(home, 2025)
    return home


def report_bytes(home: Home, year: int) -> dict[str, bytes]:
    folder = home.reports_dir(year)
    return {p.name: p.read_bytes() for p in (folder / "report.html", folder / "report.md")}


# --- D07: a damaged last year stops the build before anything is written -------------


def test_d07_corrupt_last_year_stops_the_build_and_leaves_the_reports_alone(tmp_path):
    home = two_years(tmp_path)
    before = report_bytes(home, 2025)
    accepted = Warehouse.of(home, 2024).path("accepted")
    data = accepted.read_bytes()
    accepted.write_bytes(data[: len(data) // 2] + b"\x00garbage" * 50)

    done = nianbao("build", "--home", str(home.root), "--year", "2025", "--formats", "html,md")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    [line] = lines_of_failure(done.stderr)
    assert "warehouse/2024/accepted.parquet" in line and "已损坏" in line
    assert f"nianbao build --home {home.root} --year 2024" in line
    assert report_bytes(home, 2025) == before  # never rewritten with "上年无可比数据"

    out = tmp_path / "模板.xlsx"
    done = nianbao("template", "--home", str(home.root), "--year", "2025", "--unit", "A", "-o", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr and not out.exists()
    [line] = done.stderr.strip().splitlines()
    assert "warehouse/2024/accepted.parquet" in line and "--year 2024" in line

    # The command the line gives puts it right: 2024 rebuilt, 2025 builds again.
    build(home, 2024)
    build(home, 2025)
    assert report_bytes(home, 2025) == before


def test_a_table_lacking_its_columns_is_damage(tmp_path):
    home = two_years(tmp_path)
    import pandas as pd

    from pipeline.home import write_parquet

    write_parquet(pd.DataFrame({"unit": ["A"]}), Warehouse.of(home, 2024).path("status"))
    with pytest.raises(PreflightError, match=r"warehouse/2024/status.parquet 已损坏（缺少列 status"):
        preflight(home, 2025)


def test_office_text_not_in_utf8_stops_the_build(tmp_path):
    home = write_home(tmp_path / "home", UNITS)
    folder = home.root / "texts" / "2025"
    folder.mkdir(parents=True)
    (folder / "preamble.md").write_bytes("前言".encode("gb18030"))
    with pytest.raises(PreflightError, match=r"texts/2025/preamble.md 不是 UTF-8"):
        preflight(home, 2025)


# --- last year not built is not "no last year" ----------------------------------------


def test_last_year_handed_in_but_not_built_stops_with_the_command(tmp_path):
    home = write_home(tmp_path / "home", UNITS)
    for year in (2024, 2025):
        hand_in(home, year, "A", f"a{year}.csv", to_csv(valid_cells(year, seed=1)))
    with pytest.raises(PreviousYearNotBuilt, match=rf"nianbao build --home {home.root} --year 2024"):
        preflight(home, 2025)
    assert not Warehouse.of(home, 2025).root.exists()  # nothing written
    build(home, 2024)
    preflight(home, 2025)  # built now: the build goes ahead
    build(home, 2025)


def test_no_submissions_last_year_is_genuinely_no_last_year(tmp_path):
    home = write_home(tmp_path / "home", UNITS)
    hand_in(home, 2025, "A", "a.csv", to_csv(valid_cells(2025, seed=1)))
    (home.inbox_dir(2024) / "A").mkdir(parents=True)  # an empty folder is not a submission
    preflight(home, 2025)
    build(home, 2025)


# --- the parse cache is data only -----------------------------------------------------


class Trap:
    """Unpickling this writes a marker file: it must never happen."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "executed"))


def test_a_crafted_or_damaged_parse_cache_never_runs_and_is_rebuilt(tmp_path):
    home = write_home(tmp_path / "home", UNITS)
    hand_in(home, 2025, "A", "a.csv", to_csv(valid_cells(2025, seed=1)))
    hand_in(home, 2025, "B", "b.csv", to_csv(valid_cells(2025, seed=2)))
    first = collect(home, 2025, home.registry())
    assert first.parsed == 2
    assert collect(home, 2025, home.registry()).parsed == 0  # the cache is used

    marker = tmp_path / "executed.txt"
    warehouse = Warehouse.of(home, 2025)
    (warehouse.root / "parse_cache.pickle").write_bytes(pickle.dumps(Trap(marker)))
    cells_path, messages_path = warehouse.parse_cache
    for path in (cells_path, messages_path):
        path.write_bytes(pickle.dumps(Trap(marker)))
    again = collect(home, 2025, home.registry())
    assert not marker.exists()
    assert again.parsed == 2  # ignored and rebuilt
    assert again.cells.equals(first.cells) and again.messages == first.messages
    assert not (warehouse.root / "parse_cache.pickle").exists()
    assert collect(home, 2025, home.registry()).parsed == 0  # the rebuilt cache is used

    messages_path.write_text('{"format": 1, "rows": {}, "problems": {"x": [{"severity": 3}]}}')
    assert collect(home, 2025, home.registry()).parsed == 2


# --- D08: the manifest cannot lose history silently -----------------------------------


def manifest(home: Home) -> sqlite3.Connection:
    return sqlite3.connect(home.archive / "manifest.sqlite", isolation_level=None)


def test_d08_deleted_rows_are_damage_not_new_receipts(tmp_path):
    home = two_years(tmp_path)
    before = read_manifest(home.archive)
    db = manifest(home)
    db.execute("DELETE FROM manifest WHERE unit = 'A' AND year = 2025")
    db.close()

    done = nianbao("verify", "--home", str(home.root))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "A 2025 年度的“A2025.csv”" in done.stdout and "清单丢失了记录" in done.stdout

    with pytest.raises(PreflightError, match=r"缺少 A 2025 年度“A2025.csv”的记录"):
        preflight(home, 2025)
    from pipeline.ingest.archive import ArchiveError

    with pytest.raises(ArchiveError, match="清单丢失了记录"):  # the intake alone never re-adds it either
        collect(home, 2025, home.registry())
    assert len(read_manifest(home.archive)) == len(before) - 1


def test_d08_malformed_received_at_is_reported_everywhere(tmp_path):
    home = two_years(tmp_path)
    db = manifest(home)
    db.execute("UPDATE manifest SET received_at = 'yesterday' WHERE unit = 'B' AND year = 2025")
    db.close()

    done = nianbao("verify", "--home", str(home.root))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "收到时间“yesterday”不是带时区的时间" in done.stdout

    before = report_bytes(home, 2025)
    done = nianbao("build", "--home", str(home.root), "--year", "2025", "--formats", "html,md")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    [line] = lines_of_failure(done.stderr)
    assert "yesterday" in line and "manifest.sqlite" in line
    assert report_bytes(home, 2025) == before

    store = Store(home)
    token = store.issue_token("office")[1]
    with running(create_app(home)) as base:
        client = Client(base)
        client.login(token)
        page = client.get("/office?year=2025")
        assert page.status_code == 503 and "yesterday" in page.text  # never a 500


# --- D09: the portal and the build agree on the unit's current file -------------------

STOP_BEFORE_LANDING = """
import os, sys
from pipeline.home import Home
from pipeline.portal import submit
from pipeline.portal.store import Store

def killed(*args, **kwargs):
    os._exit(9)  # the process dies here: recorded, not yet in the inbox

submit._land = killed
home = Home.resolve(sys.argv[1])
submit.receive(home, Store(home), "A", 2025, "second.csv", open(sys.argv[2], "rb").read())
"""


def current_files(home: Home) -> tuple[str, str]:
    """(the build's file in use for unit A, the portal's version in use for A)."""
    intake = collect(home, 2025, home.registry())
    in_use = intake.files[intake.files["in_use"] & (intake.files["unit"] == "A")]
    accepted = [u for u in Store(home).uploads(year=2025, unit="A") if u.outcome == "accepted"]
    return str(in_use["file"].iloc[0]), accepted[-1].stored_name


def portal_home(tmp_path: Path) -> Home:
    from pipeline.portal.submit import receive

    home = write_home(tmp_path / "home", UNITS)
    receive(home, Store(home), "A", 2025, "first.csv", to_csv(valid_cells(2025, seed=1)))
    return home


def test_d09_a_portal_stopped_before_landing_is_finished_on_restart(tmp_path):
    home = portal_home(tmp_path)
    second = tmp_path / "second.csv"
    second.write_bytes(to_csv(valid_cells(2025, seed=5)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", STOP_BEFORE_LANDING, str(home.root), str(second)], env=env, timeout=300
    )
    assert done.returncode == 9
    versions = Store(home).uploads(year=2025, unit="A")
    assert [(u.version, u.outcome, u.in_inbox) for u in versions] == [
        (1, "accepted", True),
        (2, "accepted", False),
    ]
    assert not (home.inbox_dir(2025) / "A" / "second.csv").exists()

    create_app(home)  # the portal starting again finishes the landing from the archive
    assert (home.inbox_dir(2025) / "A" / "second.csv").read_bytes() == second.read_bytes()
    assert all(u.in_inbox for u in Store(home).uploads(year=2025, unit="A"))
    assert current_files(home) == ("second.csv", "second.csv")


def test_d09_an_unrecorded_inbox_file_is_recorded_with_its_arrival(tmp_path):
    """What a portal of the earlier release left: the file landed, no version recorded."""
    home = portal_home(tmp_path)
    stray = hand_in(home, 2025, "A", "landed.csv", to_csv(valid_cells(2025, seed=6)))
    arrived = int((home.inbox_dir(2025) / "A" / "first.csv").stat().st_mtime) + 60  # after version 1
    os.utime(stray, (arrived, arrived))
    refused = hand_in(home, 2025, "A", "broken.csv", b"not,a,form\n")
    os.utime(refused, (arrived + 60, arrived + 60))
    hand_in(home, 2025, "B", "b.csv", to_csv(valid_cells(2025, seed=2)))  # B never used the portal

    done = nianbao("build", "--home", str(home.root), "--year", "2025", "--formats", "html,md")
    assert done.returncode == 0, done.stderr
    assert "门户记录核对" in done.stderr
    versions = Store(home).uploads(year=2025)
    assert [(u.unit, u.version, u.stored_name, u.outcome) for u in versions] == [
        ("A", 1, "first.csv", "accepted"),
        ("A", 2, "landed.csv", "accepted"),
        ("A", 3, "broken.csv", "rejected"),
    ]
    assert versions[1].received == datetime.fromtimestamp(arrived, UTC)  # its true arrival
    assert (home.root / "quarantine" / "2025" / "A" / "broken.csv").exists()
    assert current_files(home) == ("landed.csv", "landed.csv")
    status = Warehouse.of(home, 2025).read("status").set_index("unit")
    assert status.loc["A", "file"] == "landed.csv" and status.loc["B", "file"] == "b.csv"


@pytest.mark.parametrize("damage", ["[1, 2]", '{"report.html": 3}', "not json"])
def test_a_damaged_render_digests_file_is_ignored(tmp_path, damage):
    from pipeline.render.outputs import DIGESTS, _read_digests

    (tmp_path / DIGESTS).write_text(damage, encoding="utf-8")
    assert _read_digests(tmp_path) == {}


def test_check_of_one_file_goes_on_without_an_unbuilt_last_year_and_says_so(tmp_path, capsys):
    from conftest import hand_in, valid_cells, write_home

    from pipeline.cli import main
    from pipeline.synth import to_csv

    home = write_home(tmp_path / "home", [("A", "甲局")])
    hand_in(home, 2024, "A", "a.csv", to_csv(valid_cells(2024, seed=1)))  # handed in, never built
    path = tmp_path / "a2025.csv"
    path.write_bytes(to_csv(valid_cells(2025, seed=2)))
    code = main(["check", str(path), "--unit", "A", "--year", "2025", "--home", str(home.root)])
    out = capsys.readouterr().out
    assert code == 0 and "N7、N8 未核对" in out and "nianbao build" in out
