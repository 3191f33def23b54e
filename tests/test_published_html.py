"""The reader of published HTML reports (pipeline/ingest/published): merged headers,
rowspan/colspan, placeholders as printed, another format's table, flattened pages,
and the limits. The pages are laid out as portals publish the official form
(Word exported to HTML: spanning group labels, three header rows in 表三)."""

from __future__ import annotations

import pytest

from pipeline.ingest.published import MAX_BYTES, PublishedRefused, read_html
from schemas.national_2021 import APPLICATIONS

PREAMBLE = "<p>根据《中华人民共和国政府信息公开条例》要求，编制本报告。</p>"


def td(text, rowspan=1, colspan=1) -> str:
    attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (
        f' colspan="{colspan}"' if colspan > 1 else ""
    )
    return f"<td{attrs}><p><span>{text}</span></p></td>"


def proactive_national(values: dict[str, list[str]]) -> str:
    v = values
    return (
        "<table>"
        f"<tr>{td('第二十条第（一）项', colspan=4)}</tr>"
        f"<tr>{td('信息内容')}{td('本年制发件数')}{td('本年废止件数')}{td('现行有效件数')}</tr>"
        f"<tr>{td('规章')}{''.join(td(x) for x in v['regulations'])}</tr>"
        f"<tr>{td('行政规范性文件')}{''.join(td(x) for x in v['normative_documents'])}</tr>"
        f"<tr>{td('第二十条第（五）项', colspan=4)}</tr>"
        f"<tr>{td('信 息 内 容')}{td('本年处理决定数量', colspan=3)}</tr>"
        f"<tr>{td('行政许可')}{td(v['licensing'][0], colspan=3)}</tr>"
        f"<tr>{td('第二十条第（六）项', colspan=4)}</tr>"
        f"<tr>{td('信息内容')}{td('本年处理决定数量', colspan=3)}</tr>"
        f"<tr>{td('行政处罚')}{td(v['penalty'][0], colspan=3)}</tr>"
        f"<tr>{td('行政强制')}{td(v['coercion'][0], colspan=3)}</tr>"
        f"<tr>{td('第二十条第（八）项', colspan=4)}</tr>"
        f"<tr>{td('信息内容')}{td('本年收费金额（单位：万元）', colspan=3)}</tr>"
        f"<tr>{td('行政事业性收费')}{td(v['fees'][0], colspan=3)}</tr>"
        "</table>"
    )


def proactive_trial_printed() -> str:
    """The 2019 trial 表二 as some 2023 reports still print it."""
    return (
        "<table>"
        f"<tr>{td('第二十条第（一）项', colspan=4)}</tr>"
        f"<tr>{td('信息内容')}{td('本年新制作数量')}{td('本年新公开数量')}{td('对外公开总数量')}</tr>"
        f"<tr>{td('规章')}{td('0')}{td('0')}{td('0')}</tr>"
        f"<tr>{td('规范性文件')}{td('2')}{td('2')}{td('15')}</tr>"
        "</table>"
    )


def applications(values: dict[str, list[str]]) -> str:
    """表三 with the official merged header (3 rows) and spanning group labels."""
    head = (
        f"<tr>{td(APPLICATIONS.corner, rowspan=3, colspan=3)}{td('申请人情况', colspan=7)}</tr>"
        f"<tr>{td('自然人', rowspan=2)}{td('法人或其他组织', colspan=5)}{td('总计', rowspan=2)}</tr>"
        f"<tr>{td('商业企业')}{td('科研机构')}{td('社会公益组织')}{td('法律服务机构')}{td('其他')}</tr>"
    )
    body = []
    rows = APPLICATIONS.rows
    i = 0
    while i < len(rows):
        row = rows[i]
        cells = "".join(td(x) for x in values.get(row.code, ["0"] * 7))
        if len(row.path) == 1:
            body.append(f"<tr>{td(row.path[0], colspan=3)}{cells}</tr>")
        else:
            lead = ""
            if i == 0 or rows[i - 1].path[0] != row.path[0]:
                span = sum(1 for r in rows if r.path[0] == row.path[0])
                lead = td(row.path[0], rowspan=span)
            if len(row.path) == 2:
                body.append(f"<tr>{lead}{td(row.path[1], colspan=2)}{cells}</tr>")
            else:
                group = ""
                if rows[i - 1].path[:2] != row.path[:2]:
                    span = sum(1 for r in rows if r.path[:2] == row.path[:2])
                    group = td(row.path[1], rowspan=span)
                body.append(f"<tr>{lead}{group}{td(row.path[2])}{cells}</tr>")
        i += 1
    return f"<table>{head}{''.join(body)}</table>"


