"""Parsing a year's files in worker processes gives what parsing them here gives, and
the choice between the two weighs a CSV file as a tenth of a workbook."""

from __future__ import annotations

import pytest
from conftest import hand_in, valid_cells, write_home

from pipeline.steps import intake
from pipeline.synth import to_csv
from schemas.base import NARRATIVE_TABLE


def jobs_of(tmp_path, units: int) -> list[tuple]:
    home = write_home(tmp_path / "home", [(f"U{i}", f"单位{i}") for i in range(units)])
    jobs = []
    for i in range(units):
        cells = valid_cells(2025, seed=i)
        if i == 3:  # one file with a problem (F17), to compare messages too
            text = next(key for key in cells if key[0] == NARRATIVE_TABLE)
            cells[text] = "总体情况\x1b"
        path = hand_in(home, 2025, f"U{i}", f"u{i}.csv", to_csv(cells))
        jobs.append((str(path), 2025, path.name, f"U{i}", f"单位{i}", str(home.root)))
    return jobs


def comparable(parsed) -> list:
    return [(p.cells.to_dict("list"), [m.text for m in p.problems]) for p in parsed]


def test_worker_processes_parse_as_this_process_does(tmp_path, monkeypatch):
    jobs = jobs_of(tmp_path, 6)
    started = []
    monkeypatch.setattr(intake, "ProcessPoolExecutor", _Recording(intake.ProcessPoolExecutor, started))

    here = intake._parse_all(jobs, lambda _: None)
    assert started == []  # six CSV files: parsed here
    monkeypatch.setattr(intake, "PARALLEL_PARSE_FROM", 0.5)
    in_workers = intake._parse_all(jobs, lambda _: None)
    assert started == [True]
    assert comparable(in_workers) == comparable(here)
    assert any(p.problems for p in here)


@pytest.mark.parametrize(
    ("names", "parallel"),
    [(["a.csv"] * 80, False), (["a.csv"] * 400, True), (["a.xlsx"] * 39, False), (["a.xlsx"] * 40, True)],
)
def test_csv_files_weigh_a_tenth_of_a_workbook(names, parallel, monkeypatch):
    started = []
    monkeypatch.setattr(intake, "ProcessPoolExecutor", _Recording(None, started))
    monkeypatch.setattr(intake, "_parse_one", lambda job: job)
    monkeypatch.setattr(intake.os, "cpu_count", lambda: 2)
    jobs = [("blob", 2025, name, "U", "单位", "home") for name in names]
    assert intake._parse_all(jobs, lambda _: None) == jobs
    assert started == ([True] if parallel else [])


class _Recording:
    """Stands for ProcessPoolExecutor: records that a pool was started; with no real
    class given, maps in this process."""

    def __init__(self, real, started: list):
        self.real, self.started = real, started

    def __call__(self, *args, **kwargs):
        self.started.append(True)
        return self.real(*args, **kwargs) if self.real is not None else _InProcessPool()


class _InProcessPool:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, jobs, chunksize=1):
        return map(fn, jobs)
