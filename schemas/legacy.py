"""Format `legacy`: reports on years up to 2018 (国务院令第492号, spec/legacy.md).

Before 2019 there was no national table. The coordinating office defines, per
home and year, the indicators units submit and the relations among them, in an
indicator catalogue, and writes the report itself as a narrative template.

Catalogue file: ``<home>/catalogue/<year>.toml`` (UTF-8)::

    name = "江汉区2017年度政府信息公开工作统计指标"   # optional: the format's display name
    narrative = "narrative/2017.txt.j2"      # optional; default narrative/<year>.txt.j2
    sections = ["一、主要工作情况", "..."]     # optional; the report's section headings in
                                             # order (default: the six contents of art. 32)
    appendix = true                          # optional; print the indicator tables as 附件

    [[tables]]                               # one table of indicators (a sheet in the workbook)
    code = "hotline"                         # [a-z][a-z0-9_]*, unique
    title = "区长专线受理情况"
    owner = "hotline"                        # default owner (unit code, or a list of codes)

    [[tables.indicators]]
    code = "calls"                           # [a-z][a-z0-9_]*, unique within the table
    label = "受理群众来电"
    unit = "人次"                            # unit of measure (shown with the label)
    type = "count"                           # count | decimal | share | rate (rate = a share)
    group = "按类别"                         # optional: block heading in the form
    owner = "..."                            # optional: overrides the table's owner
    part = "complaints"                      # share only: the counts it is computed from;
    whole = "calls"                          #   a submitted share is cross-checked (rule L2)
    shares_of = "来电类别"                    # share only: shares with the same key in one
                                             #   table are parts of one whole: sum 100 ± 1 (L3)

    [[texts]]                                # optional: text a unit submits, inserted as data
    code = "hr_story"
    label = "招才引智工作情况"
    owner = "hrss"

    [[relations]]                            # relations among indicators
    id = "JH1"                               # unique; L1-L4 are the built-in rules below
    rule = "applications.handled == applications.not_ours + applications.amend"
    description = "办理结果之和应等于办结数"   # optional, Chinese
    severity = "WARNING"                     # default WARNING; ERROR rejects the unit
    tolerance = 0                            # optional absolute tolerance

A relation's `rule` compares sums of terms with ``==``, ``<=`` or ``>=`` (chains
such as ``a <= b <= c`` allowed); a term is ``table.indicator`` (or a bare
indicator code that is unique in the catalogue), a number, or ``number *
indicator``. Relations among indicators of the same owners are checked for each
owner unit; others on the district's totals, reported to the first term's owner.
An indicator not submitted counts as 0 when its owner handed in something; a
relation whose owners handed in nothing is not checked.

Built-in rules (all WARNING, as spec/legacy.md says the office decides):
  L1 an indicator submitted by a unit that does not own it (ERROR: it would be
     counted twice); L2 a submitted share differs by 0.5 points or more from
     the share computed from its counts; L3 shares of one whole do not sum to
     100 ± 1; L4 an indicator the unit owns was not submitted.

Submissions use the ordinary cell model: table = table code, row = indicator
code, column = ``value``; texts are ``narrative,<code>,text,...``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.home import HomeError
from schemas.base import NARRATIVE_TABLE, Block, CellKind, Column, ReportFormat, Row, Rule, Section, Table
from schemas.messages import Message
from schemas.rules import format_number

VALUE_COLUMN = "value"
VALUE_LABEL = "数值"
SHARE_LABEL = "数值（%）"
ARTICLE_32_SECTIONS = (
    "一、主动公开政府信息的情况",
    "二、依申请公开政府信息和不予公开政府信息的情况",
    "三、政府信息公开的收费及减免情况",
    "四、因政府信息公开申请行政复议、提起行政诉讼的情况",
    "五、政府信息公开工作存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)
TYPES: dict[str, CellKind] = {"count": "count", "decimal": "decimal", "share": "share", "rate": "share"}
TYPE_TEXT = {"count": "数量", "decimal": "数额", "share": "占比（%）", "rate": "比率（%）"}
SHARE_TOLERANCE = 0.5  # points: a submitted share this far from the computed one is flagged
SUM_TOLERANCE = 1.0  # shares of one whole sum to 100 ± 1
_CODE = re.compile(r"[a-z][a-z0-9_]*")
_TERM = re.compile(r"^(?:(?P<factor>\d+(?:\.\d+)?)\s*\*\s*)?(?P<ref>[A-Za-z_][A-Za-z0-9_.]*)$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")

BUILTIN_RULES = (
    Rule("L1", "owner", "ERROR", "指标只能由目录中规定的报送单位填写（否则会被重复计入）"),
    Rule("L2", "share_cross_check", "WARNING", "报送的占比应与按数量计算的占比一致（相差不到 0.5 个百分点）"),
    Rule("L3", "share_sum", "WARNING", "同一总体的各项占比之和应为 100%（允许 ±1 的四舍五入误差）"),
    Rule("L4", "owned_missing", "WARNING", "报送单位应填写目录中由本单位负责的每一项指标"),
)


@dataclass(frozen=True)
class Indicator:
    table: str
    code: str
    label: str
    unit: str
    type: str
    owners: tuple[str, ...]
    group: str = ""
    part: str = ""  # "table.code" of the counts a share is computed from
    whole: str = ""
    shares_of: str = ""

    @property
    def ref(self) -> str:
        return f"{self.table}.{self.code}"

    @property
    def kind(self) -> CellKind:
        return TYPES[self.type]

    @property
    def row_label(self) -> str:
        return f"{self.label}（{self.unit}）" if self.unit else self.label


@dataclass(frozen=True)
class Relation:
    rule: Rule
    # Sides of a chain a op b op c: each side a list of (factor, ref or None, constant).
    sides: tuple[tuple[tuple[float, str], ...], ...]
    constants: tuple[float, ...]
    ops: tuple[str, ...]
    refs: tuple[str, ...]


@dataclass(frozen=True)
class TextItem:
    code: str
    label: str
    owners: tuple[str, ...]


@dataclass
class Catalogue:
    year: int
    path: Path
    name: str
    narrative: Path
    sections: tuple[str, ...]
    appendix: bool
    tables: dict[str, tuple[str, tuple[Indicator, ...]]]  # code -> (title, indicators)
    texts: dict[str, TextItem] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()

    def indicators(self) -> dict[str, Indicator]:
        return {i.ref: i for _, items in self.tables.values() for i in items}


def catalogue_path(home: Path, year: int) -> Path:
    return Path(home) / "catalogue" / f"{year}.toml"


def load_format(home: Path | None, year: int) -> ReportFormat:
    """The legacy format of `year` as the home's catalogue defines it."""
    if home is None:
        raise HomeError(
            f"{year} 年度适用 2019 年以前的旧格式，统计指标由政务公开办在数据目录中定义；请指定数据目录（--home）。"
        )
    path = catalogue_path(Path(home), year)
    if not path.is_file():
        raise HomeError(
            f"缺少 {year} 年度的统计指标目录 {path}。2019 年以前的年度没有全国统一表格，"
            f"请由政务公开办按 schemas/legacy.py 开头说明的格式编写 catalogue/{year}.toml。"
        )
    stamp = path.stat().st_mtime_ns
    key = (str(path.resolve()), stamp)
    cached = _CACHE.get(key)
    if cached is None:
        cached = build_format(read_catalogue(path, year, Path(home)))
        _CACHE.clear()  # one catalogue at a time is what a run needs
        _CACHE[key] = cached
    return cached


