"""The legacy format: built from a home's indicator catalogue, one per year."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from schemas.base import Block, Column, ReportFormat, Row, Rule, Section, Table
from schemas.errors import HomeError
from schemas.legacy.catalogue import (
    SHARE_LABEL,
    VALUE_COLUMN,
    VALUE_LABEL,
    Catalogue,
    Indicator,
    catalogue_path,
    read_catalogue,
)

BUILTIN_RULES = (
    Rule("N5", "cell_kind", "ERROR", "数量应为不小于 0 的整数，数额、占比应为数"),
    Rule("N6", "known_cell", "ERROR", "每个单元格必须是本年度指标目录定义的，且只能出现一次"),
    Rule("N11", "precision", "WARNING", "数额的小数位数超过 4 位，按四舍五入读取"),
    Rule("L1", "owner", "ERROR", "指标只能由目录中规定的报送单位填写（否则会被重复计入）"),
    Rule("L2", "share_cross_check", "WARNING", "报送的占比应与按数量计算的占比一致（相差不到 0.5 个百分点）"),
    Rule("L3", "share_sum", "WARNING", "同一总体的各项占比之和应为 100%（允许 ±1 的四舍五入误差）"),
    Rule("L4", "owned_missing", "WARNING", "报送单位应填写目录中由本单位负责的每一项指标"),
)


@dataclass(frozen=True)
class LegacyFormat(ReportFormat):
    """A legacy year's format, with the catalogue it was built from."""

    catalogue: Catalogue | None = None
    # Codes of the report's own sections (the catalogue's headings), before the unit texts.
    report_sections: tuple[str, ...] = ()

    def for_unit(self, unit: str) -> LegacyFormat:
        """The part one unit fills in (its workbook): the tables it owns an indicator of, its texts."""
        catalogue = self.catalogue
        mine = {code for code, (_, items) in catalogue.tables.items() if any(unit in i.owners for i in items)}
        texts = tuple(t.code for t in catalogue.texts.values() if unit in t.owners)
        tables = {c: t for c, t in self.tables.items() if c in mine}
        return dataclasses.replace(self, tables=tables, narrative_rows=texts)


def load_format(home: Path | None, year: int) -> LegacyFormat:
    """The legacy format of `year` as the home's catalogue defines it."""
    if home is None:
        raise HomeError(
            f"{year} 年度适用 2019 年以前的旧格式，统计指标由政务公开办在数据目录中定义；请指定数据目录（--home）。"
        )
    path = catalogue_path(Path(home), year)
    if not path.is_file():
        raise HomeError(
            f"缺少 {year} 年度的统计指标目录 {path}。2019 年以前的年度没有全国统一表格，"
            f"请由政务公开办按 docs/formats.md 说明的格式编写 catalogue/{year}.toml。"
        )
    stamp = path.stat().st_mtime_ns
    key = (str(path.resolve()), stamp)
    cached = _CACHE.get(key)
    if cached is None:
        cached = build_format(read_catalogue(path, year, Path(home)))
        _CACHE.clear()  # one catalogue at a time is what a run needs
        _CACHE[key] = cached
    return cached


_CACHE: dict[tuple[str, int], LegacyFormat] = {}


def indicator_table(code: str, title: str, items: tuple[Indicator, ...]) -> Table:
    """Blocks of consecutive indicators sharing a group heading and a type."""
    blocks: list[Block] = []
    current: list[Indicator] = []

    def close():
        if current:
            first = current[0]
            blocks.append(
                Block(
                    heading=first.group or None,
                    label_header="指标",
                    columns=(
                        Column(
                            VALUE_COLUMN,
                            VALUE_LABEL if first.kind != "share" else SHARE_LABEL,
                            kind=first.kind,
                        ),
                    ),
                    rows=tuple(Row(i.code, (i.row_label,)) for i in current),
                )
            )
            current.clear()

    for item in items:
        if current and (item.group != current[-1].group or item.kind != current[-1].kind):
            close()
        current.append(item)
    close()
    return Table(code=code, title=title, blocks=tuple(blocks), layout="blocks", section="indicators")


def build_format(catalogue: Catalogue) -> LegacyFormat:
    tables = {code: indicator_table(code, title, items) for code, (title, items) in catalogue.tables.items()}
    sections = tuple(Section(f"s{n}", heading) for n, heading in enumerate(catalogue.sections, 1))
    # Unit texts are listed as sections too, so workbooks show their labels.
    sections += tuple(Section(t.code, t.label) for t in catalogue.texts.values())
    return LegacyFormat(
        code="legacy",
        name=catalogue.name,
        sections=sections,
        tables=tables,
        rules=BUILTIN_RULES + tuple(r.rule for r in catalogue.relations),
        template_dir="legacy",
        narrative_rows=tuple(catalogue.texts),
        report_kind="narrative",
        catalogue=catalogue,
        report_sections=tuple(s.code for s in sections[: len(catalogue.sections)]),
    )
