"""Write the Jianghan 2017 demo submissions: inbox/2017/<unit>/<file>.

The figures are those the published report prints (tests/reference/
jianghan-2017-report.txt), split among the units that supply them. Some units
hand in the Excel template (made by pipeline.workbook.writer and filled in
with openpyxl, as a clerk would), the others the interchange CSV.

    .venv/bin/python data/demo/jianghan/make_inbox.py

The figures are kept exactly as published, inconsistencies included: the
pipeline is expected to flag them (see tests/test_jianghan_warnings.py).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HOME = Path(__file__).resolve().parent
YEAR = 2017

# unit -> table -> indicator -> value as the unit writes it
FIGURES: dict[str, dict[str, dict[str, str]]] = {
    "office": {
        "proactive": {
            "portal_news_share": "51",
            "portal_policy_share": "43",
            "portal_other_share": "6",
            "query_points": "17",
            "portal_items": "346",
            "weibo_weixin_items": "670",
            "hotline_board_mailbox_items": "2651",
            "press_conferences": "1",
        },
        "applications": {
            "received": "63",
            "in_person": "0",
            "online": "0",
            "letter": "63",
            "fax": "0",
            "other_channel": "0",
            "handled": "63",
            "already_public": "0",
            "granted": "0",
            "partly_granted": "0",
            "refused": "0",
            "not_ours": "63",
            "not_exist": "0",
            "amend": "7",
            "other_route": "63",
        },
    },
    "bianban": {
        "staffing": {
            "admin_agencies": "64",
            "admin_quota": "1,591",
            "admin_staff": "1,519",
            "pi_direct_units": "8",
            "pi_dept_units": "162",
            "pi_quota": "5309",
            "pi_direct_quota": "60",
            "pi_dept_quota": "5309",
            "pi_realname_units": "170",
            "pi_staff": "5841",
            "disclosure_rate": "100",
            "realname_rate": "100",
        }
    },
    "finance": {
        "finance": {
            "budget_units": "73",
            "budget_amount": "35.9",
            "special_funds": "12",
            "special_amount": "15618.3156",
            "special_depts": "5",
            "beneficiaries": "96163",
        }
    },
    "shengai": {
        "powers": {
            "categories": "10",
            "items": "2097",
            "adjusted": "29",
            "street_items": "62",
            "sanban_district": "354",
            "sanban_street": "105",
        }
    },
    "hrss": {
        "social_security": {
            "services": "20",
            "insured_units": "261",
            "insured_people": "30470",
            "online_units": "226",
            "online_people": "27836",
            "rural_new": "1188",
            "severe_before": "26",
            "severe_after": "31",
        },
        "talent": {
            "services": "20",
            "info_items": "3000",
            "guides": "21",
            "grad_trained": "763",
            "unemployed_trained": "2116",
            "internships": "2198",
            "talent_housing": "595",
        },
    },
    "hotline": {
        "hotline": {
            "calls": "2275",
            "complaints": "1529",
            "suggestions": "426",
            "emergencies": "320",
            "referred": "1520",
            "on_the_spot": "746",
            "supervised": "9",
            # The percentages the hotline office wrote down (and the report printed).
            "complaints_pct": "67",
            "suggestions_pct": "19",
            "emergencies_pct": "14",
            "referred_pct": "67",
            "on_the_spot_pct": "32",
            "supervised_pct": "1",
        }
    },
    "szcg": {
        "city_management": {
            "mayor_received": "47447",
            "mayor_closed": "46831",
            "mayor_on_time_rate": "99.97",
            "cgw_received": "26969",
            "cgw_closed": "26969",
            "cgw_on_time_rate": "100",
        }
    },
    "archives": {
        "archives": {
            "received": "56",
            "release_rate": "100",
            "consultations": "502",
            "files_retrieved": "753",
        }
    },
    "legal": {
        "review_litigation": {
            "reviews": "39",
            "review_upheld": "14",
            "review_ordered": "17",
            "review_other": "8",
            "lawsuits": "45",
            "lawsuit_upheld": "33",
            "lawsuit_ordered": "0",
            "lawsuit_other": "12",
        }
    },
}

# Which units hand in the workbook; the others send CSV.
XLSX_UNITS = ("office", "bianban", "finance", "hotline", "legal")


def csv_bytes(tables: dict[str, dict[str, str]], unit: str | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value"] + (["unit", "year"] if unit else []))
    for table, values in tables.items():
        for row, value in values.items():
            writer.writerow([table, row, "value", value] + ([unit, YEAR] if unit else []))
    return buffer.getvalue().encode("utf-8")


def write_xlsx(path: Path, fmt, unit: str, name: str, tables: dict[str, dict[str, str]]) -> Path:
    """The office's workbook for `unit`, filled in cell by cell as a clerk would."""
    from openpyxl import load_workbook

    from pipeline.workbook.writer import COLUMNS_MARK, TABLE_MARK, write_template
    from schemas.numbers import parse_number

    write_template(fmt.for_unit(unit), path, unit_code=unit, unit_name=name, year=YEAR)
    wb = load_workbook(path)
    for ws in wb.worksheets:
        mark = ws.cell(1, 1).value
        if not (isinstance(mark, str) and mark.startswith(TABLE_MARK)):
            continue
        values = tables.get(mark[len(TABLE_MARK) :], {})
        value_col = None
        for row in ws.iter_rows(min_row=2):
            key = row[0].value
            if key == COLUMNS_MARK:
                value_col = next(c.column for c in row[1:] if c.value == "value")
            elif value_col and key in values:
                raw = values[key]
                number = parse_number(raw)
                # Clerks type numbers; a grouped figure like 1,591 is kept as typed text.
                typed = (
                    raw
                    if "," in raw or number is None
                    else (
                        int(number) if number == number.to_integral_value() and "." not in raw else float(raw)
                    )
                )
                ws.cell(row[0].row, value_col).value = typed
    wb.save(path)
    return path


def main(home: Path = HOME) -> list[Path]:
    sys.path.insert(0, str(HOME.parents[2]))
    import pandas as pd

    from schemas.legacy import load_format

    fmt = load_format(home, YEAR)
    registry = pd.read_csv(home / "registry" / "units.csv", dtype="string")
    names = dict(zip(registry["code"], registry["name"]))
    written = []
    for unit, tables in FIGURES.items():
        folder = home / "inbox" / str(YEAR) / unit
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        if unit in XLSX_UNITS:
            path = write_xlsx(folder / f"{YEAR}年政府信息公开统计指标-{names[unit]}.xlsx", fmt, unit, names[unit],
                              tables)  # fmt: skip
        else:
            path = folder / f"{YEAR}-{unit}.csv"
            path.write_bytes(csv_bytes(tables, unit))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main():
        print(p.relative_to(HOME))
