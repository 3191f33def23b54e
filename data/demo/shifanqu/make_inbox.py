"""Regenerate the 示范区 demo: registry, office texts and every unit's files for 2019-2025 (2019-2020 in the trial format).

Run from the repository root: .venv/bin/python data/demo/shifanqu/make_inbox.py
The output is committed; this script documents how it was made. Deterministic.
- Units alternate between the Excel template and CSV exports (some CSV in GBK).
- Carry-overs are consistent from year to year (N7, N8 hold).
- 示范区交通运输局 (JTJ) breaks N1 in 2025; 南苑街道 (NYJD) hands in nothing for 2025.
- 示范区数据局 (SJJ) exists from 2024; 示范区档案馆 (DAG) was merged away after 2022.
- 示范区 is a county-level district (home.toml level = "县级"): its units make no 规章, so their
  规章 rows are 0, except 示范区文化和旅游局 (WLJ) 2025, which put a 规范性文件 in the 规章 row (G1).
- Cases so that each check of issue 9 fires on realistic data (see CASES below).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from pipeline.synth import UnitHistory, submission, to_csv
from pipeline.workbook.writer import write_template
from schemas import format_for_year

HERE = Path(__file__).resolve().parent
YEARS = range(2019, 2026)
# code, name, kind, first_year, last_year, scale (applications a year)
UNITS = [
    ("ZFB", "示范区人民政府办公室", "部门", 2019, None, 30),
    ("FGJ", "示范区发展和改革局", "部门", 2019, None, 12),
    ("JYJ", "示范区教育局", "部门", 2019, None, 25),
    ("KJJ", "示范区科技和经济信息化局", "部门", 2019, None, 8),
    ("GAJ", "示范区公安分局", "部门", 2019, None, 40),
    ("MZJ", "示范区民政局", "部门", 2019, None, 15),
    ("SFJ", "示范区司法局", "部门", 2019, None, 10),
    ("CZJ", "示范区财政局", "部门", 2019, None, 14),
    ("RSJ", "示范区人力资源和社会保障局", "部门", 2019, None, 22),
    ("ZRJ", "示范区自然资源和规划分局", "部门", 2019, None, 45),
    ("HBJ", "示范区生态环境分局", "部门", 2019, None, 18),
    ("ZJJ", "示范区住房和城市更新局", "部门", 2019, None, 35),
    ("CGJ", "示范区城市管理执法局", "部门", 2019, None, 20),
    ("JTJ", "示范区交通运输局", "部门", 2019, None, 12),
    ("NYJ", "示范区农业农村局", "部门", 2019, None, 6),
    ("SWJ", "示范区商务局", "部门", 2019, None, 7),
    ("WLJ", "示范区文化和旅游局", "部门", 2019, None, 6),
    ("WJW", "示范区卫生健康委员会", "部门", 2019, None, 16),
    ("YJJ", "示范区应急管理局", "部门", 2019, None, 9),
    ("SJG", "示范区市场监督管理局", "部门", 2019, None, 38),
    ("YBJ", "示范区医疗保障局", "部门", 2019, None, 11),
    ("TYJ", "示范区退役军人事务局", "部门", 2019, None, 5),
    ("DAG", "示范区档案馆", "部门", 2019, 2022, 4),
    ("SJJ", "示范区数据局", "部门", 2024, None, 5),
    ("DHJD", "东湖街道办事处", "街道", 2019, None, 14),
    ("XCJD", "西城街道办事处", "街道", 2019, None, 12),
    ("NYJD", "南苑街道办事处", "街道", 2019, None, 10),
]
BROKEN = ("JTJ", 2025)
MISSING = ("NYJD", 2025)


def _set(cells, key, value) -> None:
    cells[key] = str(value)


def _num(cells, key) -> int:
    return int(cells.get(key, "0"))


def text_quotes_wrong_figure(cells):
    """P1: the overview says 受理 17 件 (the table has more), as a published district report did."""
    received = _num(cells, ("applications", "received", "total"))
    cells[("narrative", "overview", "text")] += (
        f"\n全年共受理政府信息公开申请17件，上年结转{_num(cells, ('applications', 'carried_over', 'total'))}件，"
        f"办结{_num(cells, ('applications', 'handled_total', 'total'))}件。"
    )
    assert received != 17


def text_quotes_right_figures_full_width(cells):
    """P1 passing: figures quoted as "1,234 件" and in full-width digits, all agreeing."""

    def full(n: int) -> str:
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    cells[("narrative", "overview", "text")] += (
        f"\n本年新收政府信息公开申请{full(_num(cells, ('applications', 'received', 'total')))}件，"
        f"结转下年度继续办理 {_num(cells, ('applications', 'carried_forward', 'total')):,} 件。"
    )


def no_fee_statement(cells):
    """P2: section 六 says nothing about the 信息处理费."""
    cells[("narrative", "other_matters", "text")] = "本单位按要求办理人大代表建议和政协提案，并公开办理结果。"


def problems_none(cells):
    """P3: section 五 just says 无."""
    cells[("narrative", "problems", "text")] = "无。"


def long_overview(cells):
    """P4: an overview far beyond the office's 1,000 characters (a work summary pasted in)."""
    paragraph = (
        "我局坚持把政务公开作为转变政府职能、建设法治政府的重要抓手，健全完善主动公开、依申请公开、政策解读、"
        "回应关切等各项工作制度，不断拓宽公开渠道，创新公开方式，推动政务公开工作取得新成效。"
    )
    cells[("narrative", "overview", "text")] += "\n" + "\n".join([paragraph] * 14)


