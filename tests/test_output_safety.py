"""Every published output is inert: unit text and the office's own text carrying
HTML, link syntax and control characters come out as text.

The Markdown outputs are rendered with markdown-it-py's CommonMark preset, which
lets raw HTML through (as CommonMark says), with its link check switched off so
that a javascript: link would come out as a link (as in permissive renderers).
Built end to end for a national-2021 year, a trial-2019 year and a legacy year;
the escaping functions themselves are checked against the same renderer.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import build, hand_in, valid_cells, write_home
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from test_legacy_catalogue import HOTLINE, make_home
from test_legacy_narrative import csv_text, run

from pipeline.home import Home
from pipeline.synth import to_csv
from schemas import format_for_year
from schemas.base import NARRATIVE_COLUMN, NARRATIVE_TABLE
from schemas.text import (
    escape_markdown,
    escape_markdown_inline,
    find_controls,
    safe_markdown,
    strip_controls,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[点我](javascript:alert(1))",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">链接</a>',
]
CONTROLS = ["\x01", "\x1b", "\x7f", "\u202e"]
HOSTILE = "\n".join(
    [
        "本单位认真落实\x01条例\x1b[31m要求\x7f，\u202e公开工作取得进展。",
        *PAYLOADS,
        "\x01<script>alert(2)</script>",  # a control before markup must not shield it
        "\u202e# 假标题",
        "**不加粗** " + " ".join(PAYLOADS),
    ]
)
OFFICE = HOSTILE + "\n**重点**：加强培训。"
# Tags CommonMark makes from our outputs; anything else (or any attribute) is live markup.
INERT_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "em", "code", "pre", "ul", "ol", "li"}
INERT_TAGS |= {"blockquote", "hr", "br"}


def renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True  # as a permissive renderer would
    return md


class Tags(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def controls_in(text: str) -> list[str]:
    """Independent of schemas/text.py: Unicode control (Cc) characters other than
    tab and newline, and the bidi formatting characters."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if (unicodedata.category(c) == "Cc" and c not in "\t\n") or unicodedata.bidirectional(c) in BIDI
    ]


def assert_inert_markdown(path: Path) -> str:
    rendered = renderer().render(path.read_text(encoding="utf-8"))
    for tag, attrs in Tags(rendered).tags:
        assert tag in INERT_TAGS and not attrs, f"{path.name}: live <{tag} {attrs}>"
    for fragment in ("<script", "<img", "<a ", "<iframe"):
        assert fragment not in rendered, f"{path.name}: {fragment}"
    return rendered


