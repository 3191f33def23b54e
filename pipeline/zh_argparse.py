"""An ArgumentParser that speaks Chinese: usage, headings, help and errors.

argparse builds its texts in English (through gettext) before they reach the parser;
this subclass sets its own usage prefix, headings and -h help, and translates each
error message back from argparse's English templates (EN_ZH) in `error`. Texts not
listed stay as they are. Subparsers are of the same class (argparse's default).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys

# argparse's English templates (Python 3.11-3.13) and their Chinese.
EN_ZH = {
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少需要一个值",
    "expected %s argument": "需要 %s 个值",
    "expected %s arguments": "需要 %s 个值",
    "invalid %(type)s value: %(value)r": "“%(value)s”不是有效的%(type)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须指定其中一个",
}
PLACEHOLDER = re.compile(r"%\((\w+)\)([sr])|%s")


def _pattern(english: str) -> re.Pattern:
    """The template as a regex: each placeholder a named group (positional ones p0, p1…)."""
    out, pos = [], 0
    for count, m in enumerate(PLACEHOLDER.finditer(english)):
        out.append(re.escape(english[pos : m.start()]))
        name = m.group(1) or f"p{count}"
        out.append(f"(?P<{name}>.*?)")
        pos = m.end()
    out.append(re.escape(english[pos:]))
    return re.compile("".join(out), re.S)


PATTERNS = [(_pattern(en), en, zh) for en, zh in EN_ZH.items()]


def _unquoted(text: str) -> str:
    """A value argparse wrote with %r, as typed."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def translate(message: str) -> str:
    """`message` in Chinese when it is one of argparse's templates (nested ones too)."""
    for pattern, english, chinese in PATTERNS:
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = found.groupdict()
        if "message" in values:
            values["message"] = translate(values["message"])
        for name, spec in PLACEHOLDER.findall(english):
            if spec == "r" and f"%({name})r" not in chinese:  # shown as typed, not quoted
                values[name] = _unquoted(values[name])
        chinese = chinese.replace(")r", ")s")  # the captured text is already quoted
        if "p0" in values:
            return chinese % tuple(values[f"p{i}"] for i in range(len(values)))
        return chinese % values
    return message


class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse.ArgumentParser with Chinese usage, headings, -h help and errors."""

    def __init__(self, *args, add_help: bool = True, formatter_class=ChineseHelpFormatter, **kwargs):
        super().__init__(*args, add_help=False, formatter_class=formatter_class, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            prefix = "-" if "-" in self.prefix_chars else self.prefix_chars[0]
            self.add_argument(
                prefix + "h",
                prefix * 2 + "help",
                action="help",
                default=argparse.SUPPRESS,
                help="显示本帮助并退出",
            )

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{translate(message)}\n")
