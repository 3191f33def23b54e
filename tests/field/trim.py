"""Trims an archived report page to its article, as stored in tests/field/<slug>/page.html.

    python tests/field/trim.py ORIGINAL.html > tests/field/<slug>/page.html

What it keeps and drops (tests/field/README.md says the same):
- only the article: the portal's <div class="TRS_Editor"> (the page body where there is none);
- blocks (p, h1-h6, li; a container's own text between blocks becomes a <p>), tables, rows and
  cells, <br> inside a block or cell;
- of the attributes, only rowspan and colspan (style, class, lang, width, align... are dropped);
- span, font, b, strong, a, o:p and every other inline wrapper are unwrapped (their text kept);
  img, script and style are dropped;
- in text, non-breaking spaces and runs of whitespace become one space, trimmed at block and
  cell edges; a block left without text is dropped (an empty cell stays, as <td></td>).
One block or table row per line. Applied to its own output it changes nothing.
"""

from __future__ import annotations

import re
import sys
from html import escape

from lxml import html as lxml_html

BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li"}
DROPPED = {"img", "script", "style", "noscript", "iframe", "input", "button"}
_SPACE = re.compile(r"[\s\u00a0]+")


def _text(s: str | None) -> str:
    return escape(_SPACE.sub(" ", s or ""), quote=False)


def _tag(el) -> str:
    return el.tag.split("}")[-1].lower() if isinstance(el.tag, str) else ""


def _inline(el, out: list[str]) -> None:
    """The text of `el` and its descendants, <br> kept, inline wrappers unwrapped."""
    for child in el:
        tag = _tag(child)
        if tag == "br":
            out.append("<br>")
        elif tag == "table":
            out.append(_table(child))
        elif tag in BLOCKS or tag == "div":
            body = _block_body(child)
            if body:
                out.append(f"<{tag if tag in BLOCKS else 'p'}>{body}</{tag if tag in BLOCKS else 'p'}>")
        elif tag and tag not in DROPPED:
            out.append(_text(child.text))
            _inline(child, out)
        out.append(_text(child.tail))


def _block_body(el) -> str:
    parts = [_text(el.text)]
    _inline(el, parts)
    body = "".join(parts).strip()
    body = re.sub(r"(?:\s*<br>\s*)+$", "", re.sub(r"^(?:\s*<br>\s*)+", "", body)).strip()
    return body if re.sub(r"<br>|\s", "", body) else ""


def _cell(td) -> str:
    attrs = "".join(
        f' {name}="{int(td.get(name))}"'
        for name in ("rowspan", "colspan")
        if (td.get(name) or "").strip().isdigit() and int(td.get(name)) > 1
    )
    tag = _tag(td)
    return f"<{tag}{attrs}>{_block_body(td)}</{tag}>"


def _table(table) -> str:
    rows = [tr for tr in table.iter("tr") if tr.getparent() is table or tr.getparent().getparent() is table]
    lines = ["<table>"]
    for tr in rows:
        lines.append("<tr>" + "".join(_cell(td) for td in tr if _tag(td) in ("td", "th")) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _container(el, out: list[str]) -> None:
    """Blocks and tables of a container, each on its own line; loose text becomes a <p>."""
    run: list[str] = [_text(el.text)]

    def flush() -> None:
        body = "".join(run).strip()
        body = re.sub(r"(?:\s*<br>\s*)+$", "", re.sub(r"^(?:\s*<br>\s*)+", "", body)).strip()
        if re.sub(r"<br>|\s", "", body):
            out.append(f"<p>{body}</p>")
        run.clear()

    for child in el:
        tag = _tag(child)
        if tag == "table":
            flush()
            out.append(_table(child))
        elif tag in BLOCKS:
            flush()
            body = _block_body(child)
            if body:
                out.append(f"<{tag}>{body}</{tag}>")
        elif tag in ("div", "section", "article", "center", "tbody"):
            flush()
            _container(child, out)
        elif tag == "br":
            run.append("<br>")
        elif tag and tag not in DROPPED:
            run.append(_text(child.text))
            _inline(child, run)
        run.append(_text(child.tail))
    flush()


def trim(data: bytes) -> str:
    doc = lxml_html.document_fromstring(data.decode("utf-8"))
    found = doc.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]")
    root = found[0] if found else doc.body
    out: list[str] = []
    _container(root, out)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(out)
        + "\n</body></html>\n"
    )


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        sys.stdout.write(trim(f.read()))
