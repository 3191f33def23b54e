"""A1 (copy-paste across bodies) when many bodies print the same section: each copy
names the first other body and counts the rest, as with two, and a body that wrote its
own text is not named; the findings grow with the copies, not with their square."""

from __future__ import annotations

from pipeline.steps.audit import ReadReport, copies_across
from schemas import format_for_year

SHARED = "一是信息公开平台的栏目设置不够清晰；二是答复文书的说理不够充分。下一步将梳理栏目设置。"
OWN = "本局今年依法办理各类申请，答复文书均经法制审核，未发生行政复议和行政诉讼的情况。"


def read(i: int, text: str) -> ReadReport:
    return ReadReport(f"{i}.html", "", "html", f"单位{i}", "title", sections={"problems": text}, read=True)


def test_each_copy_names_one_other_body_and_counts_the_rest():
    fmt = format_for_year(2023)
    reads = [read(i, SHARED) for i in range(4)] + [read(4, OWN)]
    keys = [r.body for r in reads]
    found = copies_across(reads, keys, fmt)
    assert [m.unit for m in found] == keys[:4]
    assert all(m.rule == "A1" for m in found)
    assert "“单位1”的报告（1.html）以及另外 2 份报告完全相同" in found[0].text
    for m in found[1:]:
        assert "“单位0”的报告（0.html）以及另外 2 份报告完全相同" in m.text
    two = copies_across(reads[:2], keys[:2], fmt)
    assert "“单位1”的报告（1.html）完全相同" in two[0].text
    assert "“单位0”的报告（0.html）完全相同" in two[1].text


def test_a_thousand_copies_give_a_thousand_findings():
    fmt = format_for_year(2023)
    reads = [read(i, SHARED) for i in range(1000)]
    found = copies_across(reads, [r.body for r in reads], fmt)
    assert len(found) == 1000
    assert all("以及另外 998 份报告完全相同" in m.text for m in found)
