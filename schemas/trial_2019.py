"""Format `trial-2019` (国办公开办函〔2019〕60号, 试行): reports on 2019 and 2020.

Same sections as national-2021; a different proactive table, one “（六）其他处理”
row without sub-items, and no N8 (docs/formats.md).
"""

from __future__ import annotations

from schemas.base import Block, Column, ReportFormat, Row, Table
from schemas.national_2021 import (
    INDICATORS,
    NARRATIVE_ROWS,
    OTHER,
    RESULT_ROWS_BEFORE_OTHER,
    RESULTS,
    REVIEW_LITIGATION,
    SECTIONS,
    applications_table,
    national_rules,
    prose_claims,
)

_DOCUMENT_COLUMNS = (
    Column("made", "本年新制作数量"),
    Column("published", "本年新公开数量"),
    Column("total_published", "对外公开总数量"),
)
_ITEM_COLUMNS = (
    Column("items_last_year", "上一年项目数量"),
    Column("change", "本年增/减", kind="signed"),
    Column("decisions", "处理决定数量"),
)
PROACTIVE = Table(
    code="proactive",
    title="二、主动公开政府信息情况",
    layout="blocks",
    blocks=(
        Block(
            heading="第二十条第（一）项",
            label_header="信息内容",
            columns=_DOCUMENT_COLUMNS,
            rows=(Row("regulations", ("规章",)), Row("normative_documents", ("规范性文件",))),
        ),
        Block(
            heading="第二十条第（五）项",
            label_header="信息内容",
            columns=_ITEM_COLUMNS,
            rows=(Row("licensing", ("行政许可",)), Row("other_services", ("其他对外管理服务事项",))),
        ),
        Block(
            heading="第二十条第（六）项",
            label_header="信息内容",
            columns=_ITEM_COLUMNS,
            rows=(Row("penalty", ("行政处罚",)), Row("coercion", ("行政强制",))),
        ),
        Block(
            heading="第二十条第（八）项",
            label_header="信息内容",
            columns=_ITEM_COLUMNS[:2],
            rows=(Row("fees", ("行政事业性收费",)),),
        ),
        Block(
            heading="第二十条第（九）项",
            label_header="信息内容",
            columns=(
                Column("projects", "采购项目数量"),
                Column("amount", "采购总金额", kind="decimal", places=6, precision="万元精确到分"),
            ),
            rows=(Row("procurement", ("政府集中采购",)),),
        ),
    ),
)

RESULT_ROWS = RESULT_ROWS_BEFORE_OTHER + (Row("other", (RESULTS, OTHER)),)

FORMAT = ReportFormat(
    code="trial-2019",
    name="国办公开办函〔2019〕60号（试行）",
    sections=SECTIONS,
    tables={t.code: t for t in (PROACTIVE, applications_table(RESULT_ROWS), REVIEW_LITIGATION)},
    rules=national_rules(RESULT_ROWS, stock_flow=False, fee_statement=False),
    template_dir="trial-2019",
    narrative_rows=NARRATIVE_ROWS,
    claims=prose_claims(RESULT_ROWS, {"issued": "made"}),
    indicators=INDICATORS,  # the same applications and review cells as 2021
)
