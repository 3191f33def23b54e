"""Open data: reports/<year>/open-data/, a Frictionless Data Package of the official
tables of the district and of each unit in long form (UTF-8 CSV with a header row),
the revisions log, and the same figures as one JSON document. Written byte for byte
the same from the same accepted figures (no timestamps)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline.home import write_atomic
from pipeline.steps.revisions import LOG_COLUMNS
from pipeline.steps.sections import DISTRICT
from pipeline.tabular import frame_csv
from schemas.base import ReportFormat
from schemas.frames import zip_columns

FIGURE_FIELDS = [
    ("unit", "string", "单位代码", "填报单位的代码；全区合计为 district"),
    ("unit_name", "string", "单位名称", "填报单位名称；全区合计为地区名称"),
    ("table", "string", "表代码", "proactive（二）、applications（三）、review_litigation（四）"),
    ("table_title", "string", "表名", "官方表样上的表名"),
    ("row", "string", "行代码", "本系统稳定的行代码"),
    ("row_label", "string", "行标签", "官方表样上的行标签（多级标题以“·”连接）"),
    ("column", "string", "列代码", "本系统稳定的列代码"),
    ("column_label", "string", "列标签", "官方表样上的列标签"),
    ("value", "number", "数值", "件数；收费、采购金额单位为万元。未填写的单元格按 0 计，不列出"),
]
REVISION_FIELDS = {
    "date": ("string", "更正日期", "收到更正报送的日期"),
    "unit": ("string", "单位代码", "报送更正的单位"),
    "unit_name": ("string", "单位名称", ""),
    "table": ("string", "表代码", ""),
    "row": ("string", "行代码", ""),
    "column": ("string", "列代码", ""),
    "label": ("string", "数字", "表名、行标签与列标签"),
    "published": ("number", "已发布值", "年度报告发布时该单位的数字"),
    "corrected": ("number", "更正后值", "更正报送后该单位的数字"),
    "district_published": ("number", "全区已发布值", ""),
    "district_corrected": ("number", "全区更正后值", ""),
    "file": ("string", "更正文件", ""),
    "sha256": ("string", "文件哈希", "SHA-256"),
}


def long_form(
    fmt: ReportFormat,
    sections: dict[str, pd.DataFrame],
    names: dict[str, str],
    district: str,
    total: str = DISTRICT,
):
    """One row per figure, the sums first; `total` is the sums' unit code (a region's: region)."""
    rows = []
    for code, table in fmt.tables.items():
        frame = sections.get(code)
        if frame is None or frame.empty:
            continue
        order = {(r, c): i for i, (r, c, _) in enumerate(table.cells())}
        row_labels = {r.code: "·".join(r.path) for r in table.rows}
        column_labels = {c.code: c.label for b in table.blocks for c in b.columns}
        part = frame.assign(_order=[order.get((r, c), 10**6) for r, c in zip_columns(frame, "row", "column")])
        part = part.assign(_scope=(part["scope"] != DISTRICT).astype(int))
        ordered = part.sort_values(["_scope", "scope", "_order"], kind="stable")
        for s, r, c, v in zip_columns(ordered, "scope", "row", "column", "value"):
            row_label, column_label = row_labels.get(r, r), column_labels.get(c, c)
            unit, name = (total, district) if s == DISTRICT else (s, names.get(s, s))
            rows.append((unit, name, code, table.title, r, row_label, c, column_label, v))
    return pd.DataFrame(rows, columns=[f[0] for f in FIGURE_FIELDS])


def _write_if_changed(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    if not (path.exists() and path.read_bytes() == data):
        write_atomic(path, data)
    return path


def package(
    fmt: ReportFormat, year: int, district: str, government: str, published: dict[str, str] | None = None
) -> dict:
    """The datapackage.json. `published`: unit -> the published report its figures were
    imported from (pipeline/steps/published.py), named in the description and in `sources`."""
    figure_schema = {
        "fields": [
            {"name": n, "type": t, "title": title, "description": d} for n, t, title, d in FIGURE_FIELDS
        ],
        "primaryKey": ["unit", "table", "row", "column"],
        "missingValues": [""],
    }
    revision_schema = {
        "fields": [{"name": n, "type": t, "title": title, "description": d} for n, (t, title, d) in REVISION_FIELDS.items()],
        "primaryKey": ["unit", "table", "row", "column", "corrected", "sha256"],
        "missingValues": [""],
    }  # fmt: skip
    imported = dict(sorted((published or {}).items()))
    note = f"其中 {'、'.join(imported)} 的数字据已公开年报导入（见 sources）。" if imported else ""
    meta = {
        "profile": "tabular-data-package",
        "name": f"nianbao-{year}",
        "title": f"{district}{year}年政府信息公开工作年度报告数据",
        "description": f"{district}及各单位{year}年度政府信息公开工作年度报告的统计表（长表格式），"
        f"按{fmt.name}的表样，由{government}汇总发布。另附 figures.json（同一数据的 JSON 文档）。{note}",
        "version": "1.0.0",
        "year": year,
        "format": fmt.code,
        "format_name": fmt.name,
        "resources": [
            {
                "name": "figures",
                "path": "figures.csv",
                "title": "统计表数据",
                "description": "全区合计与各单位的二、三、四部分表格，每行一个数字",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": figure_schema,
            },
            {
                "name": "revisions",
                "path": "revisions.csv",
                "title": "更正说明",
                "description": "报告发布后各单位更正报送所改动的数字",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": revision_schema,
            },
        ],
    }
    if imported:
        meta["sources"] = [
            {"title": f"{unit}：据已公开年报导入", "path": file} for unit, file in imported.items()
        ]
    return meta


def write_open_data(
    out: Path,
    fmt: ReportFormat,
    year: int,
    config: dict,
    sections: dict[str, pd.DataFrame],
    names: dict[str, str],
    revisions: pd.DataFrame,
    published: dict[str, str] | None = None,
    total: str = DISTRICT,
) -> list[Path]:
    folder = out / "open-data"
    figures = long_form(fmt, sections, names, config["district"], total)
    meta = package(fmt, year, config["district"], config["government"], published)
    revisions = revisions[LOG_COLUMNS] if len(revisions) else pd.DataFrame(columns=LOG_COLUMNS)
    names = list(figures.columns)
    document = {
        "title": meta["title"],
        "year": year,
        "format": fmt.code,
        "format_name": fmt.name,
        "figures": [
            dict(zip(names, (*values[:-1], _number(values[-1])))) for values in zip_columns(figures, *names)
        ],
        "revisions": revisions.to_dict(orient="records"),
    }
    if published:
        document["imported_from_published"] = dict(sorted(published.items()))
    return [
        _write_if_changed(folder / "figures.csv", frame_csv(figures)),
        _write_if_changed(folder / "revisions.csv", frame_csv(revisions)),
        _write_if_changed(folder / "datapackage.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n"),
        # One record a line: readable, and a fraction of an indented document's size.
        _write_if_changed(folder / "figures.json", _json_lines(document)),
    ]


def _json_lines(document: dict) -> str:
    def dump(x) -> str:
        return json.dumps(x, ensure_ascii=False, separators=(",", ":"))

    head = {k: v for k, v in document.items() if k not in ("figures", "revisions")}
    parts = [dump(head)[:-1]]
    for key in ("figures", "revisions"):
        items = ",\n".join(dump(item) for item in document[key])
        parts.append(f',\n"{key}":[\n{items}\n]')
    return "".join(parts) + "}\n"


def _number(value: str):
    number = float(value)
    return int(number) if number.is_integer() and "." not in str(value) else number
