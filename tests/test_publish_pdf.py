"""PDF read back with poppler-utils: A4 pages, text in reading order equal to the
Markdown report's, every font embedded, page numbers, no WeasyPrint warning,
and a page image that is not blank."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_publish_docx import jianghan, rendered, shifanqu  # noqa: F401 - module fixtures

from pipeline.render.on_demand import load_views
from pipeline.render.writers import WRITERS, RenderContext

pytestmark = [
    pytest.mark.skipif(
        not shutil.which("pdftotext"), reason="未安装 poppler-utils（apt-get install -y poppler-utils）"
    ),
    pytest.mark.skipif(
        "Noto Serif CJK" not in subprocess.run(["fc-list"], capture_output=True, text=True).stdout,
        reason="未安装中文字体 fonts-noto-cjk（apt-get install -y fonts-noto-cjk），PDF 会缺字",
    ),
]

_MD_ESCAPE = re.compile(r"\\([\\`*_\[\]<>|&~#+\-=.(){}!])")


def poppler(tool: str, path: Path, *args: str) -> str:
    """`tool [options] file [-]`: options first, then the file, then "-" (stdout) where given."""
    options = [a for a in args if a != "-"]
    tail = ["-"] if "-" in args else []
    return subprocess.run(
        [tool, *options, str(path), *tail], capture_output=True, text=True, check=True
    ).stdout


def markdown_text(md: str) -> list[str]:
    """Headings and paragraphs of the Markdown report, tables and the record left out."""
    out = []
    for line in md.splitlines():
        line = line.strip()
        if not line or line.startswith("|") or line.startswith("**"):
            continue
        out.append(_MD_ESCAPE.sub(r"\1", line.lstrip("#").strip()))
    return out


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_of(home, year: int, tmp_path: Path, unit: str | None = None) -> tuple[Path, str, list[str]]:
    fmt, district, units, _ = load_views(home, year)
    from pipeline.render.model import resolve

    view = district if unit is None else resolve(units[unit])
    ctx = RenderContext(fmt, home.root)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{year}-{unit or 'district'}.pdf"
    path.write_bytes(WRITERS["pdf"].render(view, ctx))
    md = (home.reports_dir(year) / ("report.md" if unit is None else f"units/{unit}.md")).read_text("utf-8")
    return path, md, ctx.warnings


@pytest.mark.parametrize("year,unit", [(2024, None), (2024, "ZFB"), (2019, None)], ids=str)
def test_national_and_trial_pdfs(shifanqu, tmp_path, year, unit):  # noqa: F811
    path, md, warnings = pdf_of(shifanqu, year, tmp_path, unit)
    assert warnings == []
    check_pdf(path, md)


def test_legacy_pdf(jianghan, tmp_path):  # noqa: F811
    path, md, warnings = pdf_of(jianghan, 2017, tmp_path)
    assert warnings == []
    check_pdf(path, md)
    # A draft (2017 has no 文号 in home.toml): the mark heads every page.
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", path)).group(1))
    for page in range(1, pages + 1):
        assert "征求意见稿" in poppler("pdftotext", path, "-f", str(page), "-l", str(page), "-")


def check_pdf(path: Path, md: str) -> None:
    info = poppler("pdfinfo", path)
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    sizes = re.findall(
        r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", poppler("pdfinfo", path, "-f", "1", "-l", str(pages))
    )
    assert len(sizes) == pages and {(round(float(w)), round(float(h))) for w, h in sizes} == {(595, 842)}
    # Every font embedded (the "emb" column), and there are fonts at all.
    fonts = poppler("pdffonts", path).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    # Text in reading order: each heading and paragraph of the Markdown report, in order,
    # once the page furniture (draft mark, "— N —") is taken out between pages.
    page_texts = [
        squeeze(poppler("pdftotext", path, "-f", str(n), "-l", str(n), "-")) for n in range(1, pages + 1)
    ]
    text = "".join(
        re.sub(r"^征求意见稿", "", t).replace(f"—{n}—", "", 1) for n, t in enumerate(page_texts, 1)
    )
    at = 0
    for paragraph in markdown_text(md):
        found = text.find(squeeze(paragraph), at)
        assert found >= 0, f"not found in order: {paragraph}"
        at = found + len(squeeze(paragraph))
    # "— N —" on every page.
    for page, page_text in enumerate(page_texts, 1):
        assert f"—{page}—" in page_text
    # The first page drawn is not blank: a share of dark pixels in a small grey image.
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "30", "-f", "1", "-l", "1", str(path), str(path.with_suffix(""))],
        check=True,
    )
    image = next(path.parent.glob(f"{path.stem}-*1.pgm")).read_bytes()
    pixels = image.split(b"\n", 3)[3]
    dark = sum(1 for b in pixels if b < 128)
    assert dark > len(pixels) * 0.01


def test_office_fonts_from_the_home_are_used(shifanqu, tmp_path):  # noqa: F811
    """A font file in <home>/fonts/ named as the official face (仿宋_GB2312) replaces the stand-in
    and is embedded under that name (here a copy of Noto Sans CJK plays the licensed font)."""
    source = next(
        Path(p)
        for p in subprocess.run(["fc-list", "-f", "%{file}\n"], capture_output=True, text=True).stdout.split()
        if Path(p).name == "NotoSansCJK-Regular.ttc"
    )
    before, _, _ = pdf_of(shifanqu, 2024, tmp_path, "ZFB")
    assert "仿宋_GB2312" not in poppler("pdffonts", before)
    fonts = shifanqu.root / "fonts"
    fonts.mkdir(exist_ok=True)
    shutil.copy(source, fonts / "仿宋_GB2312.ttc")
    try:
        path, md, warnings = pdf_of(shifanqu, 2024, tmp_path / "home-fonts", "ZFB")
    finally:
        shutil.rmtree(fonts)
    assert warnings == []
    assert "+仿宋_GB2312 " in poppler("pdffonts", path)
    check_pdf(path, md)


def test_draft_mark_absent_once_the_record_is_filled(shifanqu, tmp_path):  # noqa: F811
    path, _, _ = pdf_of(shifanqu, 2024, tmp_path)
    text = poppler("pdftotext", path, "-")
    assert "征求意见稿" not in text
    assert "示政办〔2025〕5号" in text and "2025年3月20日" in text  # 文号 under the title, date signed


def test_a_long_unbroken_token_wraps_onto_the_pages(tmp_path):
    """Issue 20, item 8: a unit's text of 20,000 characters without a break point (the
    per-cell limit) is wrapped at the margin; every character is on a page (pdftotext
    leaves out what is drawn beyond the page)."""
    from conftest import build, hand_in, valid_cells, write_home

    from pipeline.steps.check import MAX_TEXT_CHARS
    from pipeline.synth import to_csv

    token = ("abcdefghij0123456789" * MAX_TEXT_CHARS)[:MAX_TEXT_CHARS]
    home = write_home(tmp_path / "home", [("A", "甲局")])
    cells = valid_cells(2025, seed=1)
    cells[("narrative", "overview", "text")] = token
    hand_in(home, 2025, "A", "a.csv", to_csv(cells))
    build(home, 2025)
    path, md, warnings = pdf_of(home, 2025, tmp_path, "A")
    assert warnings == []
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", path)).group(1))
    text = "".join(
        re.sub(
            "^征求意见稿", "", squeeze(poppler("pdftotext", path, "-f", str(n), "-l", str(n), "-"))
        ).replace(f"—{n}—", "", 1)
        for n in range(1, pages + 1)
    )
    assert token in text
    check_pdf(path, md)
