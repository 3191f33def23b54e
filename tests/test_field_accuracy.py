"""Accuracy of the published-report readers over the real reports in tests/field/
(benchmarks/field_accuracy.py): whatever page.html, .docx or .pdf files the corpus
holds, every figure read is the hand-checked one; the archived page texts (tables
flattened) are refused whole, with the reason, never read."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.field_accuracy import FIELD, accuracy  # noqa: E402


def test_every_figure_read_from_a_real_report_is_right():
    tallies = accuracy()
    for kind, t in tallies.items():
        assert t.wrong == [], (kind, t.wrong[:5])
        assert t.read + len(t.unread) + t.refused_cells == t.cells, kind
    text = tallies["text"]
    assert text.documents == len([p for p in FIELD.iterdir() if (p / "page.txt").is_file()]) > 0
    assert text.read == 0 and all("展平为文字" in line for line in text.refused)


def test_the_real_pdfs_are_read_cell_for_cell_and_the_misprinted_row_is_refused():
    """hzq-2023/2024: WPS PDFs (white paragraph shading behind the prose, tables continued over
    a page break with the cut side unruled). Every hand-checked cell is read right except the
    row printed "2.其他法律行政止公开" (three characters missing), refused cell by cell naming it."""
    pdf = accuracy()["pdf"]
    assert (pdf.documents, pdf.cells, pdf.read, pdf.right, pdf.refused_cells) == (2, 372, 358, 358, 0)
    assert len(pdf.unread) == 14
    for line in pdf.unread:
        assert "/withheld_prohibited_by_law/" in line
        assert "第 3 页第 2 个表格第 9 行第 3 列的“2.其他法律行政止公开”" in line


def test_a_refused_file_is_counted_with_its_reason(tmp_path):
    """A file the reader refuses counts all its cells as refused, naming the file and why."""
    slug = sorted(p for p in FIELD.iterdir() if (p / "cells.csv").is_file())[0]
    folder = tmp_path / slug.name
    shutil.copytree(slug, folder)
    (folder / "report.pdf").write_bytes(b"%PDF-1.4\nnot a PDF\n")
    tallies = accuracy(tmp_path)
    pdf = tallies["pdf"]
    assert pdf.documents == 1 and pdf.refused_cells == pdf.cells > 0
    [line] = pdf.refused
    assert line.startswith(f"{slug.name}/report.pdf：PDF 文件已损坏")
