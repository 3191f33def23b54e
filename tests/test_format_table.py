"""One table of formats (issue 19, item 3): schemas.FORMATS names each format's first
year, code and module; a new national format (a 2026 revision) is one module and one
row, with no template of its own needed, and builds end to end."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from conftest import build, hand_in, valid_cells, write_home

import schemas
from pipeline.synth import to_csv
from pipeline.warehouse import Warehouse
from schemas import FormatEntry, format_code_for_year, format_for_year

REVISION = '''"""A fake 2026 revision of the national format, for the test: the 2021 tables and
rules under a new code and name, with one rule fewer (no P4)."""

import dataclasses

from schemas.national_2021 import FORMAT as NATIONAL

FORMAT = dataclasses.replace(
    NATIONAL,
    code="revision-2026",
    name="国办公开办函〔2026〕99号（测试修订）",
    template_dir="revision-2026",
    rules=tuple(r for r in NATIONAL.rules if r.id != "P4"),
)
'''


def test_the_table_chooses_by_first_year():
    assert [format_code_for_year(y) for y in (2008, 2018, 2019, 2020, 2021, 2030)] == [
        "legacy", "legacy", "trial-2019", "trial-2019", "national-2021", "national-2021",
    ]  # fmt: skip
    assert format_for_year(2019).code == "trial-2019" and format_for_year(2025).code == "national-2021"
    with pytest.raises(ValueError, match="2007 年早于"):
        format_code_for_year(2007)


@pytest.fixture
def revision(tmp_path, monkeypatch):
    """The fake format's module in a folder of its own, and its row in the table."""
    folder = tmp_path / "formats"
    folder.mkdir()
    (folder / "revision_2026.py").write_text(REVISION, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(
        schemas, "FORMATS", [*schemas.FORMATS, FormatEntry(2026, "revision-2026", "revision_2026")]
    )
    yield
    sys.modules.pop("revision_2026", None)


def test_a_new_format_is_one_module_and_one_row_and_builds(tmp_path, revision):
    assert format_code_for_year(2025) == "national-2021" and format_code_for_year(2026) == "revision-2026"
    fmt = format_for_year(2026)
    assert fmt.name == "国办公开办函〔2026〕99号（测试修订）"
    # A printed form like the others: published 2026 reports are read against it.
    from pipeline.ingest.published.core import check_year

    assert check_year(2026) is fmt and [f.code for f in schemas.form_formats()][:2] == [
        "revision-2026",
        "national-2021",
    ]

    home = write_home(tmp_path / "home", [("A", "甲局"), ("B", "乙局")])
    for seed, unit in enumerate("AB", 1):
        hand_in(home, 2026, unit, f"{unit.lower()}.csv", to_csv(valid_cells(2026, seed=seed)))
    result = build(home, 2026, ("html", "md", "docx"))
    [event] = result.asset_materializations_for_node("validated_submissions")
    assert event.metadata["format"].value == "revision-2026"
    status = pd.read_csv(home.reports_dir(2026) / "status.csv", dtype=str)
    assert set(status["status"]) == {"accepted"}
    assert not [m for m in Warehouse.of(home, 2026).read_messages("messages") if m.rule == "P4"]
    out = home.reports_dir(2026)
    # The shared templates draw it: its name in the preamble of every report.
    for path in (out / "report.md", out / "report.html", out / "units" / "A.md"):
        assert "国办公开办函〔2026〕99号（测试修订）" in path.read_text(encoding="utf-8")
    assert (out / "publish" / "report.docx").is_file() and (out / "review.html").is_file()