_CACHE: dict[tuple[str, int], ReportFormat] = {}


# --- reading the catalogue ------------------------------------------------------


class _Errors:
    def __init__(self, path: Path):
        self.path = path
        self.items: list[str] = []

    def add(self, where: str, text: str) -> None:
        self.items.append(f"{where}：{text}" if where else text)

    def raise_if_any(self) -> None:
        if self.items:
            listed = "\n".join(f"  - {t}" for t in self.items)
            raise HomeError(f"统计指标目录 {self.path} 有误，请改正：\n{listed}")


TABLE_KEYS = {"code", "title", "owner", "indicators"}
INDICATOR_KEYS = {"code", "label", "unit", "type", "group", "owner", "part", "whole", "shares_of"}
RELATION_KEYS = {"id", "rule", "description", "severity", "tolerance"}
TEXT_KEYS = {"code", "label", "owner"}


def _unknown_keys(raw: dict, known: set[str], where: str, errors: _Errors) -> None:
    for key in sorted(set(raw) - known):
        errors.add(where, f"不认识的项“{key}”（可用：{'、'.join(sorted(known))}）")


def _owners(value, where: str, errors: _Errors) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    errors.add(where, "缺少报送单位 owner（单位代码，或单位代码列表）")
    return ()


def _registry_codes(home: Path) -> set[str] | None:
    path = home / "registry" / "units.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
    return set(frame["code"].str.strip()) if "code" in frame.columns else None


