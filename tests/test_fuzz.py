"""Fuzzing the per-file check: whatever bytes arrive, the readers answer with
messages about the file, never with an unexpected failure (F15, which would mean
a reader broke on input it should have explained).

`make test` runs a few dozen examples per target; `make fuzz` runs thousands
(NIANBAO_FUZZ_EXAMPLES) and saves every failing input to tests/fuzz_corpus/,
which every run then replays."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest
from conftest import valid_cells
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlsx_fixtures import fill, make_template

from pipeline.steps.check import check_file, read_file
from pipeline.synth import to_csv
from schemas import format_for_year
from schemas.catalogue import FileOrigin

YEAR = 2025
FMT = format_for_year(YEAR)
CORPUS = Path(__file__).parent / "fuzz_corpus"
EXAMPLES = int(os.environ.get("NIANBAO_FUZZ_EXAMPLES", "40"))
SAVE = os.environ.get("NIANBAO_FUZZ_SAVE") == "1"
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not SAVE
)


def survives(data: bytes, name: str) -> None:
    """The file gets messages, none of them F15; a failing input is kept when saving."""
    parsed = read_file(data, FMT, FileOrigin("B", "乙局（B）", name), YEAR)
    unexpected = [m.render() for m in parsed.problems if m.rule == "F15"]
    if unexpected and SAVE:
        CORPUS.mkdir(exist_ok=True)
        (CORPUS / f"{hashlib.sha256(data).hexdigest()[:16]}{Path(name).suffix}").write_bytes(data)
    assert not unexpected, unexpected


VALID_CSV = to_csv(valid_cells(YEAR, seed=5))


@pytest.fixture(scope="module")
def valid_xlsx(tmp_path_factory) -> bytes:
    tmp = tmp_path_factory.mktemp("fuzz")
    template = make_template(FMT, tmp, name="t.xlsx", unit_code="B", unit_name="乙局", year=YEAR)
    cells = {k: int(v) if v.isdigit() else v for k, v in valid_cells(YEAR, seed=5).items()}
    fill(template, tmp / "f.xlsx", cells)
    return (tmp / "f.xlsx").read_bytes()


CSV_ALPHABET = st.sampled_from(
    list('0123456789,.-"\n\r\t abcxyz_|；，“”１２') + ["applications", "received", "total"]
)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_as_csv(data):
    survives(data, "b.csv")


@FUZZ
@given(st.lists(CSV_ALPHABET, max_size=400).map("".join), st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
def test_csv_like_text(text, encoding):
    survives(("table,row,column,value\n" + text).encode(encoding, errors="replace"), "b.csv")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID_CSV) - 1), st.integers(0, 255)), min_size=1, max_size=20))
def test_mutated_valid_csv(edits):
    data = bytearray(VALID_CSV)
    for at, byte in edits:
        data[at] = byte
    survives(bytes(data), "b.csv")


@FUZZ
@given(st.data())
def test_mutated_valid_workbook(valid_xlsx, data):
    raw = bytearray(valid_xlsx)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for _ in range(data.draw(st.integers(1, 30))):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    survives(bytes(raw), "b.xlsx")


@FUZZ
@given(st.binary(min_size=1, max_size=3000))
def test_random_bytes_as_workbook(data):
    survives(b"PK\x03\x04" + data, "b.xlsx")


@FUZZ
@given(st.binary(max_size=500))
def test_whole_check_never_raises(data):
    report = check_file(data, "b.csv", "B", YEAR, None)
    assert not [m for m in report.messages if m.rule == "F15"]


@pytest.mark.parametrize(
    "path", sorted(p for p in CORPUS.glob("*.*") if p.suffix != ".md"), ids=lambda p: p.name
)
def test_saved_crashes_stay_fixed(path):
    survives(path.read_bytes(), f"b{path.suffix}")