def placeholder(cells):
    """N10: a clerk typed “—” for none in a cell that was blank (0)."""
    blank = next(
        (t, r, c)
        for t, r, c in (("review_litigation", r, c) for r in ("litigation_after_review", "litigation_direct", "review")
                        for c in ("corrected", "other", "upheld", "pending"))
        if (t, r, c) not in cells
    )  # fmt: skip
    cells[blank] = "—"


def decimal_count(cells):
    """N5 (the unit is rejected) and an identity that says it could not be checked."""
    key = ("applications", "disclosed", "natural_person")
    cells[key] = f"{_num(cells, key)}.5"


def all_carried_forward(cells):
    """Y2: every application carried forward, none handled (the outcome rows left empty)."""
    for key in [k for k in cells if k[0] == "applications"]:
        if key[1] not in ("received", "carried_over"):
            del cells[key]
    for column in {k[2] for k in cells if k[0] == "applications"}:
        total = _num(cells, ("applications", "received", column)) + _num(
            cells, ("applications", "carried_over", column)
        )
        if total:
            _set(cells, ("applications", "carried_forward", column), total)


def penalty_jump(cells):
    """Y1: 行政处罚 decisions entered as 1,260 (the figure of the whole district's system)."""
    _set(cells, ("proactive", "penalty", "decisions"), 1260)


def regulation_row(cells):
    """G1: a 规范性文件 counted in the 规章 row."""
    _set(cells, ("proactive", "regulations", "issued"), 1)
    _set(cells, ("proactive", "regulations", "in_force"), 1)


# (unit, year) -> changes made to the synthetic cells before they are written.
CASES = {
    ("CZJ", 2025): [text_quotes_wrong_figure],
    ("MZJ", 2025): [text_quotes_right_figures_full_width],
    ("SWJ", 2025): [no_fee_statement],
    ("TYJ", 2024): [problems_none],
    ("HBJ", 2025): [long_overview],
    ("FGJ", 2025): [placeholder],
    ("KJJ", 2023): [decimal_count],
    ("YBJ", 2025): [all_carried_forward],
    ("GAJ", 2025): [penalty_jump],
    ("WLJ", 2025): [regulation_row],
}
# P5 (text as last year's) and P6 (every figure as last year's): 示范区农业农村局 handed in
# its 2024 file again for 2025, with only the year changed.
COPIED = ("NYJ", 2025)

OFFICE_TEXTS = {
    "problems": "{year}年，我区政府信息公开工作取得了一定成效，但仍存在一些不足：一是部分单位政策解读形式较为单一，解读的针对性有待加强；"
    "二是基层政务公开标准化规范化水平仍需提升。\n"
    "下一步，我区将加强对各单位的业务指导和培训，丰富政策解读形式，推进基层政务公开标准化规范化建设。",
    "other_matters": "{year}年，我区各单位均未收取政府信息公开信息处理费。我区认真办理人大代表建议和政协提案，按规定公开办理结果。",
}


def main() -> None:
    for sub in ("inbox", "texts"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
    lines = ["code,name,kind,first_year,last_year"]
    lines += [f"{c},{n},{k},{f},{'' if last is None else last}" for c, n, k, f, last, _ in UNITS]
    (HERE / "registry").mkdir(exist_ok=True)
    (HERE / "registry" / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    for index, (code, name, _kind, first, last, scale) in enumerate(UNITS):
        rng = random.Random(f"shifanqu-{code}")
        history = UnitHistory()
        last_cells: dict = {}
        for year in YEARS:
            if year < first or (last is not None and year > last):
                continue
            cells = submission(
                format_for_year(year), name, year, rng, history, scale=scale, regulations=False
            )
            if (code, year) == COPIED:
                cells = dict(last_cells)
            last_cells = dict(cells)
            for change in CASES.get((code, year), []):
                change(cells)
            if (code, year) == MISSING:
                continue
            if (code, year) == BROKEN:
                # A typing slip: received natural persons one too many, total adjusted to match (N3 holds, N1 breaks).
                for column in ("natural_person", "total"):
                    key = ("applications", "received", column)
                    cells[key] = str(int(cells.get(key, "0")) + 1)
            folder = HERE / "inbox" / str(year) / code
            folder.mkdir(parents=True, exist_ok=True)
            if index % 2 == 0:
                write_template(
                    format_for_year(year), folder / f"{year}年政府信息公开工作年度报告-{name}.xlsx",
                    unit_code=code, unit_name=name, year=year, values=cells,
                )  # fmt: skip
            else:
                data = to_csv(cells, unit=code, year=year)
                if index % 4 == 1:  # exported from an older desktop system
                    data = data.decode("utf-8").encode("gb18030")
                (folder / f"{code}-{year}.csv").write_bytes(data)

    for year in YEARS:
        folder = HERE / "texts" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        for section, text in OFFICE_TEXTS.items():
            (folder / f"{section}.md").write_text(text.format(year=year) + "\n", encoding="utf-8")
    # 2025: the office writes its own overview as a template with year-over-year wording,
    # and one sentence copied from a draft with a wrong figure (P1 on the office's text).
    (HERE / "texts" / "2025" / "overview.md").write_text(OFFICE_OVERVIEW_2025, encoding="utf-8")


OFFICE_OVERVIEW_2025 = """2025年，示范区深入贯彻落实《中华人民共和国政府信息公开条例》，各单位依法做好政府信息主动公开和依申请公开工作。
全年新收政府信息公开申请{{ v("applications", "received", "total") }}件，{{ yoy("applications", "received") }}；办结{{ v("applications", "handled_total", "total") }}件，{{ yoy("applications", "handled_total") }}。
因政府信息公开引起的行政复议{{ v("review_litigation", "review", "total") }}件，{{ yoy("review_litigation", "review") }}。
据各单位初步统计，全区共受理政府信息公开申请95件。
"""


if __name__ == "__main__":
    main()