def read_catalogue(path: Path, year: int, home: Path) -> Catalogue:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise HomeError(f"统计指标目录 {path} 不是 UTF-8 编码：{exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise HomeError(f"统计指标目录 {path} 不是合法的 TOML：{exc}") from exc
    errors = _Errors(path)
    known_top = {"name", "narrative", "sections", "appendix", "tables", "texts", "relations"}
    for key in sorted(set(data) - known_top):
        errors.add("", f"不认识的项“{key}”（可用：{'、'.join(sorted(known_top))}）")

    sections = data.get("sections", list(ARTICLE_32_SECTIONS))
    if not (
        isinstance(sections, list) and sections and all(isinstance(s, str) and s.strip() for s in sections)
    ):
        errors.add("sections", "应为报告各部分标题的列表")
        sections = list(ARTICLE_32_SECTIONS)
    narrative = data.get("narrative", f"narrative/{year}.txt.j2")
    if not isinstance(narrative, str) or ".." in Path(narrative).parts or Path(narrative).is_absolute():
        errors.add("narrative", "应为数据目录内的相对路径（如 narrative/2017.txt.j2）")
        narrative = f"narrative/{year}.txt.j2"

    registry = _registry_codes(home)
    tables: dict[str, tuple[str, tuple[Indicator, ...]]] = {}
    raw_tables = data.get("tables")
    if not isinstance(raw_tables, list) or not raw_tables:
        errors.add("", "没有定义任何指标表（[[tables]]）")
        raw_tables = []
    for n, raw in enumerate(raw_tables, 1):
        where = f"第 {n} 个 [[tables]]"
        if not isinstance(raw, dict):
            errors.add(where, "格式不对")
            continue
        code = str(raw.get("code", ""))
        where = f"指标表“{code or n}”"
        _unknown_keys(raw, TABLE_KEYS, where, errors)
        if not _CODE.fullmatch(code) or code == NARRATIVE_TABLE:
            errors.add(where, "code 应由小写字母、数字和下划线组成，以字母开头，且不能是 narrative")
        elif code in tables:
            errors.add(where, "code 重复")
        title = str(raw.get("title", "")).strip()
        if not title:
            errors.add(where, "缺少标题 title")
        table_owner = raw.get("owner")
        items: list[Indicator] = []
        raw_items = raw.get("indicators")
        if not isinstance(raw_items, list) or not raw_items:
            errors.add(where, "没有指标（[[tables.indicators]]）")
            raw_items = []
        seen: set[str] = set()
        for m, item in enumerate(raw_items, 1):
            iwhere = f"{where}第 {m} 个指标"
            if not isinstance(item, dict):
                errors.add(iwhere, "格式不对")
                continue
            icode = str(item.get("code", ""))
            iwhere = f"指标“{code}.{icode or m}”"
            _unknown_keys(item, INDICATOR_KEYS, iwhere, errors)
            if not _CODE.fullmatch(icode):
                errors.add(iwhere, "code 应由小写字母、数字和下划线组成，以字母开头")
            elif icode in seen:
                errors.add(iwhere, "code 在本表中重复")
            seen.add(icode)
            label = str(item.get("label", "")).strip()
            if not label:
                errors.add(iwhere, "缺少名称 label")
            kind = str(item.get("type", ""))
            if kind not in TYPES:
                errors.add(iwhere, f"type“{kind}”不对，应为 count、decimal、share 或 rate")
                kind = "count"
            owners = _owners(item.get("owner", table_owner), iwhere, errors)
            if registry is not None:
                for owner in owners:
                    if owner not in registry:
                        errors.add(iwhere, f"报送单位“{owner}”不在单位名册中")
            if kind in ("share", "rate") and len(owners) > 1:
                errors.add(iwhere, "占比、比率类指标只能由一个单位报送（不同单位的占比不能相加）")

            def ref(name: str, table=code, item=item) -> str:
                name = str(item.get(name, "")).strip()
                return name if not name or "." in name else f"{table}.{name}"

            part, whole = ref("part"), ref("whole")
            if (part or whole) and kind not in ("share", "rate"):
                errors.add(iwhere, "只有占比（share）类指标可以写 part、whole")
            if bool(part) != bool(whole):
                errors.add(iwhere, "part 和 whole 要同时写")
            shares_of = str(item.get("shares_of", "")).strip()
            if shares_of and kind not in ("share", "rate"):
                errors.add(iwhere, "只有占比（share）类指标可以写 shares_of")
            items.append(
                Indicator(
                    table=code, code=icode, label=label, unit=str(item.get("unit", "")).strip(), type=kind,
                    owners=owners, group=str(item.get("group", "")).strip(), part=part, whole=whole,
                    shares_of=shares_of,
                )
            )  # fmt: skip
        tables[code] = (title, tuple(items))

    indicators = {i.ref: i for _, items in tables.values() for i in items}
    by_code: dict[str, list[str]] = {}
    for ind in indicators.values():
        by_code.setdefault(ind.code, []).append(ind.ref)
    for ind in indicators.values():
        for name in (ind.part, ind.whole):
            if name and name not in indicators:
                errors.add(f"指标“{ind.ref}”", f"part/whole 引用的指标“{name}”不存在")
            elif name and indicators[name].type != "count":
                errors.add(f"指标“{ind.ref}”", f"part/whole 应引用数量（count）类指标，“{name}”不是")

    texts: dict[str, TextItem] = {}
    for n, raw in enumerate(data.get("texts", []) or [], 1):
        code = str(raw.get("code", "")) if isinstance(raw, dict) else ""
        where = f"文字项“{code or n}”"
        if isinstance(raw, dict):
            _unknown_keys(raw, TEXT_KEYS, where, errors)
        if not _CODE.fullmatch(code) or code in texts:
            errors.add(where, "code 不合法或重复")
            continue
        texts[code] = TextItem(
            code, str(raw.get("label", code)).strip(), _owners(raw.get("owner"), where, errors)
        )

    relations: list[Relation] = []
    ids = {r.id for r in BUILTIN_RULES}
    for n, raw in enumerate(data.get("relations", []) or [], 1):
        if not isinstance(raw, dict):
            errors.add(f"第 {n} 个 [[relations]]", "格式不对")
            continue
        rid = str(raw.get("id", "")).strip()
        where = f"关系“{rid or n}”"
        _unknown_keys(raw, RELATION_KEYS, where, errors)
        if not rid or rid in ids:
            errors.add(where, "缺少 id，或 id 重复（L1-L4 为内置规则）")
        ids.add(rid)
        severity = str(raw.get("severity", "WARNING")).upper()
        if severity not in ("WARNING", "ERROR"):
            errors.add(where, "severity 应为 WARNING 或 ERROR")
            severity = "WARNING"
        text = str(raw.get("rule", ""))
        try:
            tolerance = float(raw.get("tolerance", 0))
        except (TypeError, ValueError):
            errors.add(where, "tolerance 应为数字")
            tolerance = 0.0
        relation = _parse_relation(rid, text, severity, str(raw.get("description", "")).strip(), tolerance,
                                   indicators, by_code, lambda t, w=where: errors.add(w, t))  # fmt: skip
        if relation is not None:
            relations.append(relation)

    errors.raise_if_any()
    return Catalogue(
        year=year,
        path=path,
        name=str(
            data.get("name") or f"《中华人民共和国政府信息公开条例》（国务院令第492号）· {year}年度统计指标"
        ),
        narrative=home / narrative,
        sections=tuple(s.strip() for s in sections),
        appendix=bool(data.get("appendix", True)),
        tables=tables,
        texts=texts,
        relations=tuple(relations),
    )


def _parse_relation(rid, text, severity, description, tolerance, indicators, by_code, error):
    parts = re.split(r"(==|<=|>=)", text)
    if len(parts) < 3:
        error(f"rule“{text}”应含 ==、<= 或 >=")
        return None
    exprs, ops = parts[0::2], parts[1::2]
    sides, constants, refs = [], [], []
    for expr in exprs:
        terms, constant = [], 0.0
        for term in (t.strip() for t in expr.split("+")):
            if _NUMBER.fullmatch(term):
                constant += float(term)
                continue
            match = _TERM.fullmatch(term)
            if not match:
                error(f"看不懂“{term}”（应为 表.指标、数字，或 数字 * 表.指标）")
                return None
            name = match["ref"]
            if "." not in name:
                found = by_code.get(name, [])
                if len(found) != 1:
                    error(f"指标“{name}”{'不存在' if not found else '不唯一，请写成 表.指标'}")
                    return None
                name = found[0]
            if name not in indicators:
                error(f"指标“{name}”不存在")
                return None
            terms.append((float(match["factor"] or 1), name))
            refs.append(name)
        sides.append(tuple(terms))
        constants.append(constant)
    if not refs:
        error("没有引用任何指标")
        return None
    shown = description or text.strip()
    rule = Rule(rid, "relation", severity, shown, table=indicators[refs[0]].table,
                left=tuple(r for _, r in sides[0]), right=tuple(r for s in sides[1:] for _, r in s),
                op="<=" if ops[0] != "==" else "==", tolerance=tolerance)  # fmt: skip
    return Relation(rule, tuple(sides), tuple(constants), tuple(ops), tuple(dict.fromkeys(refs)))


# --- the format -----------------------------------------------------------------


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
    return Table(code=code, title=title, blocks=tuple(blocks), layout="blocks")


def build_format(catalogue: Catalogue) -> ReportFormat:
    tables = {code: indicator_table(code, title, items) for code, (title, items) in catalogue.tables.items()}
    sections = tuple(Section(f"s{n}", heading) for n, heading in enumerate(catalogue.sections, 1))
    # Unit texts are listed as sections too, so workbooks show their labels.
    sections += tuple(Section(t.code, t.label) for t in catalogue.texts.values())
    return ReportFormat(
        code="legacy",
        name=catalogue.name,
        sections=sections,
        tables=tables,
        rules=BUILTIN_RULES + tuple(r.rule for r in catalogue.relations),
        template_dir="legacy",
        narrative_rows=tuple(catalogue.texts),
        extra={
            "catalogue": catalogue,
            "report_sections": tuple(s.code for s in sections[: len(catalogue.sections)]),
            "checks": (check_owners, check_shares, check_relations),
            "build_views": _build_views,
            "for_unit": format_for_unit,
        },
    )


def _build_views(*args, **kwargs):
    from pipeline.render.legacy import build_views  # rendering stays out of schema imports

    return build_views(*args, **kwargs)


def format_for_unit(fmt: ReportFormat, unit: str) -> ReportFormat:
    """The part of a legacy format one unit fills in (its workbook)."""
    catalogue: Catalogue = fmt.extra["catalogue"]
    mine = {code for code, (_, items) in catalogue.tables.items() if any(unit in i.owners for i in items)}
    texts = tuple(t.code for t in catalogue.texts.values() if unit in t.owners)
    return ReportFormat(
        code=fmt.code, name=fmt.name, sections=fmt.sections,
        tables={c: t for c, t in fmt.tables.items() if c in mine},
        rules=fmt.rules, template_dir=fmt.template_dir, narrative_rows=texts, extra=fmt.extra,
    )  # fmt: skip


# --- checks (called by schemas.rules.check_cells) -------------------------------


def _catalogue(fmt: ReportFormat) -> Catalogue:
    return fmt.extra["catalogue"]


def _indicator_frame(cells: pd.DataFrame) -> pd.DataFrame:
    part = cells[(cells["table"] != NARRATIVE_TABLE) & cells["number"].notna()]
    return part.assign(ref=part["table"] + "." + part["row"])


def _figure(ctx, ind: Indicator, unit: str | None, value: float | None) -> str:
    """“受理群众来电 2275 人次（区长专线办公室，C8）”."""
    where = []
    if unit is not None:
        entry = ctx.entry(unit, ind.table, ind.code, VALUE_COLUMN)
        where = [ctx.unit_names.get(unit, unit)]
        if entry and entry[2]:
            where.append(f"{entry[1]} {entry[2]}".strip() if entry[1] else entry[2])
    shown = "未填" if value is None else format_number(value)
    measure = "%" if ind.kind == "share" else ind.unit
    return f"“{ind.label}”{shown}{measure if value is not None else ''}（{'，'.join(where)}）"


def check_owners(cells: pd.DataFrame, fmt: ReportFormat, ctx) -> list[Message]:
    """L1: only an indicator's owners submit it; L4: owners submit all they own."""
    catalogue = _catalogue(fmt)
    indicators = catalogue.indicators()
    frame = _indicator_frame(cells)
    messages: list[Message] = []
    l1, l4 = fmt.rule("L1"), fmt.rule("L4")
    for unit, table, row in zip(frame["unit"], frame["table"], frame["row"]):
        ind = indicators.get(f"{table}.{row}")
        if ind is not None and unit not in ind.owners:
            owners = "、".join(ctx.unit_label(o) for o in ind.owners)
            messages.append(
                ctx.message(l1, unit, f"“{fmt.tables[table].title}·{ind.label}”由{owners}报送，本单位不应填写。"
                            "请删除这一项（如数字确属本单位，请与政务公开办联系调整指标目录）。",
                            (table, row, VALUE_COLUMN))
            )  # fmt: skip
    texts = cells[cells["table"] == NARRATIVE_TABLE]
    for unit, row in zip(texts["unit"], texts["row"]):
        item = catalogue.texts.get(row)
        if item is not None and unit not in item.owners:
            messages.append(
                ctx.message(l1, unit, f"文字项“{item.label}”由{'、'.join(ctx.unit_label(o) for o in item.owners)}"
                            "填写，本单位不应填写。请删除。", (NARRATIVE_TABLE, row, "text"))
            )  # fmt: skip
    # Every cell handed in counts as submitted, even one N5 rejects (that has its own message).
    submitted = {(u, f"{t}.{r}") for u, t, r, _ in ctx.by_key}
    for unit in dict.fromkeys(cells["unit"]):
        missing = [i for i in indicators.values() if i.owners == (unit,) and (unit, i.ref) not in submitted]
        if missing:
            listed = "、".join(f"“{fmt.tables[i.table].title}·{i.label}”" for i in missing)
            messages.append(
                ctx.message(l4, unit, f"本单位负责的 {len(missing)} 项指标没有填写：{listed}。"
                            "如确实为 0，请填 0；报告正文引用这些指标时无法生成。", None)
            )  # fmt: skip
    return messages


def _totals(frame: pd.DataFrame) -> dict[str, float]:
    return frame.groupby("ref")["number"].sum().to_dict()


def check_shares(cells: pd.DataFrame, fmt: ReportFormat, ctx) -> list[Message]:
    """L2: submitted share vs the share of its counts; L3: shares of one whole sum to 100 ± 1."""
    from pipeline.render.legacy import format_share, share_value

    catalogue = _catalogue(fmt)
    indicators = catalogue.indicators()
    frame = _indicator_frame(cells)
    totals = _totals(frame)
    messages: list[Message] = []
    l2, l3 = fmt.rule("L2"), fmt.rule("L3")
    for unit, ref, number in zip(frame["unit"], frame["ref"], frame["number"]):
        ind = indicators.get(ref)
        if ind is None or not ind.part or ind.whole not in totals or ind.part not in totals:
            continue
        part, whole = totals[ind.part], totals[ind.whole]
        if whole <= 0:
            continue
        exact = float(share_value(part, whole))
        if abs(number - exact) >= SHARE_TOLERANCE - 1e-9:
            p, w = indicators[ind.part], indicators[ind.whole]
            text = (
                f"报送的{_figure(ctx, ind, unit, number)}，而按数量计算：{_figure(ctx, p, _owner_of(p, frame), part)}"
                f" ÷ {_figure(ctx, w, _owner_of(w, frame), whole)} = {exact:.2f}%，报告中印作"
                f"{format_share(part, whole)}；相差 {abs(number - exact):.2f} 个百分点。"
                f"规则：{l2.description}。报告中的占比一律按数量计算，请核对报送的占比或数量。"
            )
            messages.append(ctx.message(l2, unit, text, (ind.table, ind.code, VALUE_COLUMN)))
    groups: dict[tuple[str, str, str], list[Indicator]] = {}
    for ind in indicators.values():
        if ind.shares_of:
            groups.setdefault((ind.owners[0], ind.table, ind.shares_of), []).append(ind)
    values = {(u, r): n for u, r, n in zip(frame["unit"], frame["ref"], frame["number"])}
    for (unit, table, whole), members in groups.items():
        got = [(m, values.get((unit, m.ref))) for m in members]
        if all(v is None for _, v in got):
            continue
        total = sum(v or 0.0 for _, v in got)
        if abs(total - 100) > SUM_TOLERANCE + 1e-9:
            listed = " + ".join(_figure(ctx, m, unit, v) for m, v in got)
            text = f"“{whole}”的各项占比：{listed}，合计 {format_number(total)}%。规则：{l3.description}。请核对。"
            messages.append(ctx.message(l3, unit, text, (table, members[0].code, VALUE_COLUMN)))
    return messages


def _owner_of(ind: Indicator, frame: pd.DataFrame) -> str | None:
    """The unit a district figure comes from, when exactly one unit submitted it."""
    units = frame.loc[frame["ref"] == ind.ref, "unit"].unique()
    return units[0] if len(units) == 1 else None


def check_relations(cells: pd.DataFrame, fmt: ReportFormat, ctx) -> list[Message]:
    """The catalogue's relations: per owner unit, or on the district's totals."""
    catalogue = _catalogue(fmt)
    indicators = catalogue.indicators()
    frame = _indicator_frame(cells)
    reporting = set(cells["unit"])
    messages: list[Message] = []
    for relation in catalogue.relations:
        owner_sets = {indicators[r].owners for r in relation.refs}
        if len(owner_sets) == 1:
            scopes = [(u, frame[frame["unit"] == u]) for u in next(iter(owner_sets)) if u in reporting]
        else:
            owners = {o for r in relation.refs for o in indicators[r].owners}
            if not owners <= reporting:
                continue  # someone has not handed in: nothing sound to compare
            first = next(o for o in indicators[relation.refs[0]].owners if o in reporting)
            scopes = [(first, frame)]
        for unit, part in scopes:
            totals = _totals(part)
            if not any(r in totals for r in relation.refs):
                continue
            messages += _relation_messages(relation, unit, totals, part, indicators, ctx)
    return messages


def _relation_messages(relation, unit, totals, part, indicators, ctx) -> list[Message]:
    sums = [
        sum(f * totals.get(ref, 0.0) for f, ref in side) + constant
        for side, constant in zip(relation.sides, relation.constants)
    ]
    tol = relation.rule.tolerance + 1e-9
    holds = all(
        abs(a - b) <= tol if op == "==" else (a <= b + tol if op == "<=" else a + tol >= b)
        for a, b, op in zip(sums, sums[1:], relation.ops)
    )
    if holds:
        return []

    def side_text(side, constant, total) -> str:
        shown = [
            (f"{format_number(f)} × " if f != 1 else "")
            + _figure(ctx, indicators[ref], _owner_of(indicators[ref], part), totals.get(ref))
            for f, ref in side
        ]
        if constant:
            shown.append(format_number(constant))
        return " + ".join(shown) + (f"，合计 {format_number(total)}" if len(shown) > 1 else "")

    words = {"==": "应等于", "<=": "应不大于", ">=": "应不小于"}
    pieces = [side_text(relation.sides[0], relation.constants[0], sums[0])]
    for op, side, constant, total in zip(relation.ops, relation.sides[1:], relation.constants[1:], sums[1:]):
        pieces.append(f"{words[op]} {side_text(side, constant, total)}")
    text = "；".join(pieces) + f"。规则：{relation.rule.description}。请核对这些数字并改正。"
    first = indicators[relation.refs[0]]
    return [ctx.message(relation.rule, unit, text, (first.table, first.code, VALUE_COLUMN))]