def assert_safe_html(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for tag, attrs in Tags(text).tags:
        assert tag not in {"script", "img", "iframe", "object", "embed"}, f"{path.name}: <{tag}>"
        for name, value in attrs:
            assert not name.startswith("on"), f"{path.name}: <{tag} {name}>"
            if name in {"href", "src"}:
                assert (value or "").startswith("#"), f"{path.name}: <{tag} {name}={value!r}>"


def assert_outputs_safe(folder: Path) -> dict[str, str]:
    """Every .md and .html under a year's reports/: inert, no control characters.
    Returns each Markdown file's rendering by name."""
    rendered = {}
    outputs = sorted(p for p in folder.rglob("*") if p.suffix in {".md", ".html"})
    assert any(p.suffix == ".md" for p in outputs) and any(p.parent.name == "units" for p in outputs)
    for path in outputs:
        text = path.read_text(encoding="utf-8")
        assert not controls_in(text), f"{path.relative_to(folder)}: {controls_in(text)}"
        assert "\r" not in text
        if path.suffix == ".md":
            rendered[str(path.relative_to(folder))] = assert_inert_markdown(path)
        else:
            assert_safe_html(path)
    return rendered


def shown_literally(rendered: str) -> bool:
    """Each payload appears as text, as typed."""
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    return all(p in text for p in PAYLOADS)


# --- end to end -----------------------------------------------------------------------


def _hostile_home(root: Path, year: int) -> Home:
    home = write_home(root, [("A", "甲局"), ("B", "乙局")], first_year=year)
    fmt = format_for_year(year)
    for n, unit in enumerate(("A", "B")):
        cells = valid_cells(year, seed=n + 1)
        for row in fmt.narrative_rows:
            cells[(NARRATIVE_TABLE, row, NARRATIVE_COLUMN)] = HOSTILE
        hand_in(home, year, unit, f"{unit}.csv", to_csv(cells))
    texts = home.root / "texts" / str(year)
    texts.mkdir(parents=True)
    for name in ("preamble", "problems"):
        (texts / f"{name}.md").write_text(OFFICE, encoding="utf-8")
    return home


@pytest.mark.parametrize("year", [2025, 2019], ids=["national-2021", "trial-2019"])
def test_national_and_trial_outputs_are_inert(tmp_path, year):
    home = _hostile_home(tmp_path / "home", year)
    build(home, year)
    rendered = assert_outputs_safe(home.reports_dir(year))
    district, unit = rendered["report.md"], rendered[str(Path("units") / "A.md")]
    # The office keeps its Markdown formatting; a unit's text shows as typed. (A unit's
    # report opens with the office's preamble: its own text is in the sections.)
    unit = unit[unit.index("<h2>") :]
    assert "<strong>重点</strong>" in district and shown_literally(district)
    assert "**不加粗**" in unit and "<strong>不加粗" not in unit and shown_literally(unit)
    assert "<h1>假标题</h1>" not in unit and "# 假标题" in html.unescape(unit)
    assert "本单位认真落实条例[31m要求，公开工作取得进展。" in unit
    md = (home.reports_dir(year) / "units" / "A.md").read_text(encoding="utf-8")
    assert "\\<script\\>alert(2)\\</script\\>" in md


def test_legacy_outputs_are_inert(tmp_path):
    root = tmp_path / "home"
    make_home(root)
    (root / "narrative").mkdir()
    office_lines = "\n".join(
        line for line in OFFICE.splitlines() if not line.lstrip("\u202e").startswith("#")
    )
    (root / "narrative" / "2016.txt.j2").write_text(
        f"{office_lines}\n# 一、概述\n{{{{ text.story }}}}\n{office_lines}\n# 二、数字\n"
        "热线受理来电{{ hotline.calls }}件。\n",
        encoding="utf-8",
    )
    values = {k: v for k, v in HOTLINE.items() if k != ("money", "amount")}
    for unit, data, text in (("H", values, HOSTILE), ("M", {("money", "amount"): "10.5"}, "")):
        folder = root / "inbox" / "2016" / unit
        folder.mkdir(parents=True)
        (folder / f"{unit}.csv").write_bytes(csv_text(data, text))
    home = Home.resolve(root)
    assert run(home).success
    rendered = assert_outputs_safe(home.reports_dir(2016))
    # The legacy narrative is plain text: office and unit text alike show as typed.
    assert shown_literally(rendered["report.md"]) and shown_literally(rendered[str(Path("units") / "H.md")])
    assert "<h1>假标题</h1>" not in rendered["report.md"]
    assert rendered["report.md"].count("<h2>") == 3  # 一、二, 附件 (附：单位报送情况 is in validation.html)


def test_control_characters_in_a_file_name_do_not_reach_the_validation_report(tmp_path):
    home = write_home(tmp_path / "home", [("A", "甲局")], first_year=2025)
    hand_in(home, 2025, "A", "a\x1b[31m\u202e.csv", to_csv(valid_cells(2025, seed=1)))
    build(home, 2025)
    text = (home.reports_dir(2025) / "validation.html").read_text(encoding="utf-8")
    assert "a[31m.csv" in text and not controls_in(text)


# --- the functions ------------------------------------------------------------------


def test_strip_controls_removes_controls_and_normalises_line_breaks():
    text = "甲\x01乙\x1b丙\x7f丁\x85戊\u202e己\u2066庚\u200f辛\ufeff壬\t癸\r\n子\r丑\u2028寅"
    assert strip_controls(text) == "甲乙丙丁戊己庚辛壬\t癸\n子\n丑\n寅"
    assert strip_controls("👨\u200d👩 零\u200b宽") == "👨\u200d👩 零\u200b宽"  # joiners are kept


def test_find_controls_names_each_once_in_order():
    assert find_controls("a\x1b[31mb\x01\x1bc\u202e\r\n") == ["U+001B", "U+0001", "U+202E"]
    assert find_controls("普通文字\r\n第二行\t制表") == []


def test_escape_markdown_leaves_chinese_prose_and_paragraphs_alone():
    prose = "2024年，我区政府信息公开工作取得成效（一是……；二是……）。\n\n下一步将加强培训：“公开为常态”！"
    assert escape_markdown(prose) == prose


@pytest.mark.parametrize("payload", PAYLOADS + ["&lt;script&gt;", "&#106;avascript:alert(1)"])
def test_each_escape_makes_payload_text(payload):
    for escape in (escape_markdown, escape_markdown_inline, safe_markdown):
        rendered = renderer().render(escape(payload))
        assert [tag for tag, _ in Tags(rendered).tags] == ["p"], (escape.__name__, rendered)
        assert html.unescape(rendered.strip()[3:-4]) == payload


@pytest.mark.parametrize(
    "line", ["# 标题", "1. 一", "1) 一", "- 项", "+ 项", "* 项", "> 引", "---", "===", "```", "~~~", "| a |"]
)
def test_escape_markdown_stops_block_syntax_at_a_line_start(line):
    rendered = renderer().render("前一段\n" + escape_markdown(line))
    assert rendered == f"<p>前一段\n{html.escape(line, quote=False)}</p>\n"


@given(st.text(alphabet=st.sampled_from(list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \naz09中文\x01\u202e"))))
def test_escape_markdown_shows_any_text_as_typed(text):
    lines = [line.strip() for line in strip_controls(text).split("\n") if line.strip()]
    source = "\n\n".join(escape_markdown(line) for line in lines)
    rendered = renderer().render(source)
    assert {tag for tag, _ in Tags(rendered).tags} <= {"p"}
    assert [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", rendered, re.S)] == lines


def test_inline_escape_keeps_a_table_cell_one_cell():
    cell = escape_markdown_inline("x|y\n<b>z</b>")
    rendered = MarkdownIt("commonmark").enable("table").render(f"| a |\n|---|\n| {cell} |\n")
    assert "<td>x|y &lt;b&gt;z&lt;/b&gt;</td>" in rendered


def test_office_markdown_keeps_formatting_and_safe_links_only():
    source = "\n".join(
        [
            "### 小标题",
            "1. **加强**培训",
            "> 引用",
            "[门户网站](https://www.example.gov.cn/a?b=1&c=2) <https://www.example.gov.cn>",
            "![图](https://www.example.gov.cn/x.png) [x][r] [y](data:text/html,hi)",
            "",
            "[r]: javascript:alert(1)",
            "`<b>` \\<i>斜</i>",
        ]
    )
    rendered = renderer().render(safe_markdown(source))
    tags = [(tag, attrs) for tag, attrs in Tags(rendered).tags]
    links = [dict(attrs)["href"] for tag, attrs in tags if tag == "a"]
    assert links == ["https://www.example.gov.cn/a?b=1&c=2", "https://www.example.gov.cn"]
    assert {tag for tag, _ in tags} == {"h3", "ol", "li", "strong", "blockquote", "p", "a", "code"}
    assert "![图](https://www.example.gov.cn/x.png)" in html.unescape(rendered)
    assert "[r]: javascript:alert(1)" in html.unescape(rendered)


def test_every_line_break_splits_paragraphs_and_control_only_lines_vanish():
    from pipeline.render.reports import paragraphs

    assert paragraphs("一\r二\u2028三\r\n\x01\u202e\n四\x1b") == ["一", "二", "三", "四"]