def review(values: list[str]) -> str:
    cols = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    return (
        "<table>"
        f"<tr>{td('行政复议', colspan=5)}{td('行政诉讼', colspan=10)}</tr>"
        f"<tr>{''.join(td(c, rowspan=2) for c in cols)}{td('未经复议直接起诉', colspan=5)}{td('复议后起诉', colspan=5)}</tr>"
        f"<tr>{''.join(td(c) for c in cols * 2)}</tr>"
        f"<tr>{''.join(td(x) for x in values)}</tr>"
        "</table>"
    )


def page(*tables: str, six: str = "本年度未收取信息处理费。") -> bytes:
    t2, t3, t4 = (list(tables) + ["", "", ""])[:3]
    body = (
        "<div class='nav'><a href='/'>首页</a> 政务公开 五、其他链接</div>"
        "<div class='article'>"
        f"<h1>某局2023年政府信息公开工作年度报告</h1>{PREAMBLE}"
        "<p>一、总体情况</p><p>2023年，本局主动公开政府信息120条。</p>"
        "<p>（一）主动公开情况</p><p>发布文件3件。</p>"
        f"<p>二、主动公开政府信息情况</p>{t2}"
        f"<p>三、收到和处理政府信息公开申请情况</p>{t3}"
        f"<p>四、政府信息公开行政复议、行政诉讼情况</p>{t4}"
        "<p>五、存在的主要问题及改进情况</p><p>一是公开意识有待加强。</p>"
        f"<p>六、其他需要报告的事项</p><p>{six}</p>"
        "</div><div class='footer'>主办单位：某某 网站标识码 3590000001</div>"
    )
    return f"<html><head><meta charset='utf-8'><script>var x = '第二十条';</script></head><body>{body}</body></html>".encode()


PROACTIVE = {
    "regulations": ["0", "0", "0"],
    "normative_documents": ["8", "/", "8"],
    "licensing": ["5"],
    "penalty": ["0"],
    "coercion": ["—"],
    "fees": ["24252.311082"],
}
APPLIED = {
    "received": ["2", "1", "0", "0", "0", "0", "3"],
    "disclosed": ["1", "1", "", "", "", "", "2"],
    "unavailable_not_held": ["1", "0", "0", "0", "0", "0", "1"],
    "handled_total": ["2", "1", "0", "0", "0", "0", "3"],
}
REVIEWED = ["1", "0", "0", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"]


def cells_of(report) -> dict[tuple[str, str, str], str]:
    return {(c.table, c.row, c.column): c.value for c in report.cells}


def test_merged_headers_and_rowspans_are_read_by_their_labels():
    report = read_html(page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)), 2023)
    cells = cells_of(report)
    assert report.unread == [] and report.notes == []
    assert cells[("proactive", "normative_documents", "issued")] == "8"
    assert (
        cells[("proactive", "licensing", "decisions")] == "5"
    )  # a value cell spanning 3 columns of a 1-column block
    assert cells[("proactive", "fees", "amount")] == "24252.311082"
    assert cells[("applications", "received", "commercial")] == "1"
    assert cells[("applications", "received", "total")] == "3"
    assert cells[("applications", "unavailable_not_held", "natural_person")] == "1"
    assert cells[("applications", "other_misc", "total")] == "0"  # 3.其他 under （六）, not the 其他 column
    assert cells[("applications", "handled_total", "total")] == "3"
    assert cells[("review_litigation", "review", "upheld")] == "1"
    assert cells[("review_litigation", "review", "total")] == "1"
    assert cells[("review_litigation", "litigation_after_review", "total")] == "0"
    assert len(report.cells) == 10 + 25 * 7 + 15  # every cell of the three tables


def test_placeholders_and_blanks_are_kept_as_printed():
    cells = cells_of(
        read_html(page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)), 2023)
    )
    assert cells[("proactive", "normative_documents", "repealed")] == "/"
    assert cells[("proactive", "coercion", "decisions")] == "—"
    assert cells[("applications", "disclosed", "research")] == ""


def test_provenance_names_the_html_table_row_and_cell():
    report = read_html(page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)), 2023)
    by_key = {(c.table, c.row, c.column): c.source for c in report.cells}
    fees = by_key[("proactive", "fees", "amount")]
    assert (fees.table, fees.row, fees.cell, fees.text) == (1, 14, 2, "24252.311082")
    # 一、本年新收: row 4 of 表三; its label is cell 1, 商业企业 is cell 3
    received = by_key[("applications", "received", "commercial")]
    assert (received.table, received.row, received.cell) == (2, 4, 3)
    # （三）不予公开 1.属于国家秘密 begins its group: two label cells before the values
    secret = by_key[("applications", "withheld_state_secret", "natural_person")]
    assert (secret.table, secret.row, secret.cell) == (2, 8, 3)
    upheld = by_key[("review_litigation", "review", "upheld")]
    assert (upheld.table, upheld.row, upheld.cell) == (3, 4, 1)


