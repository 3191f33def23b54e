"""A legacy year built end to end from an office catalogue and narrative template;
the sandbox refuses templates that reach for Python objects or files; unit text is
data (printed literally, escaped in HTML); a template referring to an indicator
nobody submitted fails naming the indicator and its owner."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_legacy_catalogue import HOTLINE, make_home

from pipeline.home import Home, read_parquet
from pipeline.render.legacy import NarrativeError, parse_rendered, render_narrative

NARRATIVE = """{# 测试区 2016 年报告正文（政务公开办） #}
本报告统计期限为{{ year }}年1月1日至12月31日。

# 一、概述
## (一)热线
{{ district }}热线受理来电{{ hotline.calls | thousands }}件,其中投诉类{{ hotline.complaints }}件,占{{ share(hotline.complaints, hotline.calls) }};其他类占{{ share(hotline.others, hotline.calls) }}。
{{ text.story }}
# 二、数字
公开资金{{ money.amount }}万元,按期办结率{{ hotline.on_time_rate }}%。
"""

UNIT_TEXT = (
    "热线<b>加班</b>{{ 7*7 }}{% if true %}X{% endif %}\n# 二、数字\n<script>alert(1)</script> & *强调*"
)


def csv_text(values: dict, extra: str = "") -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value"])
    for (table, row), value in values.items():
        writer.writerow([table, row, "value", value])
    if extra:
        writer.writerow(["narrative", "story", "text", extra])
    return buffer.getvalue().encode("utf-8")


def legacy_home(
    root: Path, narrative: str = NARRATIVE, hotline: dict | None = None, money: bool = True
) -> Home:
    make_home(root)
    (root / "narrative").mkdir()
    (root / "narrative" / "2016.txt.j2").write_text(narrative, encoding="utf-8")
    values = dict(HOTLINE if hotline is None else hotline)
    values.pop(("money", "amount"), None)
    for unit, data, text in (("H", values, UNIT_TEXT), ("M", {("money", "amount"): "10.5"}, "")):
        if unit == "M" and not money:
            continue
        folder = root / "inbox" / "2016" / unit
        folder.mkdir(parents=True)
        (folder / f"{unit}.csv").write_bytes(csv_text(data, text))
    return Home.resolve(root)


def run(home: Home, year: int = 2016):
    from dagster import DagsterInstance

    from pipeline.defs.assets.reports import outputs_run_config
    from pipeline.defs.definitions import build_definitions

    defs = build_definitions(str(home.root))  # the home as a resource value, not the environment
    with DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def("yearly_report").execute_in_process(
            partition_key=str(year),
            instance=instance,
            raise_on_error=False,
            run_config=outputs_run_config(("html", "md")),
        )


def failure(result) -> str:
    """Every message of the failed steps, down their chains of causes."""
    assert not result.success
    texts = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause
    return "\n".join(texts)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Home:
    home = legacy_home(tmp_path_factory.mktemp("legacy") / "home")
    assert run(home).success
    return home


def test_legacy_year_builds_end_to_end(built):
    md = (built.reports_dir(2016) / "report.md").read_text(encoding="utf-8")
    assert "# 测试区2016年政府信息公开工作年度报告" in md
    assert "测试区热线受理来电200件,其中投诉类150件,占75%;其他类占25%。" in md
    assert "公开资金10.5万元,按期办结率99.5%。" in md
    assert "### (一)热线" in md
    assert "## 附件：统计指标" in md and "| 受理来电 | 件 | 200 |" in md
    # No 文号 or 发文日期 in home.toml: a draft, and the empty record cells are not printed.
    assert "| 发布机构 | 测试区人民政府 |  |  |" in md and "有效性" not in md
    assert "**（征求意见稿）**" in md
    status = read_parquet(built.warehouse_dir(2016) / "status.parquet")
    assert set(status["status"]) == {"accepted"}
    assert (built.reports_dir(2016) / "units" / "H.md").is_file()
    assert (built.reports_dir(2016) / "units" / "M.html").is_file()


def test_unit_text_is_printed_literally(built):
    md = (built.reports_dir(2016) / "report.md").read_text(encoding="utf-8")
    # Template syntax in unit text is not evaluated …
    assert "\\{\\{ 7\\*7 \\}\\}\\{% if true %\\}X\\{% endif %\\}" in md.replace("{", "\\{").replace(
        "}", "\\}"
    ) or ("{{ 7\\*7 }}{% if true %}X{% endif %}" in md)
    assert "49" not in md
    # … a heading line in it stays a paragraph (the report still has exactly two sections) …
    assert md.count("\n## ") == 2 + 1  # 一、二, then 附件 (附：单位报送情况 is in validation.html)
    assert "\n\\# 二、数字\n" in md
    # … and markup is escaped so that Markdown shows it as typed.
    assert "\\<script\\>alert(1)\\</script\\> \\& \\*强调\\*" in md


def test_unit_text_is_escaped_in_html(built):
    html = (built.reports_dir(2016) / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<b>加班" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *强调*" in html
    assert "热线&lt;b&gt;加班&lt;/b&gt;{{ 7*7 }}{% if true %}X{% endif %}" in html
    assert html.count("<h2>") == 3  # 一、二, 附件


def test_unit_report_escapes_its_own_text(built):
    html = (built.reports_dir(2016) / "units" / "H.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html and "<script>alert" not in html


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ share.__globals__ }}",
        "{{ share.__globals__['__builtins__']['open']('/etc/passwd').read() }}",
        "{{ hotline._values }}",
        "{{ lipsum.__globals__.os.popen('id').read() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ hotline.__class__.__init__.__globals__ }}",
        "{% include '/etc/passwd' %}",
        "{% import 'os' as os %}{{ os.getcwd() }}",
        "{% extends '../../home.toml' %}",
        "{{ range(10**8)|list|length }}",
    ],
)
def test_sandbox_refuses_python_objects_and_files(source):
    from pipeline.render.legacy import _Figures

    context = {"hotline": _Figures("hotline", {"calls": "1"}, lambda t, c: "missing"), "year": 2016}
    with pytest.raises(NarrativeError) as info:
        render_narrative(source, context, name="narrative/2016.txt.j2")
    assert "叙述模板" in str(info.value) or "模板" in str(info.value)


def test_build_with_a_hostile_template_fails_with_a_chinese_message(tmp_path):
    home = legacy_home(tmp_path / "home", NARRATIVE.replace("{{ year }}年1月1日", "{{ share.__globals__ }}"))
    message = failure(run(home))
    assert "已拒绝" in message and "第 2 行" in message


def test_indicator_nobody_submitted_names_the_indicator_and_its_owner(tmp_path):
    partial = {k: v for k, v in HOTLINE.items() if k[1] != "on_time_rate"}
    home = legacy_home(tmp_path / "home", hotline=partial)
    message = failure(run(home))
    assert "“热线受理情况·按期办结率”（hotline.on_time_rate）" in message
    assert "热线办（H）已采用，但没有填写这一项" in message
    # The validation ran before: the unit was told too (L4).
    messages = read_parquet(home.warehouse_dir(2016) / "messages.parquet")
    assert "L4" in set(messages["rule"])


def test_indicator_of_a_unit_that_did_not_report(tmp_path):
    home = legacy_home(tmp_path / "home", money=False)
    message = failure(run(home))
    assert "（money.amount）" in message and "财政局（M）尚未报送" in message


def test_unknown_indicator_and_wrong_headings(tmp_path):
    home = legacy_home(tmp_path / "a", NARRATIVE.replace("hotline.complaints }}件", "hotline.complaint }}件"))
    assert "目录中没有这个指标" in failure(run(home))
    home = legacy_home(tmp_path / "b", NARRATIVE.replace("# 二、数字", "# 二、统计数字"))
    assert "一、概述；二、数字" in failure(run(home))


def test_missing_narrative_template(tmp_path):
    home = legacy_home(tmp_path / "home")
    (home.root / "narrative" / "2016.txt.j2").unlink()
    assert "缺少 2016 年度的报告叙述模板" in failure(run(home))


def test_parse_rendered_keeps_data_lines_as_paragraphs():
    from pipeline.render.legacy import DATA_MARK

    preamble, sections = parse_rendered(
        f"前言\n# 一、甲\n## 小标题\n{DATA_MARK}# 不是标题\n正文{DATA_MARK}12\n"
    )
    assert [p.text for p in preamble] == ["前言"]
    assert [(p.kind, p.text) for p in sections[0][1]] == [
        ("h3", "小标题"),
        ("p", "# 不是标题"),
        ("p", "正文12"),
    ]
