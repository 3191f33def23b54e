"""The catalogue of every rule id and every message nianbao writes.

Each rule id (F… file rules, N… official-table rules, L… legacy-era rules) has a
severity and a title; each kind of message has a template with named fields.
Call sites pass facts (`problem("F2.xls", unit=…, file=…)`), never sentences, so
a message reads the same on every path (build, `nianbao check`, portal) and the
README's rules table is checked against this file (tests/test_catalogue.py).

Rules whose id and description a format defines (N1–N9, and the relations a
legacy catalogue declares, e.g. JH1) use the template of their kind; the
description comes from the format.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.messages import Message, Severity
from schemas.names import POLICY


@dataclass(frozen=True)
class RuleInfo:
    id: str
    severity: Severity  # default severity; F11 and a legacy relation may say otherwise per message
    title: str


@dataclass(frozen=True)
class Entry:
    key: str  # "F2.xls", or a rule kind ("identity", "carry_over", …) for format-defined rules
    rule: str  # the rule id, or "" when the format's rule supplies it
    severity: Severity | None  # None: the rule's own severity
    template: str  # str.format template with named fields


RULES: dict[str, RuleInfo] = {
    r.id: r
    for r in (
        RuleInfo("F1", "ERROR", "文件为空"),
        RuleInfo("F2", "ERROR", "文件类型不受支持（只接受 .xlsx 和 .csv）"),
        RuleInfo("F3", "ERROR", "工作簿含宏"),
        RuleInfo("F4", "ERROR", "工作簿有密码保护或已加密"),
        RuleInfo("F5", "ERROR", "工作簿解压后过大（疑似压缩炸弹）或结构损坏"),
        RuleInfo("F6", "ERROR", "文件过大"),
        RuleInfo("F7", "ERROR", "单位代码不在单位名册中，或该单位本年度不需报送"),
        RuleInfo("F8", "ERROR", "文件中的年度或单位与报送目录不一致"),
        RuleInfo("F9", "ERROR", "文件名不合法"),
        RuleInfo("F10", "ERROR", "文件编码无法识别"),
        RuleInfo("F11", "ERROR", "表头或表格结构不正确"),
        RuleInfo("F12", "ERROR", "公式单元格没有计算结果"),
        RuleInfo("F13", "ERROR", "工作簿引用其他文件（外部链接）"),
        RuleInfo("F14", "ERROR", "文件超出处理上限（单元格文字长度、行数、单元格数、工作表数）"),
        RuleInfo("F15", "ERROR", "文件无法处理（读取或校验时出现意外错误）"),
        RuleInfo("F16", "ERROR", "收件箱中的项目不是普通文件（符号链接、目录、设备等）"),
        RuleInfo("F17", "WARNING", "文字中含有控制字符（发布时已删除）"),
        RuleInfo("F18", "ERROR", "文件中没有本年度报表的任何一张表（不是报送模板或交换格式文件）"),
        RuleInfo("N1", "ERROR", "申请表每一列：本年新收 + 上年结转 = 办理结果总计 + 结转下年度"),
        RuleInfo("N2", "ERROR", "申请表每一列：办理结果总计 = 各项办理结果之和"),
        RuleInfo("N3", "ERROR", "申请表每一行：总计 = 六类申请人之和"),
        RuleInfo("N4", "ERROR", "复议诉讼每一行：总计 = 维持 + 纠正 + 其他 + 尚未审结"),
        RuleInfo("N5", "ERROR", "数量为不小于 0 的整数，金额为不小于 0 的数"),
        RuleInfo("N6", "ERROR", "单元格必须是本格式定义的，且只出现一次"),
        RuleInfo("N7", "WARNING", "本年“上年结转”= 上年“结转下年度继续办理”"),
        RuleInfo("N8", "WARNING", "现行有效件数 = 上年现行有效 + 本年制发 − 本年废止"),
        RuleInfo("N9", "WARNING", "整张表未填写"),
        RuleInfo("L1", "ERROR", "指标只能由目录中规定的报送单位填写"),
        RuleInfo("L2", "WARNING", "报送的占比应与按数量计算的占比一致（相差不到 0.5 个百分点）"),
        RuleInfo("L3", "WARNING", "同一总体的各项占比之和应为 100%（允许 ±1）"),
        RuleInfo("L4", "WARNING", "报送单位应填写目录中由本单位负责的每一项指标"),
        # Issue 9: placeholders, prose against tables, copy-paste, anomalies, level of government.
        RuleInfo("N10", "WARNING", "数量单元格填了“—”“无”等占位符，按 0 读取"),
        RuleInfo("N11", "WARNING", "金额的小数位数超过表格规定的精度（万元精确到分为 6 位），已四舍五入"),
        RuleInfo("P1", "WARNING", "文字部分引用的数字应与表格一致"),
        RuleInfo("P2", "WARNING", "“六、其他需要报告的事项”应说明信息处理费的收取情况"),
        RuleInfo("P3", "WARNING", "“五、存在的主要问题及改进情况”不应为空或“无”"),
        RuleInfo("P4", "WARNING", "“一、总体情况”不超过政务公开办规定的字数（默认 1,000 字）"),
        RuleInfo("P5", "WARNING", "文字部分与上年完全相同（疑似照抄）"),
        RuleInfo("P6", "WARNING", "表格数字与上年完全相同（疑似照抄）"),
        RuleInfo("Y1", "WARNING", "数字与上年相比增减超过规定倍数（默认 5 倍，较小的数字不计）"),
        RuleInfo("Y2", "WARNING", "收到或结转了申请，但办理结果总计为 0"),
        RuleInfo("G1", "WARNING", "县级人民政府及其部门没有规章制定权，规章各项应为 0"),
        # Issue 17: auditing published reports (`nianbao audit`): what the documents show.
        RuleInfo("A1", "WARNING", "文字部分与本年度另一单位的报告完全相同（疑似互相照抄）"),
        RuleInfo("A2", "ERROR", "已公开的报告无法读取"),
        RuleInfo("A3", "WARNING", "报告中没有找到规定的某一部分（一至六）"),
        RuleInfo("A4", "ERROR", "报告中没有某张统计表"),
        RuleInfo("A5", "WARNING", "统计表中有未能读取的格"),
        RuleInfo("A6", "WARNING", "统计表按其他年度的表样印制"),
        RuleInfo("A7", "WARNING", "同一单位本年度有不止一份报告"),
        # Issue 18: a region (city, province) against its member districts.
        RuleInfo("R1", "ERROR", "全市（省）合计 = 各下级地区已采用数字之和"),
        RuleInfo("R2", "ERROR", "下级地区已公开的年报与其编制的数字一致"),
        RuleInfo("R3", "WARNING", "每个下级地区都按期报送了可读取的数据"),
    )
}

RESAVE = "请用 Excel 或 WPS 打开后“另存为” Excel 工作簿（.xlsx）格式，再重新提交。"

PLAIN_NAME = "请把文件改成普通文件名（如“2025年报.xlsx”）后重新报送。"

ENTRIES: dict[str, Entry] = {
    e.key: e
    for e in (
        # --- file rules -----------------------------------------------------------
        Entry(
            "F1.empty", "F1", None, "文件是空的（0 字节），可能上传不完整。请确认保存了填好的文件后重新报送。"
        ),
        Entry("F1.no_content", "F1", None, "文件没有内容。请导出完整的报送数据后重新报送。"),
        Entry(
            "F2.type",
            "F2",
            None,
            "不支持“{suffix}”类型的文件。请使用下载的 Excel 模板（.xlsx）或导出的 CSV 文件报送。",
        ),
        Entry("F2.xls", "F2", None, "这是旧版 Excel 97-2003 工作簿（.xls），系统只接受 .xlsx。" + RESAVE),
        Entry("F2.xlsb", "F2", None, "这是 Excel 二进制工作簿（.xlsb），系统只接受 .xlsx。" + RESAVE),
        Entry(
            "F2.not_zip",
            "F2",
            None,
            "这不是 Excel 工作簿（.xlsx）文件，可能是其他类型的文件或改过扩展名。" + RESAVE,
        ),
        Entry("F2.not_workbook", "F2", None, "这不是 Excel 工作簿（.xlsx）文件。" + RESAVE),
        Entry(
            "F3.macro_name",
            "F3",
            None,
            "这是启用宏的工作簿，出于安全原因不予接收。请在 Excel/WPS 中另存为“Excel 工作簿(*.xlsx)”后重新报送。",
        ),
        Entry(
            "F3.macro",
            "F3",
            None,
            "工作簿含有宏（VBA 代码），为安全起见系统不接受。请“另存为” Excel 工作簿（.xlsx，不含宏）后重新提交。",
        ),
        Entry(
            "F4.encrypted",
            "F4",
            None,
            "工作簿设置了打开密码（已加密），系统无法读取。请在 Excel 或 WPS 中取消密码"
            "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后保存，再重新提交。",
        ),
        Entry("F5.damaged", "F5", None, "文件已损坏，无法读取。" + RESAVE),
        Entry(
            "F5.cannot_open",
            "F5",
            None,
            "文件已损坏（可能未完整保存或上传中断），无法打开。请重新保存后再上传。",
        ),
        Entry(
            "F5.parts",
            "F5",
            None,
            "工作簿内部包含 {parts} 个部件，结构异常（疑似压缩炸弹），系统拒绝读取。" + RESAVE,
        ),
        Entry(
            "F5.bomb",
            "F5",
            None,
            "工作簿{why}（疑似压缩炸弹），系统拒绝读取。请使用下发的模板填写后重新提交。",
        ),
        Entry(
            "F5.declared_range",
            "F5",
            None,
            "工作表使用范围过大（{rows} 行 × {cols} 列，上限 {max_rows} 行 × {max_cols} 列）。"
            "请删除与报表无关的工作表或多余内容后另存，再重新提交。",
        ),
        Entry(
            "F5.range",
            "F5",
            None,
            "工作表使用范围过大（超过 {max_rows} 行或 {max_cols} 列），未读取。请删除多余内容后另存，再重新提交。",
        ),
        Entry(
            "F6.too_large",
            "F6",
            None,
            "文件大小 {mb} MB，超过上限 {limit_mb} MB。年报文件通常只有几十 KB，请使用下载的模板重新填写后报送。",
        ),
        Entry(
            "F7.not_registered",
            "F7",
            None,
            "该单位不在单位名册中，文件已存档但未处理。请放到 inbox/{year}/<单位代码>/ 下，或在单位名册中登记该单位。",
        ),
        Entry(
            "F7.inactive",
            "F7",
            None,
            "该单位在 {year} 年度不需报送（见单位名册的起止年份），文件已存档但未处理。请放到 inbox/{year}/<单位代码>/ 下，或在单位名册中登记该单位。",
        ),
        Entry(
            "F7.no_folder",
            "F7",
            None,
            "文件直接放在年度目录下，没有放进单位目录，文件已存档但未处理。请放到 inbox/{year}/<单位代码>/ 下，或在单位名册中登记该单位。",
        ),
        Entry(
            "F8.workbook_unit",
            "F8",
            None,
            "文件注明的单位是“{declared}”，但报送在单位“{owner}”名下。请下载本单位的模板重新填写，或放到正确的单位目录。",
        ),
        Entry(
            "F8.workbook_year",
            "F8",
            None,
            "文件注明的年度是“{declared}”，但报送的是 {year} 年度。请使用本年度的模板，或放到正确的年度目录。",
        ),
        Entry(
            "F8.csv_unit",
            "F8",
            None,
            "unit 列写的是“{declared}”（共 {lines} 行，从这一行起），但文件报送在单位“{owner}”名下，这些行未读取。"
            "请改正 unit 列或换到正确单位报送。",
        ),
        Entry(
            "F8.csv_year",
            "F8",
            None,
            "year 列写的是“{declared}”（共 {lines} 行，从这一行起），但文件报送的是 {year} 年度，这些行未读取。"
            "请改正 year 列或报送到正确年度。",
        ),
        Entry("F9.unsafe_name", "F9", None, "{reason}，不能接收。" + POLICY + PLAIN_NAME),
        Entry(
            "F9.long_name",
            "F9",
            None,
            "文件名过长，不能接收。请把文件改成较短的普通文件名（如“2025年报.xlsx”）后重新报送。",
        ),
        Entry("F10.encoding", "F10", None, "{why}。请另存为“CSV UTF-8（逗号分隔）”后重新报送。"),
        Entry(
            "F11.csv_header",
            "F11",
            None,
            "表头不正确：{problems}。表头应为 table,row,column,value（可另加 unit,year），请改正表头后重新报送。",
        ),
        Entry(
            "F11.csv_fields",
            "F11",
            None,
            "这一行有 {fields} 个字段，表头有 {columns} 列。请检查是否多了或少了逗号。",
        ),
        Entry(
            "F11.other_format",
            "F11",
            None,
            "本工作簿是按「{made_for}」格式生成的，而本年度应使用「{expected}」格式。请下载本年度的填报模板重新填写。",
        ),
        Entry(
            "F11.published_refused",
            "F11",
            None,
            "已公开年报不能读取：{why}。该单位本年度的记录据已公开年报导入，请换用能读取的文件"
            "（网页、Word 或带文字层的 PDF）重新导入，或由单位按模板报送。",
        ),
        Entry(
            "F11.published_unread",
            "F11",
            None,
            "已公开年报中有一格未能读取（{what}）。不猜测该数字；请核对原文后，由单位按模板报送本年度数据。",
        ),
        Entry(
            "F11.by_labels",
            "F11",
            "WARNING",
            "此工作表缺少模板中隐藏的定位编码（可能复制到了新工作簿或删除了隐藏行列），"
            "已按表头文字读取，请核对读取结果；今后请直接在下发的模板中填写。",
        ),
        Entry(
            "F11.missing_sheet",
            "F11",
            "WARNING",
            "工作簿中没有找到「{title}」工作表，该部分按未填写处理。请使用下发的模板填写。",
        ),
        Entry(
            "F11.off_form",
            "F11",
            "WARNING",
            "单元格 {cell} 填有“{text}”，但这里不是表格中需要填写的位置，未被读取。如属报表数据，请填到对应的白色单元格中。",
        ),
        Entry(
            "F12.no_result",
            "F12",
            None,
            "单元格 {cell} 是公式，但文件中没有保存计算结果。请用 Excel 或 WPS 打开此文件，"
            "等待自动计算完成（或按 F9）后保存，再重新提交。",
        ),
        Entry(
            "F13.external_links",
            "F13",
            None,
            "工作簿引用了其他文件（外部链接），其中的数值可能来自别处且无法核实，系统不接受。"
            "请在 Excel/WPS 中“数据→编辑链接→断开链接”（或把公式改为数值）后另存，再重新提交。",
        ),
        Entry(
            "F14.text_length",
            "F14",
            None,
            "这一项文字有 {length} 个字符，超过上限 {limit} 个字符，未读取。请精简后重新报送（正常的一节文字只有几百到几千字）。",
        ),
        Entry(
            "F14.lines",
            "F14",
            None,
            "文件超过 {limit} 行，其余部分未读取，本次报送不予采用。年报数据只有几百行，请只导出本单位本年度的报送数据。",
        ),
        Entry(
            "F14.sheets",
            "F14",
            None,
            "工作簿有 {count} 个工作表，超过上限 {limit} 个，未读取。请只保留报表工作表后另存，再重新提交。",
        ),
        Entry(
            "F14.messages",
            "F14",
            "WARNING",
            "规则 {rule_id} 在本文件中还有 {more} 条同类问题未逐条列出（只列出前 {shown} 条）。请按已列出的问题改正后重新检查。",
        ),
        Entry(
            "F15.unexpected",
            "F15",
            None,
            "处理这个文件时出现意外错误（{error}），本次报送暂不采用，文件已存档。请把文件转给政务公开办；"
            "也可以用下发的模板重新填写后报送。",
        ),
        Entry(
            "F16.not_regular",
            "F16",
            None,
            "“{name}”不是普通文件（{what}），出于安全原因未读取。请把报送文件本身（而不是链接或文件夹）放进收件箱。",
        ),
        Entry(
            "F17.controls",
            "F17",
            None,
            "“{cell}”的文字中含有不可见的控制字符（{chars}），发布时已删除。请检查文字是否从其他系统复制而来，必要时改正后重新报送。",
        ),
        Entry(
            "F18.no_tables",
            "F18",
            None,
            "文件中没有找到本年度报表的任何一张表（应有：{expected}），看来不是下发的报送模板，"
            "不能按“全部为 0”接收。请下载本单位本年度的 Excel 模板填写（或按交换格式导出 CSV，"
            "table 列写表代码）后重新报送。",
        ),
        # --- rules a format defines (id and description from the format) ----------
        Entry(
            "cell_kind",
            "",
            None,
            "“{cell}”填的是“{raw}”，这里应填{expected}。请改正后重新报送。",
        ),
        Entry(
            "precision",
            "",
            None,
            "“{cell}”填的是“{raw}”，有 {written} 位小数，超过本栏的 {places} 位（{precision}），已四舍五入为 {value}。"
            "规则：{description}。如有误请改正后重新报送。",
        ),
        Entry(
            "known_cell",
            "",
            None,
            "表“{table}”行“{row}”列“{column}”不是 {format} 格式定义的单元格。请核对代码拼写，或使用本年度的模板重新填写。",
        ),
        Entry(
            "duplicate_cell",
            "",
            None,
            "单元格“{cell}”重复填报（第一次在{first}）。每个单元格只能填一次，请删除重复的一处。",
        ),
        Entry(
            "identity",
            "",
            None,
            "“{line}”这一{axis}：{left}，合计 {left_total}；{relation} {right}，合计 {right_total}。"
            "规则：{description}。请核对这些单元格并改正。",
        ),
        Entry("range", "", None, "{cell} 超出范围。规则：{description}。请核对后改正。"),
        Entry(
            "carry_over",
            "",
            None,
            "{cell}，但上一年度报告的“{previous_row}”为 {previous}。规则：{description}。请核对；如上年数据有误，请在说明中注明。",
        ),
        Entry(
            "stock_flow",
            "",
            None,
            "{cell}；上年现行有效 {before} + 本年制发 {added} − 本年废止 {removed} = {expected}。"
            "规则：{description}。请核对。",
        ),
        Entry(
            "blank_table",
            "",
            None,
            "“{title}”整张表未填写，将按“无”（全部为 0）处理。如确有数据，请补填后重新报送。",
        ),
        Entry(
            "owner",
            "",
            None,
            "“{table}·{indicator}”由{owners}报送，本单位不应填写。请删除这一项（如数字确属本单位，请与政务公开办联系调整指标目录）。",
        ),
        Entry("owner_text", "", None, "文字项“{item}”由{owners}填写，本单位不应填写。请删除。"),
        Entry(
            "owned_missing",
            "",
            None,
            "本单位负责的 {count} 项指标没有填写：{listed}。如确实为 0，请填 0；报告正文引用这些指标时无法生成。",
        ),
        Entry(
            "share_cross_check",
            "",
            None,
            "报送的{submitted}，而按数量计算：{part} ÷ {whole} = {exact}%，报告中印作{printed}；相差 {gap} 个百分点。"
            "规则：{description}。报告中的占比一律按数量计算，请核对报送的占比或数量。",
        ),
        Entry(
            "share_sum",
            "",
            None,
            "“{whole}”的各项占比：{listed}，合计 {total}%。规则：{description}。请核对。",
        ),
        Entry("relation", "", None, "{chain}。规则：{description}。请核对这些数字并改正。"),
        # --- issue 9 --------------------------------------------------------------------
        Entry(
            "placeholder",
            "",
            None,
            "“{cell}”填的是“{raw}”，已按 0 读取。规则：{description}。如确为 0，今后请填 0 或留空；"
            "如有数字，请填入后重新报送。",
        ),
        Entry(
            "identity_unchecked",
            "",
            "WARNING",
            "“{line}”这一{axis}无法核对：其中“{cell}”填的是“{raw}”，不是有效的数（见该单元格的 N5 错误）。"
            "规则：{description}。请先改正该单元格，再核对这一{axis}。",
        ),
        Entry(
            "carry_over_rejected",
            "",
            None,
            "{cell}，但上一年度最后一次报送的文件“{previous_file}”中“{previous_row}”为 {previous}"
            "（上一年度的报送被退回，没有已采用的数字，按这次报送比较）。规则：{description}。请核对。",
        ),
        Entry(
            "stock_flow_rejected",
            "",
            None,
            "{cell}；按上一年度最后一次报送的文件“{previous_file}”（该次报送被退回，没有已采用的数字）："
            "上年现行有效 {before} + 本年制发 {added} − 本年废止 {removed} = {expected}。规则：{description}。请核对。",
        ),
        Entry(
            "carry_over_published",
            "",
            None,
            "{cell}，但上一年度据已公开年报导入的“{previous_file}”中“{previous_row}”为 {previous}"
            "（上一年度的数字据已公开年报导入）。规则：{description}。请核对。",
        ),
        Entry(
            "stock_flow_published",
            "",
            None,
            "{cell}；按上一年度据已公开年报导入的“{previous_file}”：上年现行有效 {before} + 本年制发 {added}"
            " − 本年废止 {removed} = {expected}。规则：{description}。请核对。",
        ),
        Entry(
            "carry_over_skipped",
            "",
            None,
            "{rules} 未核对：{why}。这两条规则把本年数字与上一年度（{previous_year} 年）已采用的数字比较，"
            "上一年度的数据导入后重新编制即可核对。",
        ),
        Entry(
            "prose_figures",
            "",
            None,
            "文字“{sentence}”写的是 {quoted}，而表格中{cell}为 {table}。规则：{description}。"
            "请核对文字或表格，使两者一致。",
        ),
        Entry(
            "prose_none",
            "",
            None,
            "文字“{sentence}”说{quoted}，而表格中{cell}为 {table}。规则：{description}。"
            "请核对文字或表格，使两者一致。",
        ),
        Entry(
            "prose_fee",
            "",
            None,
            "“六、其他需要报告的事项”没有提到信息处理费。规则：{description}。请写明本年度收取信息处理费的情况"
            "（未收取的写明“未收取信息处理费”）。表二中的“行政事业性收费”是另一种收费，不能代替。",
        ),
        Entry(
            "prose_problems",
            "",
            None,
            "“五、存在的主要问题及改进情况”{what}。规则：{description}。请如实写明存在的主要问题和改进措施。",
        ),
        Entry(
            "prose_length",
            "",
            None,
            "“一、总体情况”有 {length} 个字，超过政务公开办规定的 {limit} 字。规则：{description}。请精简后重新报送。",
        ),
        Entry(
            "copy_text",
            "",
            None,
            "“{section}”的文字与上一年度（{previous_year} 年）报送的{how}。规则：{description}。请按本年度实际情况撰写。",
        ),
        Entry(
            "copy_figures",
            "",
            None,
            "表格中的 {count} 个数字与上一年度（{previous_year} 年）报送的完全相同{basis}，例如{examples}。"
            "规则：{description}。请核对是否误用了上一年度的报表。",
        ),
        Entry(
            "anomaly",
            "",
            None,
            "{cell}，上一年度为 {previous}{basis}，{change}。规则：{description}（本区设定 {factor} 倍，"
            "两年都小于 {minimum} 的不计）。请核对；如确属实际情况，请在文字部分说明原因。",
        ),
        Entry(
            "unhandled",
            "",
            None,
            "{column}：本年新收 {received} 件、上年结转 {carried_over} 件，但办理结果总计为 0"
            "（全部结转下年度）。规则：{description}。请核对办理结果是否漏填。",
        ),
        Entry(
            "level",
            "",
            None,
            "{cell}，而本区为{level}：{level}人民政府及其部门没有规章制定权。规则：{description}。"
            "请核对是否把行政规范性文件填进了“规章”一行。",
        ),
        # --- issue 17: auditing published reports ----------------------------------------
        Entry(
            "A1.copy_across",
            "A1",
            None,
            "“{section}”的文字与本年度“{other}”的报告（{other_file}）{how}（疑似互相照抄）。"
            "请按本单位本年度的实际情况撰写。",
        ),
        Entry(
            "A2.refused",
            "A2",
            None,
            "报告无法读取：{why}。本单位的其他检查没有进行。请提供保留表格的网页、Word 文档或带文字层的 PDF 文件。",
        ),
        Entry(
            "A2.unexpected",
            "A2",
            None,
            "读取这份报告时出现意外错误（{error}），本单位的其他检查没有进行。请把文件转给政务公开办核查。",
        ),
        Entry(
            "A3.missing_section",
            "A3",
            None,
            "报告中没有找到“{section}”这一部分（按以“{number}、”开头的标题查找）。"
            "请按年度报告格式的六个部分撰写，标题照格式印出。",
        ),
        Entry(
            "A4.missing_table",
            "A4",
            None,
            "报告中没有找到“{title}”的统计表（表中的格一个也没有读出）。请按年度报告格式印出这张表。",
        ),
        Entry("A5.unread", "A5", None, "未能读取 {what}。请核对报告中这一格是否按表样印制、数字是否清楚。"),
        Entry("A6.other_form", "A6", None, "{note}。请按本年度应使用的表样印制统计表。"),
        Entry(
            "A7.same_body",
            "A7",
            None,
            "本年度“{body}”有 {count} 份报告：{files}，各按一份审查。请核对是否重复放入，或在文件名中写明单位。",
        ),
        # --- region (issue 18) -------------------------------------------------------
        Entry(
            "R1.sum",
            "R1",
            None,
            "合计数 {table} 行“{row}” 列“{column}”为 {region}，而各下级地区之和为 {members}。"
            "请重新编制本年度的全域汇总。",
        ),
        Entry(
            "R2.differs",
            "R2",
            None,
            "{member}已公开的年报中 {table} 行“{row}” 列“{column}”为 {published}，而其编制的数字为 {compiled}。"
            "请该地区核对后更正已公开的年报，或更正报送的数据。",
        ),
        Entry(
            "R2.unreadable",
            "R2",
            "WARNING",
            "{member}已公开的年报无法读取（{why}），没有与编制的数字核对。请换一份可读取的文件（网页、Word 或 PDF）。",
        ),
        Entry("R3.missing", "R3", None, "{member}没有 {year} 年度的数据（{why}）。请督促该地区报送。"),
        Entry(
            "R3.late",
            "R3",
            None,
            "{member}的 {year} 年度数据于 {received} 收到，晚于截止日期 {deadline}。请督促该地区按期报送。",
        ),
        Entry("R3.unreadable", "R3", "ERROR", "{member}的数据未能采用：{why}。请该地区更正后重新报送。"),
    )
}


def problem(
    key: str,
    *,
    unit: str,
    unit_label: str,
    file: str,
    sheet: str = "",
    location: str = "",
    rule: str = "",
    severity: Severity | None = None,
    **facts,
) -> Message:
    """The message of catalogue entry `key` with these facts.

    `rule` and `severity` are needed only for entries of format-defined rules
    (the format's Rule gives them); file rules take theirs from the catalogue."""
    entry = ENTRIES[key]
    rule_id = entry.rule or rule
    if not rule_id:
        raise ValueError(f"catalogue entry {key} needs the format's rule id")
    # An entry that fixes its severity (a note such as identity_unchecked) wins over the rule's.
    level = entry.severity or severity or RULES[rule_id].severity
    return Message(
        severity=level,
        rule=rule_id,
        unit=unit,
        unit_label=unit_label,
        file=file,
        sheet=sheet,
        location=location,
        text=entry.template.format(**facts),
    )


@dataclass(frozen=True)
class FileOrigin:
    """Whose file a message is about: readers and guards report through it."""

    unit: str
    unit_label: str
    file: str

    def problem(self, key: str, *, sheet: str = "", location: str = "", **facts) -> Message:
        return problem(
            key,
            unit=self.unit,
            unit_label=self.unit_label,
            file=self.file,
            sheet=sheet,
            location=location,
            **facts,
        )


MAX_PER_RULE = 50  # messages of one rule per file: the rest are counted, not listed


def cap_messages(messages: list[Message], limit: int = MAX_PER_RULE) -> list[Message]:
    """The first `limit` messages of each (unit, file, rule), plus one F14 message
    per capped rule saying how many more there were: a junk file of 200,000 lines
    yields a page a person can read, not 200,000 lines."""
    kept: list[Message] = []
    counts: dict[tuple[str, str, str], int] = {}
    first: dict[tuple[str, str, str], Message] = {}
    for m in messages:
        key = (m.unit, m.file, m.rule)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, m)
        if counts[key] <= limit:
            kept.append(m)
    for key, count in counts.items():
        if count > limit:
            m = first[key]
            kept.append(
                problem("F14.messages", unit=m.unit, unit_label=m.unit_label, file=m.file, rule_id=m.rule,
                        more=count - limit, shown=limit)
            )  # fmt: skip
    return kept


def rules_table() -> str:
    """The README's rules table (between its `rules:start` and `rules:end` marks)."""
    words = {"ERROR": "错误", "WARNING": "提醒"}
    notes = {"F11": "（工作表按表头文字读取、缺少工作表时为提醒）", "F14": "（只列出前若干条时的汇总为提醒）"}
    lines = ["| 编号 | 内容 | 级别 |", "|---|---|---|"]
    lines += [f"| {r.id} | {r.title} | {words[r.severity]}{notes.get(r.id, '')} |" for r in RULES.values()]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m schemas.catalogue: print the README's rules table
    print(rules_table())
