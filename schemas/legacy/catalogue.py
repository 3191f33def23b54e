"""Reading a legacy indicator catalogue (``<home>/catalogue/<year>.toml``; the
format is described in schemas/legacy/__init__.py). Every problem in the file is
collected and reported at once, with where it is."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from schemas.base import NARRATIVE_TABLE, CellKind, Rule
from schemas.errors import HomeError
from schemas.units import load_registry
from schemas.years import catalogue_path  # noqa: F401 - the one place that names the file

# Ids of the built-in rules (schemas/legacy/format.py); a relation may not reuse them.
BUILTIN_RULE_IDS = ("N5", "N6", "N11", "L1", "L2", "L3", "L4")
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
_CODE = re.compile(r"[a-z][a-z0-9_]*")
_TERM = re.compile(r"^(?:(?P<factor>\d+(?:\.\d+)?)\s*\*\s*)?(?P<ref>[A-Za-z_][A-Za-z0-9_.]*)$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


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
    return {u.code for u in load_registry(path).units}


def read_catalogue(path: Path, year: int, home: Path) -> Catalogue:
    data = _load_toml(path)
    errors = _Errors(path)
    known_top = {"name", "narrative", "sections", "appendix", "tables", "texts", "relations"}
    for key in sorted(set(data) - known_top):
        errors.add("", f"不认识的项“{key}”（可用：{'、'.join(sorted(known_top))}）")
    sections = _read_sections(data, errors)
    narrative = _read_narrative(data, year, errors)
    tables = _read_tables(data, _registry_codes(home), errors)
    indicators = {i.ref: i for _, items in tables.values() for i in items}
    _check_share_refs(indicators, errors)
    texts = _read_texts(data, errors)
    relations = _read_relations(data, indicators, errors)
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


def _load_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise HomeError(f"统计指标目录 {path} 不是 UTF-8 编码：{exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise HomeError(f"统计指标目录 {path} 不是合法的 TOML：{exc}") from exc


def _read_sections(data: dict, errors: _Errors) -> list[str]:
    sections = data.get("sections", list(ARTICLE_32_SECTIONS))
    if not (
        isinstance(sections, list) and sections and all(isinstance(s, str) and s.strip() for s in sections)
    ):
        errors.add("sections", "应为报告各部分标题的列表")
        sections = list(ARTICLE_32_SECTIONS)
    return sections


def _read_narrative(data: dict, year: int, errors: _Errors) -> str:
    narrative = data.get("narrative", f"narrative/{year}.txt.j2")
    if not isinstance(narrative, str) or ".." in Path(narrative).parts or Path(narrative).is_absolute():
        errors.add("narrative", "应为数据目录内的相对路径（如 narrative/2017.txt.j2）")
        narrative = f"narrative/{year}.txt.j2"
    return narrative


def _read_tables(
    data: dict, registry: set[str] | None, errors: _Errors
) -> dict[str, tuple[str, tuple[Indicator, ...]]]:
    tables: dict[str, tuple[str, tuple[Indicator, ...]]] = {}
    raw_tables = data.get("tables")
    if not isinstance(raw_tables, list) or not raw_tables:
        errors.add("", "没有定义任何指标表（[[tables]]）")
        raw_tables = []
    for n, raw in enumerate(raw_tables, 1):
        if not isinstance(raw, dict):
            errors.add(f"第 {n} 个 [[tables]]", "格式不对")
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
        raw_items = raw.get("indicators")
        if not isinstance(raw_items, list) or not raw_items:
            errors.add(where, "没有指标（[[tables.indicators]]）")
            raw_items = []
        items: list[Indicator] = []
        seen: set[str] = set()
        for m, item in enumerate(raw_items, 1):
            if not isinstance(item, dict):
                errors.add(f"{where}第 {m} 个指标", "格式不对")
                continue
            indicator = _read_indicator(code, m, item, raw.get("owner"), registry, errors)
            if indicator.code in seen:
                errors.add(f"指标“{code}.{indicator.code}”", "code 在本表中重复")
            seen.add(indicator.code)
            items.append(indicator)
        tables[code] = (title, tuple(items))
    return tables


def _read_indicator(
    table: str, number: int, item: dict, table_owner, registry: set[str] | None, errors: _Errors
) -> Indicator:
    icode = str(item.get("code", ""))
    where = f"指标“{table}.{icode or number}”"
    _unknown_keys(item, INDICATOR_KEYS, where, errors)
    if not _CODE.fullmatch(icode):
        errors.add(where, "code 应由小写字母、数字和下划线组成，以字母开头")
    label = str(item.get("label", "")).strip()
    if not label:
        errors.add(where, "缺少名称 label")
    kind = str(item.get("type", ""))
    if kind not in TYPES:
        errors.add(where, f"type“{kind}”不对，应为 count、decimal、share 或 rate")
        kind = "count"
    owners = _owners(item.get("owner", table_owner), where, errors)
    for owner in owners if registry is not None else ():
        if owner not in registry:
            errors.add(where, f"报送单位“{owner}”不在单位名册中")
    is_share = kind in ("share", "rate")
    if is_share and len(owners) > 1:
        errors.add(where, "占比、比率类指标只能由一个单位报送（不同单位的占比不能相加）")

    def ref(name: str) -> str:
        value = str(item.get(name, "")).strip()
        return value if not value or "." in value else f"{table}.{value}"

    part, whole = ref("part"), ref("whole")
    if (part or whole) and not is_share:
        errors.add(where, "只有占比（share）类指标可以写 part、whole")
    if bool(part) != bool(whole):
        errors.add(where, "part 和 whole 要同时写")
    shares_of = str(item.get("shares_of", "")).strip()
    if shares_of and not is_share:
        errors.add(where, "只有占比（share）类指标可以写 shares_of")
    return Indicator(
        table=table, code=icode, label=label, unit=str(item.get("unit", "")).strip(), type=kind,
        owners=owners, group=str(item.get("group", "")).strip(), part=part, whole=whole, shares_of=shares_of,
    )  # fmt: skip


def _check_share_refs(indicators: dict[str, Indicator], errors: _Errors) -> None:
    for ind in indicators.values():
        for name in (ind.part, ind.whole):
            if name and name not in indicators:
                errors.add(f"指标“{ind.ref}”", f"part/whole 引用的指标“{name}”不存在")
            elif name and indicators[name].type != "count":
                errors.add(f"指标“{ind.ref}”", f"part/whole 应引用数量（count）类指标，“{name}”不是")


def _read_texts(data: dict, errors: _Errors) -> dict[str, TextItem]:
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
    return texts


def _read_relations(data: dict, indicators: dict[str, Indicator], errors: _Errors) -> list[Relation]:
    by_code: dict[str, list[str]] = {}
    for ind in indicators.values():
        by_code.setdefault(ind.code, []).append(ind.ref)
    relations: list[Relation] = []
    ids = set(BUILTIN_RULE_IDS)
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
    return relations


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
