"""What a district must do about each kind of finding, as a 整改通知 says it (issue 18;
pipeline/render/notices.py). By rule id where the fix is particular, else by severity."""

from __future__ import annotations

from schemas.catalogue import RULES

SEVERITY_WORDS = {"ERROR": "错误", "WARNING": "提醒"}

# Rules whose fix is not just "correct it and submit again".
FIXES = {
    "R2": (
        "核对已公开的年度报告与编制（报送）的数据，以核实后的数字为准：已公开的报告有误的，"
        "更正后重新发布并说明更正情况；报送数据有误的，更正后重新报送。"
    ),
    "R3": "按规定时限报送本年度的编制结果或已公开的年度报告；已逾期的，说明逾期原因。",
    "P5": "重新撰写本年度文字部分，如实反映本年度工作情况，不得照抄上年度报告。",
    "P6": "逐项核实本年度统计数字，按本年度实际情况重新填报，不得照抄上年度数字。",
    "A1": "重新撰写文字部分，如实反映本单位本年度情况，不得照抄其他单位的报告。",
}
ERROR_FIX = "按规则 {rule}（{title}）更正后重新报送，经审核通过后方可公开。"
WARNING_FIX = "逐项核实：确有错误的，更正后重新报送；情况属实的，书面说明理由。"


def fix_text(rule: str, severity: str) -> str:
    """What to fix for one finding of `rule`."""
    if rule in FIXES:
        return FIXES[rule]
    if severity == "ERROR":
        info = RULES.get(rule)
        return ERROR_FIX.format(rule=rule, title=info.title if info else "见问题说明")
    return WARNING_FIX
