"""The one policy for names people choose (a handed-in file's name, in the inbox, the
portal, the upload API and `nianbao check`): an allow-list of characters.

Allowed: letters of every script (Chinese included), digits and other numbers
(①, Ⅱ), combining marks, punctuation and symbols (Chinese and full-width forms
included), the space and the ideographic space U+3000.

Refused, each with a Chinese reason naming the character:
- the characters Windows does not allow in a file name: \\ / : * ? " < > |, and "..";
- control characters (Cc), e.g. U+0007, DEL;
- every format character (Cf): the bidirectional marks, embeddings, overrides and
  isolates (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which make
  “报表‮xslx.exe” display as something it is not; zero-width spaces and joiners
  (U+200B–U+200D, U+2060), U+FEFF, the soft hyphen U+00AD;
- the line and paragraph separators U+2028, U+2029 (a line break in disguise), and
  every space other than the two above (U+00A0, U+2003 …);
- characters that show nothing although they are not format characters (the
  Hangul fillers, the variation selectors, U+034F, U+2800 …), private-use,
  unassigned and surrogate code points.
"""

from __future__ import annotations

import unicodedata

WINDOWS_RESERVED = '\\/:*?"<>|'
ALLOWED_SPACES = {" ", "\u3000"}
# Default-ignorable or blank-looking characters outside the Cf category.
INVISIBLE = {
    0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164, 0xFFA0,
    *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0),
}  # fmt: skip
BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
CHARACTER_NAMES = {
    0x00A0: "不换行空格", 0x00AD: "软连字符", 0x061C: "阿拉伯字母标记", 0x200B: "零宽空格",
    0x200C: "零宽非连接符", 0x200D: "零宽连接符", 0x200E: "从左至右标记", 0x200F: "从右至左标记",
    0x202A: "从左至右嵌入", 0x202B: "从右至左嵌入", 0x202C: "嵌入结束", 0x202D: "从左至右强制",
    0x202E: "从右至左强制", 0x2028: "行分隔符", 0x2029: "段分隔符", 0x2060: "字连接符",
    0x2066: "从左至右隔离", 0x2067: "从右至左隔离", 0x2068: "首字隔离", 0x2069: "隔离结束",
    0xFEFF: "字节顺序标记（零宽不换行空格）",
}  # fmt: skip
POLICY = "文件名只能由文字、数字、空格和常用标点组成（不能有控制字符、看不见的格式字符和特殊空格）。"


def code_point(char: str) -> str:
    """“U+200B 零宽空格”."""
    name = CHARACTER_NAMES.get(ord(char))
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def character_problem(char: str) -> str | None:
    """Why one character may not be in a name (a phrase), or None when it may."""
    if char in ALLOWED_SPACES:
        return None
    if char in WINDOWS_RESERVED:
        return f"字符“{char}”（Windows 文件名不允许 {WINDOWS_RESERVED} 这些字符）"
    category = unicodedata.category(char)
    where = code_point(char)
    if category == "Cc":
        return f"控制字符 {where}"
    if ord(char) in BIDI:
        return f"改变文字方向的控制字符 {where}"
    if category == "Cf" or ord(char) in INVISIBLE:
        return f"看不见的格式控制字符 {where}"
    if category in ("Zl", "Zp"):
        return f"换行用的分隔符 {where}"
    if category == "Zs":
        return f"特殊空格 {where}"
    if category[0] in "LNPSM":
        return None
    return f"不允许的字符 {where}"  # private use, unassigned, surrogates


def shown(text: str) -> str:
    """A name as a message prints it: every character the policy refuses (other than the
    visible Windows-reserved ones) as ⟨U+XXXX⟩, so a refused name cannot break a line,
    reorder the text around it or hide in it."""
    return "".join(
        f"⟨U+{ord(c):04X}⟩" if c not in WINDOWS_RESERVED and character_problem(c) else c for c in text
    )


def name_problem(name: str) -> str | None:
    """Why a name someone chose cannot be used (one Chinese phrase), or None when it is fine."""
    if not name:
        return "文件名为空"
    if name in {".", ".."} or ".." in name:
        return "文件名包含“..”"
    if "/" in name or "\\" in name:
        return "文件名包含路径分隔符"
    for char in name:
        problem = character_problem(char)
        if problem:
            return f"文件名包含{problem}"
    return None
