"""Legacy years per unit: each unit's workbook holds only its own indicators, and
an edited catalogue makes the next build read the files again."""

from __future__ import annotations

import openpyxl
from conftest import build
from test_jianghan_golden import copy_demo

from pipeline.cli import main
from schemas import format_for_year

YEAR = 2017


def test_template_holds_only_the_units_own_tables(tmp_path, capsys):
    home = copy_demo(tmp_path / "jianghan")
    out = tmp_path / "hotline.xlsx"
    assert (
        main(["template", "--year", str(YEAR), "--unit", "hotline", "-o", str(out), "--home", str(home.root)])
        == 0
    )
    sheets = openpyxl.load_workbook(out, read_only=True).sheetnames
    assert sheets == ["区长专线受理情况", "_nianbao"]
    full = format_for_year(YEAR, home.root)
    assert len(full.tables) > 1 and list(full.for_unit("hotline").tables) == ["hotline"]


def test_national_formats_give_every_unit_the_whole_form():
    fmt = format_for_year(2025)
    assert fmt.for_unit("ANY") is fmt


def test_an_edited_catalogue_is_read_again(tmp_path):
    home = copy_demo(tmp_path / "jianghan")

    def parsed_now() -> int:
        result = build(home, YEAR)
        [event] = [
            e
            for e in result.get_asset_materialization_events()
            if e.asset_key.to_user_string() == "submissions"
        ]
        return event.materialization.metadata["files_parsed_now"].value

    files = sum(1 for _ in home.inbox_dir(YEAR).rglob("*.*"))
    assert parsed_now() == files
    assert parsed_now() == 0
    catalogue = home.root / "catalogue" / f"{YEAR}.toml"
    text = catalogue.read_text(encoding="utf-8")
    assert 'label = "受理群众来电"' in text
    catalogue.write_text(
        text.replace('label = "受理群众来电"', 'label = "受理群众来电（含短信）"'), encoding="utf-8"
    )
    assert parsed_now() == files
