"""Field truth (issue 16): real published reports in tests/field/, built as one home.

Each tests/field/<slug>/ holds a real report (source.txt says where it was
published and archived), its figures hand-read as interchange CSV (cells.csv)
and the reviewed findings (expected.txt: rule, table/row/column, and why it is a
real inconsistency). The bodies are units of one synthetic home; every year of
the corpus is built once, in order, so last year's figures are there for
N7/N8/P5/Y1. Each report must (1) have every published figure in the warehouse
and (2) draw exactly its expected findings: a missing one is a rule that missed a
real problem, an extra one a false alarm (tests/field/FALSE_ALARMS.md).
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
import pytest
from conftest import build, hand_in

from pipeline.home import Home
from pipeline.ingest.published import PublishedRefused, read_html
from schemas.base import NARRATIVE_TABLE

FIELD = Path(__file__).resolve().parent / "field"
REPORTS = sorted(p.name for p in FIELD.iterdir() if (p / "cells.csv").is_file())
README = Path(__file__).resolve().parents[1] / "README.md"


def source(slug: str) -> dict[str, str]:
    lines = (FIELD / slug / "source.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def cells(slug: str) -> list[dict[str, str]]:
    with open(FIELD / slug / "cells.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def expected(slug: str) -> list[tuple[str, str]]:
    lines = (FIELD / slug / "expected.txt").read_text(encoding="utf-8").splitlines()
    return sorted((rule, where) for rule, where, *_ in (line.split("\t") for line in lines if line.strip()))


@pytest.fixture(scope="session")
def field_home(tmp_path_factory) -> Home:
    """One home: a unit per body, each report handed in as its cells.csv, every year built once."""
    root = tmp_path_factory.mktemp("field") / "home"
    (root / "registry").mkdir(parents=True)
    (root / "home.toml").write_text(
        'district = "实地语料区"\ngovernment = "实地语料区人民政府办公室"\n', "utf-8"
    )
    bodies = {(source(s)["unit"], source(s)["body"]) for s in REPORTS}
    units = "".join(f"{code},{name},部门,2021,\n" for code, name in sorted(bodies))
    (root / "registry" / "units.csv").write_text("code,name,kind,first_year,last_year\n" + units, "utf-8")
    home = Home.resolve(root)
    for slug in REPORTS:
        s = source(slug)
        hand_in(home, int(s["year"]), s["unit"], f"{slug}.csv", (FIELD / slug / "cells.csv").read_bytes())
    for year in sorted({int(source(s)["year"]) for s in REPORTS}):
        build(home, year)
    return home


def warehouse(home: Home, year: int, name: str) -> pd.DataFrame:
    return pd.read_parquet(home.root / "warehouse" / str(year) / f"{name}.parquet")


def findings(home: Home, slug: str) -> list[tuple[str, str]]:
    """The unit's messages as (rule, table/row/column): a CSV message's "第 N 行" is line N of cells.csv."""
    s = source(slug)
    rows = cells(slug)
    messages = warehouse(home, int(s["year"]), "messages")
    out = []
    for m in messages[messages.unit == s["unit"]].itertuples():
        line = re.fullmatch(r"第 (\d+) 行", m.location)
        if line:
            c = rows[int(line.group(1)) - 2]
            out.append((m.rule, f"{c['table']}/{c['row']}/{c['column']}"))
        else:
            out.append((m.rule, m.location or "（整份文件）"))
    return sorted(out)


def same(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return a.strip() == b.strip()


def test_the_corpus_meets_its_floor():
    """At least one body with consecutive years; every report names its source and commit."""
    assert REPORTS
    for slug in REPORTS:
        s = source(slug)
        assert s["repo"] and re.fullmatch(r"[0-9a-f]{40}", s["commit"]) and s["url"].startswith("https://")
        assert (FIELD / slug / "expected.txt").is_file()
    years = {(source(s)["unit"], int(source(s)["year"])) for s in REPORTS}
    assert any((unit, year + 1) in years for unit, year in years)


@pytest.mark.parametrize("slug", REPORTS)
def test_the_archived_page_text_is_refused_as_a_flattened_page(slug):
    """The archive keeps the page's text with the table digits run together ("1 0 0 0 0 01");
    the reader refuses it rather than guess. With the page's HTML (page.html) it reads cells."""
    page_html = FIELD / slug / "page.html"
    if page_html.is_file():
        report = read_html(page_html.read_bytes(), int(source(slug)["year"]))
        assert report.unread == []
        assert [r for r in report.rows()] == [tuple(c.values()) for c in cells(slug)]
        return
    with pytest.raises(PublishedRefused, match="展平为文字"):
        read_html((FIELD / slug / "page.txt").read_bytes(), int(source(slug)["year"]))


@pytest.mark.parametrize("slug", REPORTS)
def test_every_published_figure_is_reproduced(field_home, slug):
    """Accepted: the warehouse's accepted figures; rejected: the cells as parsed (they leave
    the district report, so nothing else holds them)."""
    s = source(slug)
    year = int(s["year"])
    status = warehouse(field_home, year, "status").set_index("unit").loc[s["unit"], "status"]
    if status == "accepted":
        held = warehouse(field_home, year, "accepted")
        held = held[held.unit == s["unit"]].set_index(["table", "row", "column"])["value"]
    else:
        held = warehouse(field_home, year, "cells")
        held = held[held.unit == s["unit"]].set_index(["table", "row", "column"])["raw"]
    for c in cells(slug):
        key = (c["table"], c["row"], c["column"])
        if c["table"] == NARRATIVE_TABLE:
            assert held[key].replace("\r\n", "\n").strip() == c["value"].strip(), key
        else:
            assert same(held.get(key, "0"), c["value"]), (key, held.get(key), c["value"])


@pytest.mark.parametrize("slug", REPORTS)
def test_messages_are_the_reviewed_findings(field_home, slug):
    assert findings(field_home, slug) == expected(slug)


def tally(home: Home) -> dict[str, int]:
    figures = sum(1 for s in REPORTS for c in cells(s) if c["table"] != NARRATIVE_TABLE)
    real = sum(len(expected(s)) for s in REPORTS)
    false_alarms = sum(len(set(findings(home, s)) - set(expected(s))) for s in REPORTS)
    missed = sum(len(set(expected(s)) - set(findings(home, s))) for s in REPORTS)
    return {
        "reports": len(REPORTS),
        "figures": figures,
        "real": real,
        "false_alarms": false_alarms,
        "missed": missed,
    }


def test_the_readme_states_the_corpus_size(field_home):
    """The README's 实地语料 line names the reports and figures the corpus holds."""
    t = tally(field_home)
    print(f"\n实地语料：{t}")
    text = README.read_text(encoding="utf-8")
    assert f"{t['reports']} 份真实年报" in text and f"{t['figures']} 个表格数字" in text
