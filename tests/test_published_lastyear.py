"""Last year from the published report (issue 17, item 2): a home whose first year of
data is 2024 records a unit's 2023 published report (and the district's) with
`nianbao import --home`; building 2023 makes it the unit's record, marked
"据已公开年报导入" in status, provenance and open data, and building 2024 checks N7,
N8 and the year-over-year table against it, saying so in the messages and on the
review page. A year with real submissions is refused unless --replace.

The 2023 reports are made by nianbao's own writers in a scratch home (the round-trip
tests hold them to import back to exactly their cells)."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import build, hand_in, valid_cells, write_home

from pipeline.cli import main
from pipeline.ingest.archive import read_manifest, read_origins
from pipeline.synth import UnitHistory, to_csv
from pipeline.warehouse import Warehouse

UNITS = [("A", "甲局"), ("B", "乙局")]
MARK = "据已公开年报导入"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """2023 built in a scratch home from A's and B's files: its unit and district pages are
    the published reports; A's history carries on into its 2024 figures."""
    home = write_home(tmp_path_factory.mktemp("scratch"), UNITS, first_year=2018)
    history = UnitHistory()
    hand_in(home, 2023, "A", "a.csv", to_csv(valid_cells(2023, seed=1, history=history)))
    hand_in(home, 2023, "B", "b.csv", to_csv(valid_cells(2023, seed=2)))
    build(home, 2023)
    a_2024 = valid_cells(2024, seed=11, history=history)
    return home, a_2024


def carry_over_broken(cells: dict) -> dict:
    """A's 2024 figures with 上年结转 (natural persons) one more than 2023's 结转下年度 (N7)
    and one fewer received (N1 and N3 still hold); 行政规范性文件 现行有效 one more (N8)."""
    cells = dict(cells)
    for row, step in (("carried_over", 1), ("received", -1)):
        for column in ("natural_person", "total"):
            key = ("applications", row, column)
            cells[key] = str(int(cells.get(key, "0")) + step)
    key = ("proactive", "normative_documents", "in_force")
    cells[key] = str(int(cells.get(key, "0")) + 1)
    return cells


@pytest.fixture(scope="module")
def imported(scratch, tmp_path_factory):
    """The real home: no 2023 data; A's and the district's 2023 reports imported; 2023 and 2024 built."""
    source, a_2024 = scratch
    home = write_home(tmp_path_factory.mktemp("home"), UNITS, first_year=2018)
    outputs = {}
    for args in (
        [str(source.reports_dir(2023) / "units" / "A.html"), "--unit", "A"],
        [str(source.reports_dir(2023) / "report.html")],
    ):
        outputs[args[-1]] = main(["import", *args, "--year", "2023", "--home", str(home.root)])
    build(home, 2023)
    assert a_2024[("applications", "received", "natural_person")] != "0"
    hand_in(home, 2024, "A", "a2024.csv", to_csv(carry_over_broken(a_2024)))
    hand_in(home, 2024, "B", "b2024.csv", to_csv(valid_cells(2024, seed=12)))
    build(home, 2024)
    return home, outputs


def test_import_records_the_report_archived_with_its_origin(imported, capsys):
    home, codes = imported
    assert set(codes.values()) == {0}
    assert (home.root / "published" / "2023" / "A" / "A.html").is_file()
    assert (home.root / "published" / "2023" / "_district" / "report.html").is_file()
    rows = read_manifest(home.archive, year=2023)
    assert {(r["unit"], r["original_name"]) for r in rows} == {("A", "A.html"), ("_district", "report.html")}
    origins = read_origins(home.archive, 2023)
    assert set(origins.values()) == {"published"} and len(origins) == 2
    files = Warehouse.of(home, 2023).read("files")
    assert files[["unit", "file", "in_use", "origin"]].values.tolist() == [["A", "A.html", True, "published"]]


