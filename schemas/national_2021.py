"""Format `national-2021` (国办公开办函〔2021〕30号): reports on 2021 and later.

Labels are verbatim from the official form; codes are the project's contract
(docs/formats.md). Do not rename codes.
"""

from __future__ import annotations

from schemas.base import Block, Column, Indicator, ReportFormat, Row, Rule, Section, Table

SECTIONS = (
    Section("overview", "一、总体情况"),
    Section("proactive", "二、主动公开政府信息情况", table="proactive"),
    Section("applications", "三、收到和处理政府信息公开申请情况", table="applications"),
    Section("review_litigation", "四、政府信息公开行政复议、行政诉讼情况", table="review_litigation"),
    Section("problems", "五、存在的主要问题及改进情况"),
    Section("other_matters", "六、其他需要报告的事项"),
)
NARRATIVE_ROWS = ("overview", "problems", "other_matters")

_DECISIONS = Column("decisions", "本年处理决定数量")
PROACTIVE = Table(
    code="proactive",
    title="二、主动公开政府信息情况",
    layout="blocks",
    blocks=(
        Block(
            heading="第二十条第（一）项",
            label_header="信息内容",
            columns=(
                Column("issued", "本年制发件数"),
                Column("repealed", "本年废止件数"),
                Column("in_force", "现行有效件数"),
            ),
            rows=(
                Row("regulations", ("规章",)),
                Row("normative_documents", ("行政规范性文件",)),
            ),
        ),
        Block(
            heading="第二十条第（五）项",
            label_header="信息内容",
            columns=(_DECISIONS,),
            rows=(Row("licensing", ("行政许可",)),),
        ),
        Block(
            heading="第二十条第（六）项",
            label_header="信息内容",
            columns=(_DECISIONS,),
            rows=(Row("penalty", ("行政处罚",)), Row("coercion", ("行政强制",))),
        ),
        Block(
            heading="第二十条第（八）项",
            label_header="信息内容",
            # Real reports write 万元 to the fen: 24252.311082 (six places).
            columns=(
                Column(
                    "amount", "本年收费金额（单位：万元）", kind="decimal", places=6, precision="万元精确到分"
                ),
            ),
            rows=(Row("fees", ("行政事业性收费",)),),
        ),
    ),
)

APPLICANT_COLUMNS = (
    Column("natural_person", "自然人"),
    Column("commercial", "商业企业", group="法人或其他组织"),
    Column("research", "科研机构", group="法人或其他组织"),
    Column("public_interest", "社会公益组织", group="法人或其他组织"),
    Column("legal_service", "法律服务机构", group="法人或其他组织"),
    Column("other_org", "其他", group="法人或其他组织"),
    Column("total", "总计"),
)
APPLICANT_PARTS = tuple(c.code for c in APPLICANT_COLUMNS if c.code != "total")

RESULTS = "三、本年度办理结果"
WITHHELD = "（三）不予公开"
UNAVAILABLE = "（四）无法提供"
NOT_HANDLED = "（五）不予处理"
OTHER = "（六）其他处理"

