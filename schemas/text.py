"""Text that reaches a published report: control characters out, Markdown made inert.

Pure functions, no pipeline imports, so the readers (for a warning to the unit) and
the renderers (for the outputs) share one definition.

Control characters (`strip_controls`, `find_controls`):

- removed: C0 controls except tab and newline, DEL, C1 controls (U+0080–U+009F),
  the bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E,
  U+200F, U+202A–U+202E, U+2066–U+2069: they can make a published line read
  differently from what it says), U+FEFF (a stray byte-order mark), the interlinear
  annotation characters U+FFF9–U+FFFB, the noncharacters U+FFFE/U+FFFF and lone
  surrogates (they cannot even be written as UTF-8);
- normalised, not reported: CR LF and a lone CR become LF; the line and paragraph
  separators U+2028/U+2029 become LF (they are line breaks in disguise);
- kept: everything else, including zero-width joiners and spaces, which some
  scripts and emoji need and which cannot change what a renderer does.

Markdown (target: CommonMark, as GFM and most renderers extend it):

- `escape_markdown`: a unit's text, shown exactly as typed. Every character that
  can start Markdown or HTML syntax is backslash-escaped (raw HTML, entities, link,
  image and autolink syntax, emphasis, code, tables), and so is a line start that
  would make a heading, list, block quote or setext underline. Chinese prose has
  none of these characters, so it is unchanged; line and paragraph breaks stay.
- `escape_markdown_inline`: the same for text inside a line of other Markdown (a
  table cell, a name in a sentence): line breaks become spaces.
- `safe_markdown`: the coordinating office's own text (texts/<year>/*.md). Its
  Markdown formatting is kept (headings, lists, block quotes, emphasis, code), but
  raw HTML and entities are shown literally, images are shown literally, and a link
  stays a link only if it is an inline link or autolink to http(s) or mailto: every
  other bracket (reference links and definitions, javascript: and data: links) is
  escaped. Backslashes are escaped too, so an escape in the source cannot undo
  ours; inside a code span this shows an extra backslash, which is harmless.
"""

from __future__ import annotations

import re

_REMOVED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]"
)
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029]")


def strip_controls(text: str) -> str:
    """`text` without control characters; line breaks normalised to LF."""
    return _REMOVED.sub("", _LINE_BREAK.sub("\n", text))


def find_controls(text: str) -> list[str]:
    """The control characters `strip_controls` removes from `text`, as "U+001B",
    each once, in order of first appearance (for a message to the unit)."""
    seen: dict[str, None] = {}
    for char in _REMOVED.findall(text):
        seen.setdefault(f"U+{ord(char):04X}", None)
    return list(seen)


# Anywhere in a line: backslash, code, emphasis, links and images, HTML and
# autolinks, entities, tables, strikethrough.
_INLINE = re.compile(r"[\\`*_\[\]<>&|~]")
# At a line start: ATX heading, list items, block quote (already escaped as "\>"),
# setext underline / thematic break, ordered list item ("1." or "1)").
_BLOCK_START = re.compile(r"^([ \t]*)(?:([#+=-])|(\d+)([.)])(?=[ \t]|$))", re.MULTILINE)


def _escape_block_start(match: re.Match) -> str:
    indent, marker, number, delimiter = match.groups()
    return f"{indent}\\{marker}" if marker else f"{indent}{number}\\{delimiter}"


def escape_markdown(text: str) -> str:
    """A unit's text for a Markdown file: inert and shown literally."""
    escaped = _INLINE.sub(r"\\\g<0>", strip_controls(text))
    return _BLOCK_START.sub(_escape_block_start, escaped)


def escape_markdown_inline(text: str) -> str:
    """Text inside a line (a table cell, a name in a sentence): inline syntax
    (including "|") escaped, line breaks as spaces."""
    return _INLINE.sub(r"\\\g<0>", strip_controls(text).replace("\n", " "))


_URL = r"(?:https?://|mailto:)[^\s()<>\\\"'`]+"
_OFFICE = re.compile(
    rf"(?<!!)\[(?P<label>[^\[\]\n]*)\]\((?P<dest>{_URL})\)"  # an inline link to a safe address
    rf"|(?P<auto><{_URL}>)"  # an autolink to a safe address
    r"|(?P<char>!(?=\[)|[\\<&\[\]])"  # everything else that could make HTML, an entity or a link
)
_OFFICE_LABEL = re.compile(r"[\\<&]")


def _office_token(match: re.Match) -> str:
    if match["char"]:
        return "\\" + match["char"]
    if match["auto"]:
        return match["auto"]
    label = _OFFICE_LABEL.sub(r"\\\g<0>", match["label"])
    return f"[{label}]({match['dest']})"


def safe_markdown(text: str) -> str:
    """The office's Markdown with its formatting kept, and no raw HTML, entities,
    images or links other than http(s)/mailto."""
    return _OFFICE.sub(_office_token, strip_controls(text))