def test_sections_are_cut_at_the_headings_and_the_narrative_rows_written():
    report = read_html(page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)), 2023)
    assert (
        report.sections["overview"]
        == "2023年，本局主动公开政府信息120条。\n（一）主动公开情况\n发布文件3件。"
    )
    assert report.sections["problems"] == "一是公开意识有待加强。"
    assert report.sections["other_matters"] == "本年度未收取信息处理费。"  # the footer is outside the article
    assert "编制本报告" in report.sections["preamble"]
    narrative = [r for r in report.rows() if r[0] == "narrative"]
    assert [r[1] for r in narrative] == ["overview", "problems", "other_matters"]
    assert report.to_csv().startswith("table,row,column,value\nproactive,regulations,issued,0\n")


def test_a_heading_worded_differently_at_its_end_still_cuts_its_section():
    """A real page (tests/field/jjp-2023) titles 五 "存在的主要问题及改进措施": its first four
    characters after the separator find it; "四是加强…" in prose stays prose."""
    html = page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)).decode()
    html = html.replace("五、存在的主要问题及改进情况", "五、存在的主要问题及改进措施")
    html = html.replace("<p>发布文件3件。</p>", "<p>发布文件3件。</p><p>四是加强政府信息公开平台建设。</p>")
    report = read_html(html.encode(), 2023)
    assert report.sections["problems"] == "一是公开意识有待加强。"
    assert report.sections["other_matters"] == "本年度未收取信息处理费。"
    assert report.sections["overview"].endswith("发布文件3件。\n四是加强政府信息公开平台建设。")


def test_a_table_of_another_format_is_read_as_printed_with_a_note():
    report = read_html(page(proactive_trial_printed(), applications(APPLIED), review(REVIEWED)), 2023)
    cells = cells_of(report)
    assert cells[("proactive", "normative_documents", "made")] == "2"
    assert cells[("proactive", "normative_documents", "total_published")] == "15"
    assert report.printed_formats == {"proactive": "trial-2019"}
    assert len(report.notes) == 1 and "国办公开办函〔2019〕60号" in report.notes[0]
    assert "2023 年度" in report.notes[0]
    # the trial blocks the page does not print are listed, cell by cell
    missing = {(u.table, u.row, u.column) for u in report.unread}
    assert ("proactive", "procurement", "amount") in missing
    assert ("applications", "received", "total") not in missing


def test_cells_the_page_lacks_or_spans_are_listed_one_by_one():
    broken = applications(APPLIED).replace(td("2.重复申请"), td("2.重复的申请"))
    # one value printed across two value columns: whose figure is it?
    review_spanned = review(REVIEWED).replace(f"{td('1')}{td('0')}", td("1", colspan=2), 1)
    report = read_html(page(proactive_national(PROACTIVE), broken, review_spanned), 2023)
    why = {(u.table, u.row, u.column): u.why for u in report.unread}
    assert len([k for k in why if k[1] == "not_handled_duplicate"]) == 7
    assert "找不到" in why[("applications", "not_handled_duplicate", "total")]
    assert "跨越几列" in why[("review_litigation", "review", "upheld")]
    assert "跨越几列" in why[("review_litigation", "review", "corrected")]
    assert ("review_litigation", "review", "upheld") not in cells_of(report)


def test_a_flattened_page_is_refused_in_chinese():
    flat = (
        "<html><body><p>三、收到和处理政府信息公开申请情况</p><p>申请人情况自然人法人或其他组织总计"
        "一、本年新收政府信息公开申请数量1 0 0 0 0 01</p></body></html>"
    ).encode()
    with pytest.raises(PublishedRefused, match="展平为文字"):
        read_html(flat, 2022)


def test_pages_without_tables_legacy_years_and_oversized_pages_are_refused():
    with pytest.raises(PublishedRefused, match="没有年度报告的统计表"):
        read_html("<html><body><p>通知</p></body></html>".encode(), 2022)
    with pytest.raises(PublishedRefused, match="旧格式"):
        read_html(page(), 2017)
    with pytest.raises(PublishedRefused, match="上限"):
        read_html(b"<html>" + b" " * MAX_BYTES + b"</html>", 2022)


def test_a_gb18030_page_reads_like_utf8():
    html = page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)).decode()
    html = html.replace("charset='utf-8'", "charset='gb18030'")
    report = read_html(html.encode("gb18030"), 2023)
    assert cells_of(report)[("proactive", "fees", "amount")] == "24252.311082"


def test_a_figure_that_could_split_two_ways_is_not_read():
    split = dict(APPLIED, received=["1 2", "1", "0", "0", "0", "0", "1,234"])
    report = read_html(page(proactive_national(PROACTIVE), applications(split), review(REVIEWED)), 2023)
    why = {(u.table, u.row, u.column): u.why for u in report.unread}
    assert list(why) == [("applications", "received", "natural_person")]
    assert "“1 2”可以拆成不止一种数字" in why[("applications", "received", "natural_person")]
    assert cells_of(report)[("applications", "received", "total")] == "1,234"  # as printed