RESULT_ROWS_BEFORE_OTHER = (
    Row("disclosed", (RESULTS, "（一）予以公开")),
    Row("partially_disclosed", (RESULTS, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")),
    Row("withheld_state_secret", (RESULTS, WITHHELD, "1.属于国家秘密")),
    Row("withheld_prohibited_by_law", (RESULTS, WITHHELD, "2.其他法律行政法规禁止公开")),
    Row("withheld_three_safety", (RESULTS, WITHHELD, "3.危及“三安全一稳定”")),
    Row("withheld_third_party", (RESULTS, WITHHELD, "4.保护第三方合法权益")),
    Row("withheld_internal_affairs", (RESULTS, WITHHELD, "5.属于三类内部事务信息")),
    Row("withheld_process_info", (RESULTS, WITHHELD, "6.属于四类过程性信息")),
    Row("withheld_enforcement_file", (RESULTS, WITHHELD, "7.属于行政执法案卷")),
    Row("withheld_query_matter", (RESULTS, WITHHELD, "8.属于行政查询事项")),
    Row("unavailable_not_held", (RESULTS, UNAVAILABLE, "1.本机关不掌握相关政府信息")),
    Row("unavailable_needs_creation", (RESULTS, UNAVAILABLE, "2.没有现成信息需要另行制作")),
    Row("unavailable_unclear", (RESULTS, UNAVAILABLE, "3.补正后申请内容仍不明确")),
    Row("not_handled_petition", (RESULTS, NOT_HANDLED, "1.信访举报投诉类申请")),
    Row("not_handled_duplicate", (RESULTS, NOT_HANDLED, "2.重复申请")),
    Row("not_handled_publication", (RESULTS, NOT_HANDLED, "3.要求提供公开出版物")),
    Row("not_handled_excessive", (RESULTS, NOT_HANDLED, "4.无正当理由大量反复申请")),
    Row("not_handled_confirmation", (RESULTS, NOT_HANDLED, "5.要求行政机关确认或重新出具已获取信息")),
)
OTHER_ROWS = (
    Row(
        "other_no_supplement",
        (RESULTS, OTHER, "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ),
    Row(
        "other_fee_unpaid",
        (RESULTS, OTHER, "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ),
    Row("other_misc", (RESULTS, OTHER, "3.其他")),
)
RECEIVED = Row("received", ("一、本年新收政府信息公开申请数量",))
CARRIED_OVER = Row("carried_over", ("二、上年结转政府信息公开申请数量",))
HANDLED_TOTAL = Row("handled_total", (RESULTS, "（七）总计"))
CARRIED_FORWARD = Row("carried_forward", ("四、结转下年度继续办理",))
APPLICATIONS_CORNER = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def applications_table(result_rows: tuple[Row, ...]) -> Table:
    """The applications table; formats differ only in their result rows."""
    return Table(
        code="applications",
        title="三、收到和处理政府信息公开申请情况",
        layout="matrix",
        corner=APPLICATIONS_CORNER,
        columns_heading="申请人情况",
        blocks=(
            Block(
                columns=APPLICANT_COLUMNS,
                rows=(RECEIVED, CARRIED_OVER, *result_rows, HANDLED_TOTAL, CARRIED_FORWARD),
            ),
        ),
    )


RESULT_ROWS = RESULT_ROWS_BEFORE_OTHER + OTHER_ROWS
APPLICATIONS = applications_table(RESULT_ROWS)

REVIEW_COLUMNS = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column("total", "总计"),
)
REVIEW_LITIGATION = Table(
    code="review_litigation",
    title="四、政府信息公开行政复议、行政诉讼情况",
    layout="wide",
    blocks=(
        Block(
            columns=REVIEW_COLUMNS,
            rows=(
                Row("review", ("行政复议",)),
                Row("litigation_direct", ("行政诉讼", "未经复议直接起诉")),
                Row("litigation_after_review", ("行政诉讼", "复议后起诉")),
            ),
        ),
    ),
)


def prose_claims(result_rows: tuple[Row, ...], documents: dict[str, str]) -> dict[str, tuple]:
    """What each claim a text makes (schemas/phrases.py) means in the applications, review
    and proactive tables; `documents` maps a claim's verb to this format's column
    (issued -> issued in 2021, made in 2019)."""

    def total(*rows: str) -> tuple:
        return tuple(("applications", r, "total") for r in rows)

    def under(group: str) -> tuple:
        return total(*(r.code for r in result_rows if group in r.path))

    claims = {
        "received": total("received"),
        "carried_over": total("carried_over"),
        "handled": total("handled_total"),
        "carried_forward": total("carried_forward"),
        "disclosed": total("disclosed"),
        "partially_disclosed": total("partially_disclosed"),
        "withheld": under(WITHHELD),
        "unavailable": under(UNAVAILABLE),
        "not_handled": under(NOT_HANDLED),
        "other_handling": under(OTHER),
        "review": (("review_litigation", "review", "total"),),
        "litigation": (
            ("review_litigation", "litigation_direct", "total"),
            ("review_litigation", "litigation_after_review", "total"),
        ),
    }
    for row in ("regulations", "normative_documents"):
        for verb, column in documents.items():
            claims[f"{row}.{verb}"] = (("proactive", row, column),)
    return claims


def national_rules(
    result_rows: tuple[Row, ...], *, stock_flow: bool, fee_statement: bool = True
) -> tuple[Rule, ...]:
    """N1-N11 and the insight rules. trial-2019 uses the same set with its result rows,
    without N8 and without P2: the 信息处理费 (《政府信息公开信息处理费管理办法》,
    国办函〔2020〕109号) is charged from 1 January 2021, so reports on 2021 on state it."""
    results = tuple(r.code for r in result_rows)
    rules = [
        Rule(
            "N1",
            "identity",
            "ERROR",
            "第一项加第二项之和，等于第三项加第四项之和（本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理）",
            table="applications",
            axis="rows",
            left=("received", "carried_over"),
            right=("handled_total", "carried_forward"),
        ),
        Rule(
            "N2",
            "identity",
            "ERROR",
            "办理结果“总计”应等于各项办理结果之和",
            table="applications",
            axis="rows",
            left=("handled_total",),
            right=results,
        ),
        Rule(
            "N3",
            "identity",
            "ERROR",
            "“总计”列应等于自然人与各类法人或其他组织之和",
            table="applications",
            axis="columns",
            left=("total",),
            right=APPLICANT_PARTS,
        ),
        Rule(
            "N4",
            "identity",
            "ERROR",
            "“总计”应等于结果维持、结果纠正、其他结果、尚未审结之和",
            table="review_litigation",
            axis="columns",
            left=("total",),
            right=("upheld", "corrected", "other", "pending"),
        ),
        Rule("N5", "cell_kind", "ERROR", "数量应为不小于 0 的整数；收费金额应为不小于 0 的数"),
        Rule(
            "N11",
            "precision",
            "WARNING",
            "金额的小数位数超过表格规定的精度（万元精确到分为 6 位），按四舍五入读取",
        ),
        Rule("N6", "known_cell", "ERROR", "每个单元格必须是本格式定义的，且只能出现一次"),
        Rule(
            "N7",
            "carry_over",
            "WARNING",
            "本年“上年结转”应等于上一年度报告的“结转下年度继续办理”",
            table="applications",
            left=("carried_over",),
            right=("carried_forward",),
        ),
    ]
    if stock_flow:
        rules.append(
            Rule(
                "N8",
                "stock_flow",
                "WARNING",
                "现行有效件数应等于上年现行有效件数 + 本年制发件数 − 本年废止件数",
                table="proactive",
                left=("regulations", "normative_documents"),
                stock="in_force",
                inflow="issued",
                outflow="repealed",
            )
        )
    rules.append(Rule("N9", "blank_table", "WARNING", "整张表未填写（视为“无”）"))
    rules += [r for r in INSIGHT_RULES if fee_statement or r.kind != "prose_fee"]
    return tuple(rules)


# Issue 9: beyond the identities. Thresholds are the office's (home.toml [checks], level).
INSIGHT_RULES = [
    Rule("N10", "placeholder", "WARNING", "数量单元格中的“—”“－”“-”“/”“无”等占位符按 0 读取"),
    Rule(
        "P1",
        "prose_figures",
        "WARNING",
        "文字部分引用的申请、结转、办结、复议、诉讼、规章和规范性文件件数应与表格一致",
    ),
    Rule(
        "P2",
        "prose_fee",
        "WARNING",
        "“六、其他需要报告的事项”应报告信息处理费的收取情况",
        left=("other_matters",),
    ),
    Rule(
        "P3",
        "prose_problems",
        "WARNING",
        "“五、存在的主要问题及改进情况”应如实填写，不应为空或只写“无”",
        left=("problems",),
    ),
    Rule("P4", "prose_length", "WARNING", "“一、总体情况”不应超过政务公开办规定的字数", left=("overview",)),
    Rule("P5", "copy_text", "WARNING", "文字部分不应与上一年度的完全相同"),
    Rule("P6", "copy_figures", "WARNING", "表格数字不应与上一年度的全部相同"),
    Rule("Y1", "anomaly", "WARNING", "一个数字与上一年度相比增加或减少不应超过政务公开办设定的倍数"),
    Rule(
        "Y2",
        "unhandled",
        "WARNING",
        "收到或结转了申请，办理结果总计不应为 0",
        table="applications",
        left=("received", "carried_over"),
        right=("handled_total",),
        over=("total",),
    ),
    Rule(
        "G1",
        "level",
        "WARNING",
        "县级人民政府及其部门没有规章制定权，规章的制发、废止、现行有效件数应为 0",
        table="proactive",
        left=("regulations",),
    ),
]


def _review_cells(rows: tuple[str, ...], column: str) -> tuple[tuple[str, str, str], ...]:
    return tuple(("review_litigation", r, column) for r in rows)


_LITIGATION = ("litigation_direct", "litigation_after_review")
# Issue 18: the indicators regional leaders read. Both forms (2019 trial, 2021) have these
# cells. Neither has a cell for 按期办结 (whether an application was answered within the
# 条例's 20 working days), so there is no 按期办结率: it cannot be computed from the form.
# 办结 is 三、本年度办理结果（七）总计: the form keeps 四、结转下年度继续办理 out of it
# (N1: 一 + 二 = 三 + 四), so nothing is subtracted.
INDICATORS = (
    Indicator(
        code="disclosure_rate",
        label="实质公开率",
        definition=(
            "实质公开率 =（予以公开 + 部分公开）÷ 办结 × 100%。"
            "予以公开、部分公开：“三、收到和处理政府信息公开申请情况”表中“三、本年度办理结果”"
            "的“（一）予以公开”“（二）部分公开”两行的“总计”列；"
            "办结：同表“三、本年度办理结果（七）总计”行的“总计”列"
            "（本年度已办理完毕的申请，不含“四、结转下年度继续办理”）。"
        ),
        numerator=(("applications", "disclosed", "total"), ("applications", "partially_disclosed", "total")),
        denominator=(("applications", "handled_total", "total"),),
        direction="higher",
        denominator_label="办结的申请",
    ),
    Indicator(
        code="review_correction_rate",
        label="复议纠错率",
        definition=(
            "复议纠错率 = 结果纠正 ÷（总计 − 尚未审结）× 100%，"
            "均取“四、政府信息公开行政复议、行政诉讼情况”表“行政复议”的各列："
            "已审结的行政复议案件中，结果被纠正的比例。"
        ),
        numerator=_review_cells(("review",), "corrected"),
        denominator=_review_cells(("review",), "total"),
        less=_review_cells(("review",), "pending"),
        direction="lower",
        denominator_label="已审结的行政复议案件",
    ),
    Indicator(
        code="litigation_correction_rate",
        label="诉讼纠错率",
        definition=(
            "诉讼纠错率 = 结果纠正 ÷（总计 − 尚未审结）× 100%，"
            "均取“四、政府信息公开行政复议、行政诉讼情况”表“行政诉讼”下"
            "“未经复议直接起诉”与“复议后起诉”两项之和："
            "两项都是法院对本机关政府信息公开行为的审理结果，合起来是表中行政诉讼的全部案件。"
        ),
        numerator=_review_cells(_LITIGATION, "corrected"),
        denominator=_review_cells(_LITIGATION, "total"),
        less=_review_cells(_LITIGATION, "pending"),
        direction="lower",
        denominator_label="已审结的行政诉讼案件",
    ),
)


def _same_meaning_as_trial_2019() -> dict[tuple[str, str, str], tuple[str, str, str]]:
    """2021 cells whose meaning the 2019 trial form already had (year-over-year across 2020→2021).

    The applications and review tables keep their rows and columns, except （六）其他处理,
    which 2019 had as one row and 2021 splits in three: it is left out rather than
    compared with a sum of different things. In 二, the 处理决定数量 of 许可, 处罚 and
    强制 mean the same; 本年制发件数 is 2019's 本年新制作数量. 现行有效件数 is not
    对外公开总数量, and 2019 has no 本年废止 and records 行政事业性收费 as items, not
    万元: those have no previous year across the change.
    """
    same = {
        ("applications", r.code, c.code): ("applications", r.code, c.code)
        for r in (RECEIVED, CARRIED_OVER, *RESULT_ROWS_BEFORE_OTHER, HANDLED_TOTAL, CARRIED_FORWARD)
        for c in APPLICANT_COLUMNS
    }
    same.update({key: key for key in (("review_litigation", r, c) for r, c, _ in REVIEW_LITIGATION.cells())})
    for row in ("licensing", "penalty", "coercion"):
        same[("proactive", row, "decisions")] = ("proactive", row, "decisions")
    for row in ("regulations", "normative_documents"):
        same[("proactive", row, "issued")] = ("proactive", row, "made")
    return same


FORMAT = ReportFormat(
    code="national-2021",
    name="国办公开办函〔2021〕30号",
    sections=SECTIONS,
    tables={t.code: t for t in (PROACTIVE, APPLICATIONS, REVIEW_LITIGATION)},
    rules=national_rules(RESULT_ROWS, stock_flow=True),
    template_dir="national-2021",
    narrative_rows=NARRATIVE_ROWS,
    comparable={"trial-2019": _same_meaning_as_trial_2019()},
    claims=prose_claims(RESULT_ROWS, {"issued": "issued", "repealed": "repealed", "in_force": "in_force"}),
    indicators=INDICATORS,
)
