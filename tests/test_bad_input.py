"""Each bad input handed in through the inbox: a clear message naming the unit,
file and place, the file kept in the archive, the other units' results unchanged,
and no crash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest
import xlsx_fixtures
from conftest import hand_in
from hostile import corpus

from pipeline.ingest.archive import blob_path, read_manifest
from pipeline.steps.intake import collect
from pipeline.steps.validate import validate_year
from schemas import format_for_year

YEAR = 2025
FMT = format_for_year(YEAR)


def formula_with_cache(tmp_path: Path) -> bytes:
    src = tmp_path / "formula.xlsx"
    src.write_bytes(corpus.formula_without_cache(tmp_path))
    wb = openpyxl.load_workbook(src)
    sheet, address = xlsx_fixtures.input_cells(wb)[("proactive", "penalty", "decisions")]
    out = tmp_path / "cached.xlsx"
    member = xlsx_fixtures.sheet_member(src, sheet)
    xlsx_fixtures.rewrite_member(
        src, out, member, lambda xml: xlsx_fixtures.add_cached_value(xml, address, "2")
    )
    return out.read_bytes()


def csv_case(case: str, cells: dict | None, rule: str, fragment: str, location: str = "第", **meta) -> tuple:
    """A case of an interchange CSV that is valid but for `cells` (and the unit or year it declares)."""
    return (case, "b.csv", lambda t: corpus.csv_with(cells, **meta), rule, fragment, location)


# name, file name, bytes builder, expected rule, fragment expected in the message, location expected
CASES = [
    ("empty file", "b.csv", lambda t: b"", "F1", "空的", ""),
    ("neither csv nor xlsx", "b.pdf", lambda t: b"%PDF-1.4 ...", "F2", "不支持", ""),
    ("old xls", "b.xls", lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "F", "", ""),
    ("xlsm by name", "b.xlsm", lambda t: corpus.filled(t).read_bytes(), "F3", "宏", ""),
    ("macros inside an .xlsx", "b.xlsx", corpus.macro, "F3", "宏", ""),
    ("password protected", "b.xlsx", corpus.encrypted, "F4", "密码", ""),
    ("zip bomb", "b.xlsx", corpus.zip_bomb, "F5", "", ""),
    ("oversized", "b.csv", lambda t: b"table,row,column,value\n" + b"x" * (21 * 1024 * 1024), "F6", "MB", ""),
    csv_case("year in file differs", None, "F8", "2024", "第 2 行", unit="B", year=2024),
    csv_case("unit in file differs", None, "F8", "A", "第 2 行", unit="A", year=YEAR),
    csv_case("unknown table", {("tables", "received", "total"): "1"}, "N6", "tables"),
    csv_case("unknown row", {("applications", "recieved", "total"): "1"}, "N6", "recieved"),
    csv_case("unknown column", {("applications", "received", "sum"): "1"}, "N6", "sum"),
    csv_case("text for a number", {("proactive", "penalty", "decisions"): "约十件"}, "N5", "约十件"),
    csv_case("negative count", {("proactive", "penalty", "decisions"): "-2"}, "N5", "-2"),
    csv_case("decimal count", {("proactive", "penalty", "decisions"): "2.5"}, "N5", "2.5"),
    ("formula without cached value", "b.xlsx", corpus.formula_without_cache, "F12", "公式", "C"),
    ("dotdot in name", "..b.csv", lambda t: corpus.csv_with(), "F9", "..", ""),
    ("backslash in name", "a\\b.csv", lambda t: corpus.csv_with(), "F9", "路径分隔符", ""),
]


def run_year(home):
    registry = home.registry()
    intake = collect(home, YEAR, registry)
    return intake, validate_year(home, YEAR, FMT, registry, intake)


@pytest.fixture
def baseline(home):
    """A's accepted cells when B's file is fine."""
    _, result = run_year(home)
    return result.accepted[result.accepted["unit"] == "A"].reset_index(drop=True)


@pytest.mark.parametrize(
    ("case", "name", "make", "rule", "fragment", "location"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_file(home, baseline, tmp_path, case, name, make, rule, fragment, location):
    for old in (home.inbox_dir(YEAR) / "B").iterdir():
        old.unlink()
    data = make(tmp_path)
    hand_in(home, YEAR, "B", name, data)

    intake, result = run_year(home)

    b_messages = [m for m in result.messages if m.unit == "B"]
    errors = [m for m in b_messages if m.severity == "ERROR"]
    assert errors, f"{case}: no error reported"
    chosen = [m for m in errors if m.rule.startswith(rule)]
    assert chosen, f"{case}: expected {rule}, got {[m.render() for m in errors]}"
    message = chosen[0]
    assert message.unit == "B" and message.unit_label == "乙局（B）" and message.file == name
    assert fragment in message.text, message.render()
    assert message.location.startswith(location)
    assert any(ch in message.text for ch in "请应"), "the message says what to do"

    status = dict(zip(result.status["unit"], result.status["status"]))
    assert status == {"A": "accepted", "B": "rejected", "C": "missing"}
    # Kept in the archive, byte for byte.
    sha = hashlib.sha256(data).hexdigest()
    entries = [
        r
        for r in read_manifest(home.archive)
        if (r["unit"], r["original_name"], r["sha256"]) == ("B", name, sha)
    ]
    assert [e["outcome"] for e in entries] == ["received"]  # outcomes are recorded by the asset
    assert blob_path(home.archive, sha).read_bytes() == data
    # The other units' results are unchanged.
    accepted_a = result.accepted[result.accepted["unit"] == "A"].reset_index(drop=True)
    assert accepted_a.equals(baseline)


def test_formula_with_cached_value_uses_it(home, tmp_path):
    hand_in(home, YEAR, "B", "b.xlsx", formula_with_cache(tmp_path))
    (home.inbox_dir(YEAR) / "B" / "b.csv").unlink()
    intake, result = run_year(home)
    cells = intake.cells[(intake.cells["unit"] == "B") & (intake.cells["row"] == "penalty")]
    assert cells["raw"].tolist() == ["2"]
    assert not [m for m in result.messages if m.unit == "B" and m.severity == "ERROR"]


def test_unknown_unit_folder_is_archived_and_reported(home):
    data = corpus.csv_with()
    hand_in(home, YEAR, "ZZ", "z.csv", data)
    intake, result = run_year(home)
    f7 = [m for m in result.messages if m.rule == "F7"]
    assert len(f7) == 1 and f7[0].unit == "ZZ" and f7[0].file == "z.csv" and "单位名册" in f7[0].text
    assert [r["outcome"] for r in read_manifest(home.archive) if r["unit"] == "ZZ"] == ["received"]
    assert set(result.status["unit"]) == {"A", "B", "C"}
