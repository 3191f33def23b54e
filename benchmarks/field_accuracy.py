"""Accuracy of the published-report readers over the real reports in tests/field/.

    .venv/bin/python benchmarks/field_accuracy.py

Each tests/field/<slug>/ holds the hand-checked figures (cells.csv) and what could be
kept of the published report: page.html (the web page), any .docx or .pdf, and
page.txt (the archived page's text, tables flattened). Every such file is read with
the reader of its kind (pipeline/ingest/published/files.py; page.txt with the web
page reader, which refuses flattened tables) and each table cell of cells.csv is
counted, per input kind, as read right, read wrong (value differs), not read (the
reader named the cell and why) or refused (the whole document refused, with why).
Figures are compared as numbers ("1,234" is 1234); text sections are not counted.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.ingest.published import PublishedRefused  # noqa: E402
from pipeline.ingest.published.files import kind_of, read_report  # noqa: E402
from pipeline.ingest.published.html import read_html  # noqa: E402
from schemas.base import NARRATIVE_TABLE  # noqa: E402
from schemas.numbers import canonical, parse_number  # noqa: E402

FIELD = REPO / "tests" / "field"
KINDS = ("html", "docx", "pdf", "text")
KIND_NAMES = {
    "html": "网页（page.html）",
    "docx": "Word 文档",
    "pdf": "PDF 文件",
    "text": "网页正文文字（page.txt）",
}


@dataclass
class Tally:
    documents: int = 0
    cells: int = 0  # table cells hand-checked in cells.csv, over these documents
    right: int = 0
    wrong: list[str] = field(default_factory=list)  # "slug 表/行/列: read X, checked Y"
    unread: list[str] = field(default_factory=list)  # "slug 表/行/列: why"
    refused: list[str] = field(default_factory=list)  # "slug file: why" (each refuses all its cells)
    refused_cells: int = 0

    @property
    def read(self) -> int:
        return self.right + len(self.wrong)


def as_number(value: str) -> str:
    number = parse_number(value)
    return value.strip() if number is None else canonical(number)


def inputs(folder: Path) -> list[tuple[str, Path]]:
    """(kind, file) of every published form of the report kept in `folder`."""
    out = []
    for path in sorted(folder.iterdir()):
        if path.name == "page.txt":
            out.append(("text", path))
        elif path.suffix.lower() in (".html", ".htm", ".docx", ".pdf"):
            with path.open("rb") as f:
                out.append((kind_of(path, f.read(8)), path))
    return out


def read(kind: str, path: Path, year: int):
    if kind == "text":  # the archived text, offered to the web page reader as it is
        return read_html(path.read_bytes(), year)
    return read_report(path, year)


def accuracy(field_dir: Path = FIELD) -> dict[str, Tally]:
    tallies = {kind: Tally() for kind in KINDS}
    for folder in sorted(p for p in field_dir.iterdir() if (p / "cells.csv").is_file()):
        meta = dict(
            line.split(": ", 1)
            for line in (folder / "source.txt").read_text("utf-8").splitlines()
            if ": " in line
        )
        year = int(meta["year"])
        with open(folder / "cells.csv", encoding="utf-8", newline="") as f:
            checked = {
                (r["table"], r["row"], r["column"]): r["value"]
                for r in csv.DictReader(f)
                if r["table"] != NARRATIVE_TABLE
            }
        for kind, path in inputs(folder):
            tally = tallies[kind]
            tally.documents += 1
            tally.cells += len(checked)
            try:
                report = read(kind, path, year)
            except PublishedRefused as exc:
                tally.refused.append(f"{folder.name}/{path.name}：{exc}")
                tally.refused_cells += len(checked)
                continue
            got = {(c.table, c.row, c.column): c.value for c in report.cells}
            why = {(u.table, u.row, u.column): u.why for u in report.unread}
            for key, value in checked.items():
                where = f"{folder.name} {'/'.join(key)}"
                if key in got and as_number(got[key]) == as_number(value):
                    tally.right += 1
                elif key in got:
                    tally.wrong.append(f"{where}：读出“{got[key]}”，核对值“{value}”")
                else:
                    tally.unread.append(f"{where}：{why.get(key, '报告中没有这一格')}")
    return tallies


def main() -> None:
    tallies = accuracy()
    print("| 输入 | 报告 | 核对的格 | 读出 | 正确 | 未读出（逐格说明） | 整份拒绝的格 |")
    print("|---|---|---|---|---|---|---|")
    for kind, t in tallies.items():
        print(
            f"| {KIND_NAMES[kind]} | {t.documents} | {t.cells} | {t.read} | {t.right} | {len(t.unread)} | {t.refused_cells} |"
        )
    for kind, t in tallies.items():
        for line in t.wrong:
            print(f"读错（{KIND_NAMES[kind]}）：{line}")
        for line in t.unread:
            print(f"未读出（{KIND_NAMES[kind]}）：{line}")
        reasons = {}
        for line in t.refused:
            reasons.setdefault(line.split("：", 1)[1], []).append(line.split("：", 1)[0])
        for why, files in reasons.items():
            print(f"整份拒绝（{KIND_NAMES[kind]}，{len(files)} 份）：{why}")


if __name__ == "__main__":
    main()
