"""Regenerate the 示范区 demo: registry, office texts and every unit's files for 2019-2025 (2019-2020 in the trial format).

Run from the repository root: .venv/bin/python data/demo/shifanqu/make_inbox.py
The output is committed; this script documents how it was made. Deterministic.
- Units alternate between the Excel template and CSV exports (some CSV in GBK).
- Carry-overs are consistent from year to year (N7, N8 hold).
- 示范区交通运输局 (JTJ) breaks N1 in 2025; 南苑街道 (NYJD) hands in nothing for 2025.
- 示范区数据局 (SJJ) exists from 2024; 示范区档案馆 (DAG) was merged away after 2022.
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
        for year in YEARS:
            if year < first or (last is not None and year > last):
                continue
            cells = submission(format_for_year(year), name, year, rng, history, scale=scale)
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


if __name__ == "__main__":
    main()