def test_the_imported_year_is_the_units_record_marked_as_such(imported, scratch):
    home, _ = imported
    source, _ = scratch
    out = home.reports_dir(2023)
    status = {r["unit"]: r for r in csv.DictReader((out / "status.csv").open(encoding="utf-8-sig"))}
    assert status["A"]["status"] == "accepted" and status["A"]["status_text"] == f"已采用（{MARK}）"
    assert status["B"]["status_text"] == "未报送"
    assert f"已采用（{MARK}）" in (out / "validation.html").read_text(encoding="utf-8")
    # Its cells are A's 2023 figures exactly, each located where it was printed.
    mine = Warehouse.of(home, 2023).read("accepted")
    theirs = Warehouse.of(source, 2023).read("accepted")

    def figures(frame):  # a cell left blank is 0; the report prints it as 0
        part = frame[(frame["unit"] == "A") & (frame["table"] != "narrative") & (frame["value"] != "0")]
        return dict(zip(zip(part["table"], part["row"], part["column"]), part["value"]))

    assert figures(mine) == figures(theirs)
    provenance = Warehouse.of(home, 2023).read("provenance")
    assert set(provenance["file"]) == {"A.html"}
    assert provenance["location"].str.startswith(f"{MARK}：网页第 ").all()
    review = (out / "review.html").read_text(encoding="utf-8")
    assert f"{MARK}：网页第 " in review
    package = json.loads((out / "open-data" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["sources"] == [{"title": f"A：{MARK}", "path": "A.html"}]
    assert MARK in package["description"]


def test_next_year_checks_n7_n8_and_compares_against_the_published_report(imported, scratch):
    home, _ = imported
    source, _ = scratch
    messages = Warehouse.of(home, 2024).read("messages")
    a = messages[messages["unit"] == "A"]
    n7, n8 = a[a["rule"] == "N7"], a[a["rule"] == "N8"]
    assert len(n7) == 2 and len(n8) == 1, a[["rule", "text"]].values.tolist()
    for text in [*n7["text"], *n8["text"]]:
        assert "据已公开年报导入的“A.html”" in text
    assert not messages["text"].str.contains("未核对").any(), "last year is on record: no skipped note"
    # B handed in nothing in 2023: not compared.
    assert messages[messages["unit"] == "B"]["rule"].isin(["N7", "N8"]).sum() == 0
    yoy = Warehouse.of(home, 2024).read("yoy")
    a_yoy = yoy[(yoy["scope"] == "A") & (yoy["previous"] != "")]
    assert (
        len(a_yoy)
        and set(a_yoy["previous_origin"]) == {"published"}
        and set(a_yoy["previous_file"]) == {"A.html"}
    )
    assert (yoy[yoy["scope"] == "B"]["previous"] == "").all()
    # The district's last year is its own published report (A and B), not A's figures alone.
    district = yoy[(yoy["scope"] == "district") & (yoy["table"] == "applications")]
    received = district[(district["row"] == "received") & (district["column"] == "total")].iloc[0]
    sections = Warehouse.of(source, 2023).read_section("applications")
    published = sections[
        (sections["scope"] == "district") & (sections["row"] == "received") & (sections["column"] == "total")
    ]["value"].iloc[0]
    assert received["previous"] == published and received["previous_origin"] == "published"
    assert received["previous_file"] == "report.html"
    review = (home.reports_dir(2024) / "review.html").read_text(encoding="utf-8")
    assert "上年数字据已公开年报导入，取自“A.html”" in review
    assert "上年数字据已公开年报导入，取自“report.html”" in review


def test_a_year_with_real_submissions_is_refused_unless_replace(imported, scratch, capsys):
    home, _ = imported
    source, _ = scratch
    report = str(source.reports_dir(2023) / "units" / "A.html")
    capsys.readouterr()
    code = main(["import", report, "--year", "2024", "--unit", "A", "--home", str(home.root)])
    err = capsys.readouterr().err
    assert code == 2 and "已有报送的数据（a2024.csv）" in err and "--replace" in err
    assert not (home.root / "published" / "2024").exists()
    # The district's report for a year in which units handed in files: refused the same way.
    code = main(
        ["import", str(source.reports_dir(2023) / "report.html"), "--year", "2024", "--home", str(home.root)]
    )
    assert code == 2 and "已有报送的数据" in capsys.readouterr().err
    # An unregistered unit, and a report read for a legacy year: one line each, exit 2.
    assert main(["import", report, "--year", "2024", "--unit", "Z", "--home", str(home.root)]) == 2
    assert "不在单位名册" in capsys.readouterr().err
    assert main(["import", report, "--year", "2018", "--unit", "A", "--home", str(home.root)]) == 2
    assert "旧格式" in capsys.readouterr().err


def test_replace_makes_the_report_the_record_and_keeps_the_hand_in(scratch, tmp_path, capsys):
    from pipeline.steps.intake import collect

    source, _ = scratch
    home = write_home(tmp_path / "home", UNITS, first_year=2018)
    hand_in(home, 2023, "A", "a.csv", to_csv(valid_cells(2023, seed=3)))
    report = str(source.reports_dir(2023) / "units" / "A.html")
    assert (
        main(["import", report, "--year", "2023", "--unit", "A", "--home", str(home.root), "--replace"]) == 0
    )
    assert "原有报送文件（a.csv）仍保留" in capsys.readouterr().out
    files = collect(home, 2023, home.registry()).files.set_index("file")
    assert files.loc["A.html", "in_use"] and files.loc["A.html", "origin"] == "published"
    assert not files.loc["a.csv", "in_use"] and (home.inbox_dir(2023) / "A" / "a.csv").is_file()


def test_a_report_with_cells_not_read_is_not_recorded(scratch, tmp_path, capsys):
    source, _ = scratch
    page = (source.reports_dir(2023) / "units" / "A.html").read_text(encoding="utf-8")
    # Drop the last table (表四): its cells cannot be read.
    cut = page[: page.rindex("<table")] + page[page.rindex("</table>") + len("</table>") :]
    path = tmp_path / "cut.html"
    path.write_text(cut, encoding="utf-8")
    home = write_home(tmp_path / "home", UNITS, first_year=2018)
    assert main(["import", str(path), "--year", "2023", "--unit", "A", "--home", str(home.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cut.html（2023 年度）：cut.html 未导入：") and "F11" not in err and "表四" in err
    assert not (home.root / "published").exists() and not home.archive.exists()
