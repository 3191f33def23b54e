"""The interchange CSV reader: encodings, numbers, line numbers, header and identity rules."""

from __future__ import annotations

import pytest

from pipeline.ingest.csv_reader import read_csv
from schemas.catalogue import FileOrigin
from schemas.numbers import parse_number

BODY = "table,row,column,value\napplications,received,natural_person,12\nnarrative,overview,text,2024年，本单位……\n"


def read(data: bytes, unit: str = "U1", year: int = 2025):
    return read_csv(data, FileOrigin(unit, unit, "u.csv"), year)


@pytest.mark.parametrize(
    ("encoded", "name"),
    [
        (BODY.encode("utf-8"), "UTF-8"),
        (b"\xef\xbb\xbf" + BODY.encode("utf-8"), "UTF-8 with BOM"),
        (BODY.encode("gb18030"), "GB18030"),
        (BODY.encode("gbk"), "GBK"),
    ],
)
def test_accepted_encodings_give_the_same_cells(encoded, name):
    parsed = read(encoded)
    assert parsed.problems == [], name
    assert parsed.cells[["table", "row", "column", "raw"]].values.tolist() == [
        ["applications", "received", "natural_person", "12"],
        ["narrative", "overview", "text", "2024年，本单位……"],
    ]
    assert parsed.cells["location"].tolist() == ["第 2 行", "第 3 行"]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (BODY.encode("utf-16"), "UTF-16"),
        (b"table,row,column,value\n\x00\x01", "空字节"),
        (b"table,row,column,value\n" + bytes([0x81, 0x30, 0xFF, 0xFF]), "GB18030"),
    ],
)
def test_rejected_encodings_name_the_problem(data, fragment):
    parsed = read(data)
    assert [m.rule for m in parsed.problems] == ["F10"]
    assert fragment in parsed.problems[0].text and parsed.problems[0].file == "u.csv"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,591", "1591"),
        ("１５９１", "1591"),
        (" 12 ", "12"),
        ("35.9", "35.9"),
        ("-3", "-3"),
        ("１，５９１", "1591"),
    ],
)
def test_numbers_are_normalised(raw, expected):
    assert str(parse_number(raw)) == expected


@pytest.mark.parametrize("raw", ["1,5", "12a", "十二", "1.2.3", "", "1,5910", "--1"])
def test_non_numbers_are_not_guessed(raw):
    assert parse_number(raw) is None


def test_multiline_narrative_keeps_the_line_where_the_record_starts():
    data = 'table,row,column,value\nnarrative,overview,text,"第一段\n第二段"\napplications,received,total,3\n'.encode()
    parsed = read(data)
    assert parsed.cells["raw"].tolist() == ["第一段\n第二段", "3"]
    assert parsed.cells["location"].tolist() == ["第 2 行", "第 4 行"]


def test_column_order_is_free_and_unit_year_are_optional():
    data = b"value,column,row,table,year,unit\n7,total,received,applications,2025,U1\n"
    parsed = read(data)
    assert parsed.problems == []
    assert parsed.cells[["table", "row", "column", "raw"]].values.tolist() == [
        ["applications", "received", "total", "7"]
    ]


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("table,row,value", "缺少列 column"),
        ("table,row,column,value,remark", "多出不认识的列 remark"),
        ("table,row,column,value,value", "列名重复 value"),
    ],
)
def test_bad_header(header, fragment):
    parsed = read(f"{header}\n".encode())
    assert [m.rule for m in parsed.problems] == ["F11"]
    assert fragment in parsed.problems[0].text and parsed.problems[0].location == "第 1 行"


def test_ragged_line_names_its_line():
    parsed = read(b"table,row,column,value\napplications,received,total\n")
    assert [(m.rule, m.location) for m in parsed.problems] == [("F11", "第 2 行")]


def test_unit_and_year_must_match_the_submission():
    data = "table,row,column,value,unit,year\napplications,received,total,1,U2,2025\napplications,received,natural_person,1,U1,2024\n"
    parsed = read(data.encode())
    assert [(m.rule, m.location) for m in parsed.problems] == [("F8", "第 2 行"), ("F8", "第 3 行")]
    assert "U2" in parsed.problems[0].text and "2024" in parsed.problems[1].text


def test_header_only_file_has_no_cells_and_no_problems():
    parsed = read(b"table,row,column,value\n")
    assert parsed.cells.empty and parsed.problems == []


def test_blank_values_are_skipped():
    parsed = read(b"table,row,column,value\napplications,received,total,\n")
    assert parsed.cells.empty
