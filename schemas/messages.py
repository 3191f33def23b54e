"""Validation messages: one shape for file problems and rule failures alike.

Every message names the unit, the file, the sheet and cell (or CSV line), says
in Chinese what is wrong and what to do, and carries the rule id for engineers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

MESSAGE_COLUMNS = ["severity", "rule", "unit", "file", "sheet", "location", "text", "code"]

# File-level rules (intake). Format rules (N1…, T…, L…) live in schemas/.
FILE_RULES = {
    "F1": "文件为空",
    "F2": "文件类型不受支持（只接受 .xlsx 和 .csv）",
    "F3": "工作簿含宏",
    "F4": "工作簿有密码保护或已加密",
    "F5": "工作簿解压后过大（疑似压缩炸弹）或结构损坏",
    "F6": "文件过大",
    "F7": "单位代码不在单位名册中，或该单位本年度不需报送",
    "F8": "文件中的年度或单位与报送目录不一致",
    "F9": "文件名不合法",
    "F10": "文件编码无法识别",
    "F11": "表头或表格结构不正确",
    "F12": "公式单元格没有计算结果",
    "F13": "工作簿引用其他文件（外部链接）",
}


@dataclass(frozen=True)
class Message:
    severity: str  # "ERROR" rejects the unit's submission; "WARNING" does not
    rule: str
    unit: str
    file: str
    sheet: str
    location: str  # cell address such as "C8", or "第 12 行" for CSV
    text: str
    code: str = ""  # the unit's code (machine use); `unit` is its display label

    def where(self) -> str:
        parts = [p for p in (self.file, self.sheet and f"工作表「{self.sheet}」", self.location) if p]
        return "，".join(parts)

    def render(self) -> str:
        """One line for a terminal or a log: 【N1】错误 单位 文件，位置：说明"""
        level = "错误" if self.severity == "ERROR" else "提醒"
        where = self.where()
        return (
            f"【{self.rule}】{level} {self.unit}｜{where}：{self.text}"
            if where
            else (f"【{self.rule}】{level} {self.unit}：{self.text}")
        )


def messages_frame(messages: list[Message]) -> pd.DataFrame:
    if not messages:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in MESSAGE_COLUMNS})
    return pd.DataFrame([asdict(m) for m in messages], columns=MESSAGE_COLUMNS).astype("string")


def frame_messages(frame: pd.DataFrame) -> list[Message]:
    return [Message(**{c: str(r[c]) for c in MESSAGE_COLUMNS}) for _, r in frame.iterrows()]
