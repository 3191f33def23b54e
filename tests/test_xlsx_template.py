"""The fill-in workbook: layout as on the official form, hidden codes, prefill."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries
from xlsx_fixtures import fill, input_cells, legacy_like_format, make_template

from pipeline.ingest.xlsx_reader import read_xlsx
from pipeline.workbook.writer import META_SHEET, PREFILL_NOTE, sheet_name
from schemas.catalogue import FileOrigin
from schemas.national_2021 import APPLICATIONS_CORNER
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.trial_2019 import FORMAT as TRIAL


def merged_with(ws, text: str) -> tuple[int, int, int, int]:
    """Bounds (min_col, min_row, max_col, max_row) of the merged range whose
    top-left cell holds `text`; a single cell if it is not merged."""
    cell = next(c for row in ws.iter_rows() for c in row if c.value == text)
    for rng in ws.merged_cells.ranges:
        if rng.min_row == cell.row and rng.min_col == cell.column:
            return range_boundaries(rng.coord)
    return cell.column, cell.row, cell.column, cell.row


def cell_with(ws, text: str):
    return next(c for row in ws.iter_rows() for c in row if c.value == text)


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    path = make_template(NATIONAL, tmp_path_factory.mktemp("tpl"))
    return openpyxl.load_workbook(path)


def test_one_sheet_per_table_then_narrative_and_hidden_metadata(national):
    assert national.sheetnames == [
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "文字部分",
        META_SHEET,
    ]
    meta = dict(national[META_SHEET].iter_rows(values_only=True))
    assert national[META_SHEET].sheet_state == "veryHidden"
    assert meta["format"] == "national-2021"
    assert meta["unit"] == "U001"
    assert meta["year"] == "2024"


def test_every_cell_of_the_format_has_exactly_one_input(national):
    assert set(input_cells(national)) == set(NATIONAL.cell_kinds())


def test_title_area_names_unit_year_format_and_instructions(national):
    ws = national["三、收到和处理政府信息公开申请情况"]
    top = " ".join(str(c.value) for row in ws.iter_rows(max_row=5) for c in row if c.value)
    for text in (
        "某某区司法局",
        "U001",
        "2024",
        "国办公开办函〔2021〕30号",
        "请只填写白色单元格；空白视为 0",
    ):
        assert text in top
    assert ws.column_dimensions["A"].hidden


def test_applications_headers_are_merged_with_verbatim_labels(national):
    ws = national["三、收到和处理政府信息公开申请情况"]
    corner = merged_with(ws, APPLICATIONS_CORNER)
    heading = merged_with(ws, "申请人情况")
    natural = merged_with(ws, "自然人")
    legal = merged_with(ws, "法人或其他组织")
    total = merged_with(ws, "总计")
    assert heading[2] - heading[0] + 1 == 7  # spans the seven value columns
    assert corner[3] - corner[1] + 1 == 3  # corner spans all three header rows
    assert corner[2] < heading[0]
    assert natural[1] == legal[1] == heading[1] + 1 and natural[3] == natural[1] + 1  # 自然人 spans two rows
    assert legal[2] - legal[0] + 1 == 5
    assert total[3] == natural[3]
    leaves = [ws.cell(legal[1] + 1, c).value for c in range(legal[0], legal[2] + 1)]
    assert leaves == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]


def test_applications_row_groups_are_merged_vertically(national):
    ws = national["三、收到和处理政府信息公开申请情况"]
    results = merged_with(ws, "三、本年度办理结果")
    withheld = merged_with(ws, "（三）不予公开")
    assert withheld[3] - withheld[1] + 1 == 8
    assert results[1] == cell_with(ws, "（一）予以公开").row
    assert results[3] == cell_with(ws, "（七）总计").row
    three_safety = cell_with(ws, "3.危及“三安全一稳定”")  # curly quotes kept
    assert withheld[1] < three_safety.row <= withheld[3]
    assert three_safety.column == withheld[0] + 1
    # Labels of rows without sub-items span the label columns.
    assert merged_with(ws, "一、本年新收政府信息公开申请数量")[2] == corner_end(ws)


def corner_end(ws) -> int:
    return merged_with(ws, APPLICATIONS_CORNER)[2]


def test_proactive_is_stacked_blocks_each_with_heading_and_header(national):
    ws = national["二、主动公开政府信息情况"]
    headings = [
        c.row
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("第二十条")
    ]
    assert [ws.cell(r, 2).value for r in headings] == [
        "第二十条第（一）项",
        "第二十条第（五）项",
        "第二十条第（六）项",
        "第二十条第（八）项",
    ]
    for r in headings:
        assert ws.cell(r + 1, 2).value == "信息内容"
    assert [ws.cell(headings[0] + 1, c).value for c in (3, 4, 5)] == [
        "本年制发件数",
        "本年废止件数",
        "现行有效件数",
    ]
    assert ws.cell(headings[3] + 1, 3).value == "本年收费金额（单位：万元）"
    # A one-column block stretches across the table like the form.
    assert merged_with(ws, "本年收费金额（单位：万元）")[2] == 5


def test_review_litigation_is_one_line_of_fifteen(national):
    ws = national["四、政府信息公开行政复议、行政诉讼情况"]
    review = merged_with(ws, "行政复议")
    litigation = merged_with(ws, "行政诉讼")
    direct = merged_with(ws, "未经复议直接起诉")
    after = merged_with(ws, "复议后起诉")
    assert review[2] - review[0] + 1 == 5 and review[3] == review[1] + 1
    assert litigation[2] - litigation[0] + 1 == 10 and litigation[0] == review[2] + 1
    assert (direct[0], direct[2], after[0], after[2]) == (
        litigation[0],
        litigation[0] + 4,
        litigation[0] + 5,
        litigation[2],
    )
    labels_row = review[3] + 1
    labels = [ws.cell(labels_row, c).value for c in range(review[0], litigation[2] + 1)]
    assert labels == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3
    where = {k: v for k, v in input_cells(national).items() if k[0] == "review_litigation"}
    assert len(where) == 15 and len({addr[1][1:] for addr in where.values()}) == 1  # one data line


def test_narrative_sheet_has_heading_and_big_wrapped_input(national):
    ws = national["文字部分"]
    where = input_cells(national)
    for code, heading in (("overview", "一、总体情况"), ("problems", "五、存在的主要问题及改进情况")):
        _, addr = where[("narrative", code, "text")]
        cell = ws[addr]
        assert ws.cell(cell.row - 1, cell.column).value == heading
        assert cell.alignment.wrap_text and not cell.protection.locked
        assert ws.row_dimensions[cell.row].height >= 150
        last_col = merged_with_cell(ws, cell)[2]
        assert last_col - cell.column >= 5
        # Excel refuses to edit a merged cell unless all its parts are unlocked.
        assert not any(ws.cell(cell.row, c).protection.locked for c in range(cell.column, last_col + 1))


def merged_with_cell(ws, cell):
    for rng in ws.merged_cells.ranges:
        if (rng.min_row, rng.min_col) == (cell.row, cell.column):
            return range_boundaries(rng.coord)
    return cell.column, cell.row, cell.column, cell.row


def test_inputs_unlocked_white_and_formatted_labels_locked(national):
    where = input_cells(national)
    for (table, row, column), (sheet, addr) in where.items():
        cell = national[sheet][addr]
        assert not cell.protection.locked, addr
        assert cell.fill.fgColor.rgb.endswith("FFFFFF")
        kind = NATIONAL.cell_kinds()[(table, row, column)]
        assert cell.number_format == {"count": "0", "decimal": "General", "text": "@"}[kind]
    ws = national["三、收到和处理政府信息公开申请情况"]
    assert ws.protection.sheet
    assert (
        not ws.protection.insertRows and not ws.protection.insertColumns and not ws.protection.formatColumns
    )
    label = cell_with(ws, "（一）予以公开")
    assert label.protection.locked and not label.fill.fgColor.rgb.endswith("FFFFFF")


def test_prefill_is_written_and_marked(tmp_path):
    prefill = {
        ("applications", "carried_over", "natural_person"): "5",
        ("proactive", "fees", "amount"): "1.25",
        ("narrative", "overview", "text"): "上年文字",
    }
    path = make_template(NATIONAL, tmp_path, prefill=prefill)
    wb = openpyxl.load_workbook(path)
    where = input_cells(wb)
    for key, expected in (
        ((prefill_keys := list(prefill))[0], 5),
        (prefill_keys[1], 1.25),
        (prefill_keys[2], "上年文字"),
    ):
        sheet, addr = where[key]
        cell = wb[sheet][addr]
        assert cell.value == expected
        assert cell.comment is not None and PREFILL_NOTE in cell.comment.text
        assert cell.fill.fgColor.rgb.endswith("FFF2CC")
    other = wb[where[("applications", "received", "natural_person")][0]][
        where[("applications", "received", "natural_person")][1]
    ]
    assert other.comment is None
    parsed = read_xlsx(Path(path).read_bytes(), NATIONAL, FileOrigin("U001", "U001", "t.xlsx"))
    got = {(r.table, r.row, r.column): r.raw for r in parsed.cells.itertuples()}
    assert got == prefill


def test_trial_2019_template_has_its_own_proactive_columns(tmp_path):
    wb = openpyxl.load_workbook(make_template(TRIAL, tmp_path, year=2020))
    assert set(input_cells(wb)) == set(TRIAL.cell_kinds())
    ws = wb["二、主动公开政府信息情况"]
    assert cell_with(ws, "第二十条第（九）项")
    assert cell_with(ws, "本年增/减")
    assert dict(wb[META_SHEET].iter_rows(values_only=True))["format"] == "trial-2019"


def test_sheet_names_are_valid_truncated_and_unique():
    taken: set[str] = set()
    a = sheet_name("一、关于[某某]/指标：主动公开?*情况\\以及其他非常非常长的标题文字说明", taken)
    b = sheet_name("一、关于[某某]/指标：主动公开?*情况\\以及其他非常非常长的标题文字说明", taken)
    for name in (a, b):
        assert len(name) <= 31 and not set("[]:*?/\\") & set(name)
    assert a != b


def test_generic_over_a_legacy_like_format(tmp_path):
    fmt = legacy_like_format()
    path = make_template(fmt, tmp_path, year=2017)
    wb = openpyxl.load_workbook(path)
    assert len(wb.sheetnames[0]) <= 31
    assert set(input_cells(wb)) == set(fmt.cell_kinds())
    ws = wb[wb.sheetnames[0]]
    assert merged_with(ws, "其中")[3] - merged_with(ws, "其中")[1] == 1  # group over its two rows
    values = {
        k: v for k, v in zip(fmt.cell_kinds(), (7, 3, 42.5, 2, 1.5, "备注", -4, "说明文字"), strict=True)
    }
    where = fill(path, tmp_path / "filled.xlsx", values)
    parsed = read_xlsx(
        Path(tmp_path / "filled.xlsx").read_bytes(), fmt, FileOrigin("U001", "U001", "filled.xlsx")
    )
    got = {(r.table, r.row, r.column): (r.raw, r.location) for r in parsed.cells.itertuples()}
    assert got == {k: (str(v), where[k][1]) for k, v in values.items()}
    assert parsed.problems == []
