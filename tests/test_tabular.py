"""No CSV or XLSX we write holds a live formula (pipeline/tabular.py), whoever chose
the text: a hostile-names corpus of unit names and file names goes through a real
build (status.csv, open data), a correction after publication (the revisions log,
E33), the portal's list of missing units and the workbook template; every cell read
back is inert, and the files we read back give the exact text again."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import openpyxl
import pandas as pd
import pytest
from conftest import build, hand_in, valid_cells
from hypothesis import given
from hypothesis import strategies as st

from pipeline.home import Home
from pipeline.synth import to_csv
from pipeline.tabular import frame_csv, is_live, neutralise, neutralise_frame, read_frame, restore, rows_csv

# Judged here independently of the module: what Excel, WPS and LibreOffice start a formula with.
TRIGGERS = tuple("=+-@\t\r\n") + ("＝", "＋", "－", "＠")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

HOSTILE_NAMES = [
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+1+1",
    "-2+3",
    "＝1+1",
    "＠SUM(1)",
    "－1+1",
    '\'=HYPERLINK("http://x")',
]
HOSTILE_TEXTS = [*HOSTILE_NAMES, "\t=1+1", "\r=1+1", "\n=1+1", "=1+1\n第二行"]
HOSTILE_FILES = ["=1+1.csv", "@SUM(1+1).csv", "=cmd' -C calc'!A0.csv"]


def inert(cell: str) -> bool:
    return not cell.startswith(TRIGGERS) or bool(NUMBER.fullmatch(cell))


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")) for cell in row]


def assert_inert_csv(path_or_text) -> list[str]:
    text = path_or_text if isinstance(path_or_text, str) else path_or_text.read_text(encoding="utf-8")
    cells = csv_cells(text)
    live = [c for c in cells if not inert(c)]
    assert not live, f"{getattr(path_or_text, 'name', 'csv')}: live cells {live}"
    return cells


# --- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_each_hostile_text_is_quoted_and_restored(text):
    written = neutralise(text)
    assert written == "'" + text and inert(written) and restore(written) == text


@pytest.mark.parametrize("text", ["-3", "+2", "-1.5", "0", "12", "甲局", "a=b", "", "'", "—2", " =1"])
def test_numbers_and_plain_text_stay_as_they_are(text):
    assert neutralise(text) == text and restore(text) == text


def test_numbers_stay_numbers():
    assert neutralise(-3) == -3 and neutralise(2.5) == 2.5 and neutralise(None) is None
    frame = pd.DataFrame({"n": [-3, 4], "x": [-1.5, 2.0], "t": ["-3", "=1"]})
    out = neutralise_frame(frame)
    assert (
        out["n"].tolist() == [-3, 4]
        and out["x"].tolist() == [-1.5, 2.0]
        and out["t"].tolist() == ["-3", "'=1"]
    )
    assert frame["t"].tolist() == ["-3", "=1"]  # the caller's frame is not changed


ALPHABET = list("=+-@'\t\r\n＝＋－＠0123.5eE甲a ")


@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=8))
def test_the_quoting_is_reversible_and_the_same_for_frames_and_cells(text):
    written = neutralise(text)
    assert restore(written) == text
    assert inert(written) or NUMBER.fullmatch(written) or written.startswith("'")
    assert neutralise_frame(pd.DataFrame({"t": [text]}))["t"].tolist() == [written]
    assert is_live(text) == (written != text)


def test_a_csv_written_and_read_back_gives_the_same_text(tmp_path):
    frame = pd.DataFrame({"a": HOSTILE_TEXTS, "b": [str(i - 3) for i in range(len(HOSTILE_TEXTS))]})
    path = tmp_path / "f.csv"
    path.write_text(frame_csv(frame), encoding="utf-8")
    assert_inert_csv(path)
    # A carriage return comes back as a line feed (see frame_csv); the rest exactly.
    assert read_frame(path).equals(frame.replace("\r", "\n", regex=True))


def test_the_portal_download_is_inert():
    data = rows_csv(["单位代码", "单位名称", "状态"], [["X", t, "未报送"] for t in HOSTILE_TEXTS])
    cells = assert_inert_csv(data.decode("utf-8"))
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    assert [restore(c) for c in cells[3:]] == [v for t in HOSTILE_TEXTS for v in ("X", t, "未报送")]


def test_the_template_holds_no_formula_and_keeps_the_text(tmp_path):
    from pipeline.workbook.writer import write_template
    from schemas import format_for_year

    text = "\n".join(HOSTILE_TEXTS)
    path = write_template(
        format_for_year(2025), tmp_path / "t.xlsx", unit_code="=A1", unit_name=HOSTILE_NAMES[0], year=2025,
        prefill={("narrative", "overview", "text"): HOSTILE_NAMES[1], ("narrative", "problems", "text"): text},
    )  # fmt: skip
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c for c in cells if isinstance(c.value, str) and not inert(c.value)]
    assert {c.value for c in texts} >= {HOSTILE_NAMES[0], HOSTILE_NAMES[1], "=A1"}
    assert all(c.quotePrefix for c in texts), [c.coordinate for c in texts if not c.quotePrefix]
    assert text in {c.value for c in cells}  # the text itself is kept exactly


# --- end to end: a build, a publication, a correction (E33, B05) ------------------------------


def hostile_home(root) -> Home:
    (root / "registry").mkdir(parents=True)
    (root / "home.toml").write_text(
        'district = "测试区"\ngovernment = "测试区人民政府办公室"\n\n[publication.2025]\ndate = "2026-03-20"\n',
        encoding="utf-8",
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "kind", "first_year", "last_year"])
    for code, name in zip("ABC", HOSTILE_NAMES):
        writer.writerow([code, name, "部门", "2020", ""])
    (root / "registry" / "units.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return Home.resolve(root)


def test_every_csv_of_a_build_and_a_correction_is_inert(tmp_path):
    home = hostile_home(tmp_path / "home")
    hand_in(home, 2025, "A", HOSTILE_FILES[0], to_csv(valid_cells(2025, seed=1)))
    hand_in(home, 2025, "B", HOSTILE_FILES[1], to_csv(valid_cells(2025, seed=2)))
    build(home, 2025)  # published; C never reports
    cells = valid_cells(2025, seed=1)
    cells[("proactive", "licensing", "decisions")] = str(
        int(cells.get(("proactive", "licensing", "decisions"), "0")) + 3
    )
    time.sleep(0.01)
    hand_in(home, 2025, "A", HOSTILE_FILES[2], to_csv(cells))
    build(home, 2025)
    log_path = home.root / "revisions" / "2025" / "log.csv"
    before = log_path.read_bytes()
    build(home, 2025)  # read back and rebuilt: the log gains nothing
    assert log_path.read_bytes() == before

    out = home.reports_dir(2025)
    written = [out / "status.csv", *sorted((out / "open-data").glob("*.csv"))]
    written += sorted((home.root / "revisions" / "2025").glob("*.csv"))
    assert {p.name for p in written} == {
        "status.csv",
        "figures.csv",
        "revisions.csv",
        "log.csv",
        "published.csv",
    }
    seen = set()
    for path in written:
        seen |= {restore(c) for c in assert_inert_csv(path)}
    assert set(HOSTILE_NAMES[:3]) <= seen and HOSTILE_FILES[2] in seen
    assert "'" + HOSTILE_NAMES[0] in csv_cells((out / "status.csv").read_text(encoding="utf-8"))

    log = read_frame(log_path)
    assert set(log["file"]) == {HOSTILE_FILES[2]} and set(log["unit_name"]) == {HOSTILE_NAMES[0]}
    public = read_frame(out / "open-data" / "revisions.csv")
    assert public["file"].tolist() == log["file"].tolist()
    # figures.json is not a spreadsheet: it keeps the names exactly.
    document = json.loads((out / "open-data" / "figures.json").read_text(encoding="utf-8"))
    assert {f["unit_name"] for f in document["figures"]} >= set(HOSTILE_NAMES[:2])
