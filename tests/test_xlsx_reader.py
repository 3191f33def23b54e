"""Reading filled-in workbooks back, and refusing bad files with plain Chinese."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.cell_range import CellRange
from xlsx_fixtures import (
    add_cached_value,
    encrypted_workbook,
    fill,
    legacy_like_format,
    macro_workbook,
    make_template,
    many_entries,
    rewrite_member,
    sample_values,
    sheet_member,
    zip_bomb,
)

from pipeline.ingest.cells import RAW_CELL_COLUMNS
from pipeline.ingest.xlsx_reader import read_xlsx
from schemas.catalogue import FileOrigin
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.trial_2019 import FORMAT as TRIAL

FILE = "U001_2024.xlsx"
APPLICATIONS = "三、收到和处理政府信息公开申请情况"


def read(path: Path, fmt=NATIONAL):
    return read_xlsx(Path(path).read_bytes(), fmt, FileOrigin("U001", "U001", FILE))


def got(parsed) -> dict:
    return {(r.table, r.row, r.column): (r.raw, r.sheet, r.location) for r in parsed.cells.itertuples()}


def expected(values: dict, where: dict) -> dict:
    def text(v):
        return str(v)

    return {k: (text(v), *where[k]) for k, v in values.items()}


def only(problems, rule):
    found = [m for m in problems if m.rule == rule]
    assert len(found) == 1, problems
    return found[0]


def assert_names_file(message, rule: str, severity: str = "ERROR"):
    assert message.rule == rule and message.severity == severity
    assert message.file == FILE and message.unit == "U001"
    assert FILE in message.render()
    assert re.search(r"[\u4e00-\u9fff]", message.text)


# --- round trips -----------------------------------------------------------


@pytest.mark.parametrize(("fmt", "year"), [(NATIONAL, 2024), (TRIAL, 2020)])
def test_round_trip_gives_exactly_the_filled_cells(tmp_path, fmt, year):
    template = make_template(fmt, tmp_path, year=year)
    values = sample_values(fmt)
    where = fill(template, tmp_path / "filled.xlsx", values)
    parsed = read(tmp_path / "filled.xlsx", fmt)
    assert parsed.problems == []
    assert list(parsed.cells.columns) == RAW_CELL_COLUMNS
    assert all(str(t) == "string" for t in parsed.cells.dtypes)
    assert got(parsed) == expected(values, where)
    assert len(parsed.cells) == len(values)
    assert parsed.declared_units == {"U001"}
    assert parsed.declared_years == {str(year)}


def test_numbers_are_read_as_typed(tmp_path):
    template = make_template(NATIONAL, tmp_path)
    values = {
        ("proactive", "fees", "amount"): 12.5,
        ("proactive", "regulations", "issued"): 3,
        ("applications", "received", "total"): 1591.0,
    }
    fill(template, tmp_path / "f.xlsx", values)
    raws = {k: v[0] for k, v in got(read(tmp_path / "f.xlsx")).items()}
    assert raws == {
        ("proactive", "fees", "amount"): "12.5",
        ("proactive", "regulations", "issued"): "3",
        ("applications", "received", "total"): "1591",
    }


def test_blank_template_gives_no_cells_and_no_problems(tmp_path):
    parsed = read(make_template(NATIONAL, tmp_path))
    assert parsed.cells.empty and list(parsed.cells.columns) == RAW_CELL_COLUMNS
    assert parsed.problems == []


def test_text_in_a_number_cell_is_passed_through(tmp_path):
    template = make_template(NATIONAL, tmp_path)
    values = {
        ("applications", "received", "natural_person"): "无",
        ("proactive", "licensing", "decisions"): "1,591",
    }
    where = fill(template, tmp_path / "f.xlsx", values)
    parsed = read(tmp_path / "f.xlsx")
    assert got(parsed) == expected(values, where)
    assert parsed.problems == []  # the validator reports it, not the reader


# --- layout changes by the clerk ------------------------------------------


def _shift_merges(ws, edit, *, rows: bool, idx: int):
    """Insert a row/column and move merged ranges as Excel does (openpyxl
    leaves them in place)."""
    ranges = [CellRange(r.coord) for r in ws.merged_cells.ranges]
    for r in ranges:
        ws.unmerge_cells(r.coord)
    edit()
    for r in ranges:
        lo, hi = (r.min_row, r.max_row) if rows else (r.min_col, r.max_col)
        if lo >= idx:
            r.shift(row_shift=1) if rows else r.shift(col_shift=1)
        elif hi >= idx:
            r.expand(down=1) if rows else r.expand(right=1)
        ws.merge_cells(r.coord)


def insert_blank_row_and_column_and_widen(wb):
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        _shift_merges(ws, lambda ws=ws: ws.insert_rows(8), rows=True, idx=8)
        _shift_merges(ws, lambda ws=ws: ws.insert_cols(3), rows=False, idx=3)
        ws.column_dimensions["D"].width = 80


@pytest.mark.parametrize("fmt", [NATIONAL, TRIAL])
def test_inserted_row_column_and_widening_still_read_the_same(tmp_path, fmt):
    template = make_template(fmt, tmp_path)
    values = sample_values(fmt)
    before = fill(template, tmp_path / "plain.xlsx", values)
    after = fill(template, tmp_path / "edited.xlsx", values, edit=insert_blank_row_and_column_and_widen)
    assert before != after  # the cells really moved
    parsed = read(tmp_path / "edited.xlsx", fmt)
    assert parsed.problems == []
    assert got(parsed) == expected(values, after)


def test_without_hidden_codes_falls_back_to_labels(tmp_path):
    """The clerk copied every visible cell into a fresh workbook."""
    template = make_template(NATIONAL, tmp_path)
    values = sample_values(NATIONAL)
    fill(template, tmp_path / "filled.xlsx", values)
    src = openpyxl.load_workbook(tmp_path / "filled.xlsx")
    copy = openpyxl.Workbook()
    copy.remove(copy.active)
    for ws in src.worksheets:
        if ws.sheet_state != "visible":
            continue
        out = copy.create_sheet(ws.title)
        visible_rows = [r for r in range(1, ws.max_row + 1) if not ws.row_dimensions[r].hidden]
        for new_r, r in enumerate(visible_rows, start=1):
            for c in range(2, ws.max_column + 1):
                out.cell(new_r, c - 1, ws.cell(r, c).value)
    copy.save(tmp_path / "copied.xlsx")
    parsed = read(tmp_path / "copied.xlsx")
    assert {k: v[0] for k, v in got(parsed).items()} == {k: str(v) for k, v in values.items()}
    warnings = [m for m in parsed.problems if m.rule == "F11"]
    assert {m.sheet for m in warnings} == set(copy.sheetnames)
    assert all(m.severity == "WARNING" for m in parsed.problems)
    assert parsed.declared_units == set()


def test_value_typed_outside_the_form_is_an_f11_warning(tmp_path):
    template = make_template(NATIONAL, tmp_path)

    def scribble(wb):
        ws = wb[APPLICATIONS]
        ws["M12"] = 99  # right of the table, on a data line
        ws["E40"] = 7  # below the table

    values = {("applications", "received", "natural_person"): 1}
    where = fill(template, tmp_path / "f.xlsx", values, edit=scribble)
    parsed = read(tmp_path / "f.xlsx")
    assert got(parsed) == expected(values, where)
    assert sorted(m.location for m in parsed.problems) == ["E40", "M12"]
    for m in parsed.problems:
        assert_names_file(m, "F11", "WARNING")
        assert m.sheet == APPLICATIONS and m.location in m.text


def test_unknown_sheets_are_ignored(tmp_path):
    template = make_template(NATIONAL, tmp_path)

    def add_notes(wb):
        notes = wb.create_sheet("草稿")
        notes["A1"] = "本年新收申请"
        notes["B1"] = 12

    fill(template, tmp_path / "f.xlsx", {}, edit=add_notes)
    parsed = read(tmp_path / "f.xlsx")
    assert parsed.cells.empty and parsed.problems == []


def test_template_of_another_format_is_an_error(tmp_path):
    parsed = read(make_template(TRIAL, tmp_path, year=2024))
    message = next(m for m in parsed.problems if m.severity == "ERROR")
    assert_names_file(message, "F11")
    assert "国办公开办函〔2019〕60号" in message.text and "国办公开办函〔2021〕30号" in message.text


# --- formulas ---------------------------------------------------------------


def _formula_file(tmp_path, cached: str | None) -> tuple[Path, str]:
    template = make_template(NATIONAL, tmp_path)
    key = ("applications", "received", "total")
    where = fill(template, tmp_path / "formula.xlsx", {key: "=E10+F10"})
    sheet, addr = where[key]
    if cached is None:
        return tmp_path / "formula.xlsx", addr
    member = sheet_member(tmp_path / "formula.xlsx", sheet)
    rewrite_member(
        tmp_path / "formula.xlsx",
        tmp_path / "cached.xlsx",
        member,
        lambda x: add_cached_value(x, addr, cached),
    )
    return tmp_path / "cached.xlsx", addr


def test_formula_with_cached_value_uses_the_value(tmp_path):
    path, addr = _formula_file(tmp_path, "12")
    parsed = read(path)
    assert got(parsed) == {("applications", "received", "total"): ("12", APPLICATIONS, addr)}
    assert parsed.problems == []


def test_formula_without_cached_value_is_f12_naming_the_cell(tmp_path):
    path, addr = _formula_file(tmp_path, None)
    parsed = read(path)
    assert parsed.cells.empty
    message = only(parsed.problems, "F12")
    assert_names_file(message, "F12")
    assert message.sheet == APPLICATIONS and message.location == addr
    assert addr in message.text and "WPS" in message.text and "保存" in message.text


# --- bad files ----------------------------------------------------------------


def refused(path: Path, rule: str):
    parsed = read(path)
    assert parsed.cells.empty
    message = only(parsed.problems, rule)
    assert_names_file(message, rule)
    return message


def test_empty_file(tmp_path):
    (tmp_path / "e.xlsx").write_bytes(b"")
    assert "空" in refused(tmp_path / "e.xlsx", "F1").text


def test_random_bytes(tmp_path):
    (tmp_path / "r.xlsx").write_bytes(b"\x00\x01garbage" * 100)
    assert ".xlsx" in refused(tmp_path / "r.xlsx", "F2").text


def test_old_xls(tmp_path):
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 1000
    )
    (tmp_path / "old.xlsx").write_bytes(ole)
    text = refused(tmp_path / "old.xlsx", "F2").text
    assert ".xls" in text and "另存为" in text


def test_macro_workbook(tmp_path):
    macro_workbook(make_template(NATIONAL, tmp_path), tmp_path / "m.xlsx")
    assert "宏" in refused(tmp_path / "m.xlsx", "F3").text


def test_macro_part_alone_is_enough(tmp_path):
    path = make_template(NATIONAL, tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/vbaProject.bin", b"\0" * 10)
    refused(path, "F3")


def test_password_protected_workbook(tmp_path):
    encrypted_workbook(make_template(NATIONAL, tmp_path), tmp_path / "enc.xlsx")
    assert "密码" in refused(tmp_path / "enc.xlsx", "F4").text


def test_zip_bomb_refused_by_declared_size(tmp_path, monkeypatch):
    zip_bomb(make_template(NATIONAL, tmp_path), tmp_path / "bomb.xlsx")
    assert (tmp_path / "bomb.xlsx").stat().st_size < 1024 * 1024
    import pipeline.ingest.xlsx_reader as reader

    def no_openpyxl(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(reader, "load_workbook", no_openpyxl)
    assert "压缩炸弹" in refused(tmp_path / "bomb.xlsx", "F5").text


def test_zip_bomb_refused_by_compression_ratio(tmp_path):
    zip_bomb(make_template(NATIONAL, tmp_path), tmp_path / "bomb.xlsx", size=5 * 1024 * 1024)
    refused(tmp_path / "bomb.xlsx", "F5")


def test_too_many_zip_entries(tmp_path):
    many_entries(make_template(NATIONAL, tmp_path), tmp_path / "many.xlsx", 600)
    refused(tmp_path / "many.xlsx", "F5")


def test_absurd_sheet_dimension(tmp_path):
    path = make_template(NATIONAL, tmp_path)
    member = sheet_member(path, APPLICATIONS)
    rewrite_member(
        path,
        tmp_path / "big.xlsx",
        member,
        lambda x: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:HZ9000"', x),
    )
    message = refused(tmp_path / "big.xlsx", "F5")
    assert message.sheet == APPLICATIONS and "9000" in message.text


def test_too_many_rows_without_dimension(tmp_path):
    template = make_template(NATIONAL, tmp_path)

    def long_sheet(wb):
        ws = wb[APPLICATIONS]
        for r in range(100, 5200):
            ws.cell(r, 2, "x")

    fill(template, tmp_path / "long.xlsx", {}, edit=long_sheet)
    path = tmp_path / "long.xlsx"
    member = sheet_member(path, APPLICATIONS)
    rewrite_member(path, tmp_path / "nodim.xlsx", member, lambda x: re.sub(r"<dimension [^>]*/>", "", x))
    parsed = read(tmp_path / "nodim.xlsx")
    message = only(parsed.problems, "F5")
    assert_names_file(message, "F5")
    assert message.sheet == APPLICATIONS


def test_truncated_workbook(tmp_path):
    data = make_template(NATIONAL, tmp_path).read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    assert "损坏" in refused(tmp_path / "cut.xlsx", "F5").text


def test_corrupt_sheet_xml_never_raises(tmp_path):
    path = make_template(NATIONAL, tmp_path)
    member = sheet_member(path, APPLICATIONS)
    rewrite_member(path, tmp_path / "bad.xlsx", member, lambda x: x[: len(x) // 2])
    assert "损坏" in refused(tmp_path / "bad.xlsx", "F5").text


def test_word_document_is_not_a_workbook(tmp_path):
    with zipfile.ZipFile(tmp_path / "doc.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    refused(tmp_path / "doc.xlsx", "F2")


def test_value_in_a_grey_cell_is_an_f11_warning(tmp_path):
    fmt = legacy_like_format()
    template = make_template(fmt, tmp_path, year=2017)
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    line = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "calls.total")
    grey = ws.cell(line, 5)  # 占比 is not asked for the total (B, C labels; D 件数)
    assert grey.protection.locked
    grey.value = 50
    wb.save(tmp_path / "f.xlsx")
    parsed = read_xlsx(Path(tmp_path / "f.xlsx").read_bytes(), fmt, FileOrigin("U001", "U001", FILE))
    assert parsed.cells.empty
    message = only(parsed.problems, "F11")
    assert_names_file(message, "F11", "WARNING")
    assert message.location == grey.coordinate and message.sheet == ws.title


def test_uncalculated_formula_off_the_form_is_harmless(tmp_path):
    template = make_template(NATIONAL, tmp_path)

    def helper_formula(wb):
        wb[APPLICATIONS]["M40"] = "=SUM(E10:K10)"

    fill(template, tmp_path / "f.xlsx", {}, edit=helper_formula)
    parsed = read(tmp_path / "f.xlsx")
    assert parsed.cells.empty and parsed.problems == []
