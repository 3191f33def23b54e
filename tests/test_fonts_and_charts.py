"""What a new user met first (issue 20, item 9): PDFs in empty boxes on a machine
without Chinese fonts, and matplotlib's font cache flooding the terminal.

A build that writes PDFs finds a Chinese font (the home's fonts/ or the system's,
through fontconfig as WeasyPrint does) or stops at once naming the package, writing
no PDF; the font set is part of the documents' render digest. Machines without
fonts are made with FONTCONFIG_FILE, in child processes. The review page's trend
charts are SVG written without a plotting library."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO, hand_in, valid_cells, write_home

from pipeline.render.fonts import cjk_fonts
from pipeline.render.review import chart_svg, nice_ticks
from pipeline.synth import to_csv

SVG = "{http://www.w3.org/2000/svg}"


def system_cjk_font() -> Path:
    fonts = [Path(f) for f, _, _ in cjk_fonts(None) if Path(f).name == "NotoSansCJK-Regular.ttc"]
    if not fonts:
        pytest.skip("未安装中文字体 fonts-noto-cjk（apt-get install -y fonts-noto-cjk）")
    return fonts[0]


def fontconfig(tmp_path: Path, name: str, fonts: list[Path]) -> dict[str, str]:
    """The environment of a machine whose only fonts are `fonts` (none: no font at all)."""
    folder = tmp_path / f"{name}-fonts"
    folder.mkdir()
    for font in fonts:
        (folder / font.name).symlink_to(font)
    conf = tmp_path / f"{name}.conf"
    conf.write_text(
        f'<?xml version="1.0"?>\n<fontconfig><dir>{folder}</dir><cachedir>{tmp_path / name}-cache</cachedir>'
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf), "PYTHONPATH": str(REPO)}


def python(code: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()


def nianbao(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("nianbao")
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=300)


# --- fonts ------------------------------------------------------------------------------


def test_without_a_chinese_font_no_pdf_is_written_and_the_package_is_named(tmp_path):
    font = system_cjk_font()
    home = write_home(tmp_path / "home", [("A", "甲局")])
    hand_in(home, 2025, "A", "a.csv", to_csv(valid_cells(2025, seed=1)))
    bare = fontconfig(tmp_path, "bare", [])
    assert python("from pipeline.render.fonts import cjk_fonts; print(cjk_fonts(None))", bare) == "()"

    done = nianbao(bare, "build", "--year", "2025", "--home", str(home.root), "--formats", "html,pdf")
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("错误：没有找到中文字体") and "fonts-noto-cjk" in lines[-1]
    assert "Traceback" not in done.stderr
    assert not list(home.root.rglob("*.pdf"))

    # The office's own font in the home's fonts/ folder is enough.
    (home.root / "fonts").mkdir()
    shutil.copy(font, home.root / "fonts" / "仿宋_GB2312.ttc")
    done = nianbao(bare, "build", "--year", "2025", "--home", str(home.root), "--formats", "html,pdf")
    assert done.returncode == 0, done.stderr
    pdf = home.reports_dir(2025) / "publish" / "report.pdf"
    assert (
        pdf.is_file()
        and "仿宋_GB2312" in subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    )


def test_the_render_digest_follows_the_systems_chinese_fonts(tmp_path):
    """Installing a font later renders the documents again: the digest changes with it."""
    font = system_cjk_font()
    home = write_home(tmp_path / "home", [("A", "甲局")])
    code = (
        "from pathlib import Path; from pipeline.render.outputs import _renderer_digest; "
        f"print(_renderer_digest(Path({str(home.root)!r})))"
    )
    without = python(code, fontconfig(tmp_path, "without", []))
    with_font = fontconfig(tmp_path, "with", [font])
    assert python(code, with_font) != without
    listed = python(
        "from pipeline.render.fonts import cjk_fonts; print([f for f, *_ in cjk_fonts(None)])", with_font
    )
    assert font.name in listed
    assert python(code, with_font) == python(code, with_font)  # and nothing else moves it


# --- trend charts -------------------------------------------------------------------------


YEARS = [2020, 2021, 2022, 2024]
LINES = {"本年新收": [120.0, 95.0, None, 140.0], "办结": [118.0, 97.0, 130.0, 135.0]}


def points(svg: str) -> list[tuple[float, float, str]]:
    root = ET.fromstring(svg)
    return [
        (float(c.get("cx")), float(c.get("cy")), c.find(f"{SVG}title").text)
        for c in root.iter(f"{SVG}circle")
        if c.find(f"{SVG}title") is not None
    ]


def test_every_figure_is_a_point_where_it_belongs():
    svg = chart_svg("政府信息公开申请", YEARS, LINES)
    found = points(svg)
    expected = [
        f"{y} 年 {name}：{v:g}" for name, vals in LINES.items() for y, v in zip(YEARS, vals) if v is not None
    ]
    assert [t for _, _, t in found] == expected
    by_title = {t: (x, y) for x, y, t in found}
    # x follows the year (2023 is a gap), y the value (SVG's y grows downward).
    xs = [by_title[f"{y} 年 办结：{v:g}"][0] for y, v in zip(YEARS, LINES["办结"])]
    assert xs == sorted(xs) and abs((xs[3] - xs[2]) - 2 * (xs[2] - xs[1])) < 0.2
    ys = {v: by_title[f"{y} 年 办结：{v:g}"][1] for y, v in zip(YEARS, LINES["办结"])}
    assert [ys[v] for v in sorted(ys)] == sorted(ys.values(), reverse=True)
    # One line per series, through its points only (the missing 2022 is skipped).
    polylines = [p.get("points").split() for p in ET.fromstring(svg).iter(f"{SVG}polyline")]
    assert [len(p) for p in polylines] == [3, 4]
    for label in [*LINES, "政府信息公开申请", "2024", "0"]:
        assert f">{label}<" in svg
    assert chart_svg("政府信息公开申请", YEARS, LINES) == svg  # the same markup from the same figures


def test_labels_are_escaped():
    hostile = '<script>alert(1)</script>&"'
    svg = chart_svg(hostile, YEARS, {hostile: LINES["办结"]})
    root = ET.fromstring(svg)  # well-formed
    assert "<script" not in svg and root.find(f"{SVG}text").text == hostile
    assert hostile in root.get("aria-label") and points(svg)[0][2].endswith(f"{hostile}：118")


@pytest.mark.parametrize(
    "low,high,expected",
    [(0, 123, [0, 50, 100, 150]), (0, 0, [0, 0.25, 0.5, 0.75, 1]), (3, 7.5, [0, 2, 4, 6, 8])],
)
def test_axis_ticks_are_round_and_cover_the_figures(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_charts_load_no_plotting_library():
    code = (
        "import sys; from pipeline.render.review import chart_svg; chart_svg('t', [2024, 2025], {'a': [1.0, 2.0]}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"
    )
    assert python(code, {**os.environ, "PYTHONPATH": str(REPO)}) == "[]"
    assert not re.search(r"matplotlib", (REPO / "pyproject.toml").read_text(encoding="utf-8"))
