"""Last year once per build (issue 19, item 2): in a real build of a home with two years on
record, last year's cells are read once (`pipeline.steps.rules.previous_year`, at the
validation) and the year-over-year table computed once (`pipeline.steps.yoy.year_over_year`,
its own asset); the reports, the review page and the bundle read that table.

Calls are counted into a file, not a variable: a build runs some of its work in forked
children (pipeline/forked.py), whose calls a counter in this process would not see."""

from __future__ import annotations

import sys

import pandas as pd
from conftest import build, hand_in, valid_cells, write_home

import pipeline.steps.rules as rules
import pipeline.steps.yoy as yoy_step
from pipeline.synth import UnitHistory, to_csv
from pipeline.warehouse import Warehouse

TEXT = '{{ yoy("applications", "received") }}。\n'


def counted(monkeypatch, module, name: str, log) -> None:
    """Every module's binding of module.name (imported at the top or inside a function)
    replaced by a wrapper appending the name to `log` on each call."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        with open(log, "a", encoding="utf-8") as f:
            f.write(name + "\n")
        return original(*args, **kwargs)

    for mod in list(sys.modules.values()):
        if getattr(mod, name, None) is original:
            monkeypatch.setattr(mod, name, wrapper)


def test_a_two_year_build_reads_last_year_once_and_compares_once(tmp_path, monkeypatch):
    home = write_home(tmp_path / "home", [("A", "甲局"), ("B", "乙局")])
    history = {u: UnitHistory() for u in "AB"}
    for year in (2024, 2025):
        for seed, unit in enumerate("AB", 1):
            cells = valid_cells(year, seed=seed + year, history=history[unit])
            hand_in(home, year, unit, f"{unit.lower()}.csv", to_csv(cells))
    texts = home.root / "texts" / "2025"
    texts.mkdir(parents=True)
    (texts / "overview.md").write_text(TEXT, encoding="utf-8")
    build(home, 2024)

    log = tmp_path / "calls.log"
    counted(monkeypatch, rules, "previous_year", log)
    counted(monkeypatch, yoy_step, "year_over_year", log)
    build(home, 2025, formats=("html", "md", "docx"))
    calls = log.read_text(encoding="utf-8").split()
    assert calls.count("previous_year") == 1
    assert calls.count("year_over_year") == 1

    # What was computed once is what the office's text quotes in the district report.
    table = Warehouse.of(home, 2025).read("yoy")
    received = table[
        (table["scope"] == "district") & (table["table"] == "applications") & (table["row"] == "received")
    ]
    [now], [before] = received.loc[received["column"] == "total", ["value", "previous"]].T.values
    assert before != "" and pd.notna(before)
    report = (home.reports_dir(2025) / "report.md").read_text(encoding="utf-8")
    change = yoy_step.Change(now, before)
    assert str(change) in report
    assert str(change) in (home.reports_dir(2025) / "report.html").read_text(encoding="utf-8")
    assert (home.reports_dir(2025) / "publish" / "report.docx").is_file()
