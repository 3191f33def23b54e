"""The Chinese ArgumentParser (pipeline/zh_argparse.py): argparse's own errors and
headings in Chinese, without touching the argparse module."""

from __future__ import annotations

import argparse

import pytest

from pipeline.zh_argparse import ChineseArgumentParser, translate


def test_errors_come_back_in_chinese_nested_ones_too():
    assert (
        translate("the following arguments are required: --year, --unit") == "缺少必需的参数：--year, --unit"
    )
    assert translate("argument --formats: expected one argument") == "参数 --formats：需要一个值"
    assert translate("argument --n: invalid int value: 'x1'") == "参数 --n：“x1”不是有效的int"
    assert translate("argument 命令: invalid choice: 'bogus' (choose from 'a', 'b')") == (
        "参数 命令：无效的选择：'bogus'（可选：'a', 'b'）"
    )
    assert translate("something argparse may say one day") == "something argparse may say one day"


def test_the_parser_and_its_subparsers_speak_chinese_and_argparse_is_untouched(capsys):
    parser = ChineseArgumentParser(prog="tool")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--count", type=int, required=True)
    with pytest.raises(SystemExit) as exit:
        parser.parse_args(["run", "--count", "many"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：tool run") and "tool run：错误：参数 --count：“many”不是有效的int" in err
    help_text = run.format_help()
    assert "显示本帮助并退出" in help_text and "选项" in help_text and "usage" not in help_text
    plain = argparse.ArgumentParser(prog="plain")
    assert plain.format_usage().startswith("usage: ")  # other parsers keep argparse's texts
