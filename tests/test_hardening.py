"""Faults a security test found (issue 11), each as a test: one file never stops
the year, nothing outside the home is read, concurrent builds agree, messages
per file are bounded, outputs follow the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import build, hand_in, valid_cells, write_home

from pipeline.home import write_parquet
from pipeline.synth import to_csv
from pipeline.warehouse import Warehouse

YEAR = 2025


@pytest.fixture
def district(tmp_path) -> object:
    home = write_home(tmp_path / "home", [("A", "甲局"), ("B", "乙局"), ("C", "丙街道")])
    hand_in(home, YEAR, "A", "a.csv", to_csv(valid_cells(YEAR, seed=1)))
    hand_in(home, YEAR, "C", "c.csv", to_csv(valid_cells(YEAR, seed=3)))
    return home


def messages_of(home, unit: str):
    return [m for m in Warehouse.of(home, YEAR).read_messages("messages") if m.unit == unit]


def status_of(home) -> dict[str, str]:
    status = Warehouse.of(home, YEAR).read("status")
    return dict(zip(status["unit"], status["status"]))


def test_symlink_in_the_inbox_is_refused_and_never_read(district, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("table,row,column,value\nnarrative,overview,text,机密内容\n", encoding="utf-8")
    link = district.inbox_dir(YEAR) / "B" / "b.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    build(district, YEAR)
    b = messages_of(district, "B")
    assert [m.rule for m in b] == ["F16"] and "符号链接" in b[0].text
    assert status_of(district) == {"A": "accepted", "B": "missing", "C": "accepted"}
    for path in [
        *district.root.rglob("*.html"),
        *district.root.rglob("*.md"),
        *district.root.rglob("*.parquet"),
    ]:
        assert "机密内容".encode() not in path.read_bytes(), path
    assert not any(
        p.read_bytes() == secret.read_bytes() for p in (district.archive / "blobs").rglob("*") if p.is_file()
    )


def test_a_linked_unit_folder_is_not_followed(district, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.csv").write_bytes(to_csv(valid_cells(YEAR, seed=2)))
    (district.inbox_dir(YEAR) / "B").symlink_to(outside, target_is_directory=True)
    build(district, YEAR)
    # Year-level notes (e.g. carry-over checks skipped) have no file; the refused folder does.
    assert [m.rule for m in messages_of(district, "") if m.file] == ["F16"]
    assert status_of(district)["B"] == "missing"


def test_a_reader_crash_is_that_units_problem(district, monkeypatch):
    import pipeline.ingest.read as read

    real = read.read_csv

    def crashing(data, origin, year, *rest):
        if origin.unit == "B":
            raise RecursionError("deep")
        return real(data, origin, year, *rest)

    monkeypatch.setattr(read, "read_csv", crashing)
    hand_in(district, YEAR, "B", "b.csv", to_csv(valid_cells(YEAR, seed=2)))
    build(district, YEAR)
    b = messages_of(district, "B")
    assert [m.rule for m in b] == ["F15"] and "RecursionError" in b[0].text and "请" in b[0].text
    assert status_of(district) == {"A": "accepted", "B": "rejected", "C": "accepted"}
    assert (district.reports_dir(YEAR) / "report.md").is_file()


def test_a_rule_crashing_on_one_unit_rejects_that_unit_only(district, monkeypatch):
    from schemas.rules import registry

    real = registry.CHECKERS["identity"]

    def crashing(frame, fmt, ctx, rules, inputs):
        if "B" in set(frame["unit"]):
            raise ZeroDivisionError("boom")
        return real(frame, fmt, ctx, rules, inputs)

    monkeypatch.setitem(registry.CHECKERS, "identity", crashing)
    hand_in(district, YEAR, "B", "b.csv", to_csv(valid_cells(YEAR, seed=2)))
    build(district, YEAR)
    assert [m.rule for m in messages_of(district, "B")] == ["F15"]
    assert status_of(district) == {"A": "accepted", "B": "rejected", "C": "accepted"}


def test_messages_per_file_are_capped_with_a_count_of_the_rest(district):
    lines = ["table,row,column,value"] + [f"applications,received,total,1,extra{i}" for i in range(300)]
    hand_in(district, YEAR, "B", "b.csv", ("\n".join(lines) + "\n").encode())
    build(district, YEAR)
    b = messages_of(district, "B")
    f11 = [m for m in b if m.rule == "F11"]
    summary = [m for m in b if m.rule == "F14"]
    assert len(f11) == 50 and len(summary) == 1 and "250" in summary[0].text
    page = (district.reports_dir(YEAR) / "validation.html").stat().st_size
    assert page < 200_000


def test_parquet_writes_never_share_a_temporary_name(tmp_path):
    frame = pd.DataFrame({"a": list(range(20_000))})
    path = tmp_path / "t.parquet"
    errors: list[BaseException] = []

    def write():
        try:
            for _ in range(10):
                write_parquet(frame, path)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and pd.read_parquet(path).equals(frame)
    assert not list(tmp_path.glob(".*.tmp"))


def test_concurrent_builds_of_one_year_agree_with_a_clean_build(district, tmp_path):
    hand_in(district, YEAR, "B", "b.csv", to_csv(valid_cells(YEAR, seed=2)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "build",
        "--year",
        str(YEAR),
        "--home",
        str(district.root),
    ]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)
    ]
    outcomes = [r.wait(timeout=300) for r in runs]
    assert outcomes == [0, 0, 0], [r.stderr.read().decode() for r in runs]
    together = {p.name: p.read_bytes() for p in district.reports_dir(YEAR).rglob("*.md")}
    clean = write_home(tmp_path / "clean", [("A", "甲局"), ("B", "乙局"), ("C", "丙街道")])
    for unit, seed in (("A", 1), ("B", 2), ("C", 3)):
        hand_in(clean, YEAR, unit, f"{unit.lower()}.csv", to_csv(valid_cells(YEAR, seed=seed)))
    build(clean, YEAR)
    assert together == {p.name: p.read_bytes() for p in clean.reports_dir(YEAR).rglob("*.md")}


def test_outputs_follow_the_umask(district):
    build(district, YEAR)
    mask = os.umask(0o022)
    os.umask(mask)
    expected = 0o666 & ~mask
    for path in [district.reports_dir(YEAR) / "report.html", Warehouse.of(district, YEAR).path("status")]:
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_control_characters_in_unit_text_are_removed_and_reported(district):
    cells = valid_cells(YEAR, seed=2)
    cells[("narrative", "overview", "text")] = "本年度\x1b[31m工作\u202e情况\x7f良好。"
    hand_in(district, YEAR, "B", "b.csv", to_csv(cells))
    build(district, YEAR)
    f17 = [m for m in messages_of(district, "B") if m.rule == "F17"]
    assert len(f17) == 1 and "U+001B" in f17[0].text and "U+202E" in f17[0].text
    assert status_of(district)["B"] == "accepted"
    report = (district.reports_dir(YEAR) / "units" / "B.md").read_text(encoding="utf-8")
    assert "本年度[31m工作情况良好。" in report.replace("\\[", "[")


def test_inbox_files_are_read_without_following_links(tmp_path):
    from pipeline.steps.inbox import read_inbox_file

    target = tmp_path / "t.csv"
    target.write_bytes(b"x")
    link = tmp_path / "l.csv"
    link.symlink_to(target)
    with pytest.raises(OSError):
        read_inbox_file(link)
    assert read_inbox_file(target) == b"x"


def test_paths_outside_the_home_are_refused(district, tmp_path):
    from pipeline.home import HomeError

    with pytest.raises(HomeError):
        district.contained(district.root / ".." / "elsewhere")
    assert district.contained(district.inbox_dir(YEAR) / "A" / "a.csv").is_relative_to(district.root)
    assert Path(district.contained(district.root)) == district.root


def test_concurrent_portal_uploads_agree_with_a_clean_build(tmp_path):
    """Every unit uploads two versions at once (each from its own session); the year
    then builds exactly as a home holding only each unit's second version does."""
    from concurrent.futures import ThreadPoolExecutor

    from hostile.client import UNITS, portal_running

    versions = {code: [to_csv(valid_cells(YEAR, seed=10 + i)), to_csv(valid_cells(YEAR, seed=20 + i))]
                for i, (code, _) in enumerate(UNITS)}  # fmt: skip
    with portal_running(tmp_path / "portal") as portal:
        clients = {code: portal.client(code) for code, _ in UNITS}

        def upload(code: str, n: int):
            return clients[code].upload(YEAR, f"v{n}.csv", versions[code][n])

        for n in (0, 1):  # each round's uploads race each other; the rounds come in order
            with ThreadPoolExecutor(len(UNITS)) as pool:
                responses = list(pool.map(lambda code, n=n: upload(code, n), [c for c, _ in UNITS]))
            assert all(r.ok for r in responses)
        build(portal.home, YEAR)
        got = {p.name: p.read_bytes() for p in portal.home.reports_dir(YEAR).rglob("*.md")}
    clean = write_home(tmp_path / "clean", list(UNITS), first_year=2020)
    for code, _ in UNITS:
        hand_in(clean, YEAR, code, "v1.csv", versions[code][1])
    build(clean, YEAR)
    assert got == {p.name: p.read_bytes() for p in clean.reports_dir(YEAR).rglob("*.md")}
