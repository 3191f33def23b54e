"""The unit registry (registry/units.csv in the data home): who reports, under
which code and name, in which years. One object for every door; read once per
change of the file."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import HomeError
from schemas.messages import unit_label

REGISTRY_COLUMNS = ["code", "name", "kind", "first_year", "last_year"]
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    first_year: int | None  # None: since the registry began
    last_year: int | None  # None: still active

    @property
    def label(self) -> str:
        return unit_label(self.code, self.name)

    def active_in(self, year: int) -> bool:
        return (self.first_year or 0) <= year <= (self.last_year or 9999)


@dataclass(frozen=True)
class Registry:
    units: tuple[Unit, ...]

    def __post_init__(self):
        object.__setattr__(self, "_by_code", {u.code: u for u in self.units})

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.units)

    def get(self, code: str) -> Unit | None:
        return self._by_code.get(code)

    def name(self, code: str) -> str | None:
        unit = self._by_code.get(code)
        return unit.name if unit else None

    def label(self, code: str) -> str:
        """“示范区教育局（JYJ）”, or the bare code for a unit not registered."""
        return unit_label(code, self.name(code))

    def resolve(self, code: str) -> str | None:
        """The registered code `code` means: itself, or the one code equal to it but
        for letter case (`jtj` is JTJ: a person types codes as they please). None when
        no code matches, or several differ only by case."""
        if code in self._by_code:
            return code
        folded = [u.code for u in self.units if u.code.casefold() == code.strip().casefold()]
        return folded[0] if len(folded) == 1 else None

    def unknown_text(self, code: str) -> str:
        """One line saying `code` is not registered, offering the nearest codes."""
        import difflib

        by_folded = {u.code.casefold(): u for u in self.units}
        near = difflib.get_close_matches(code.strip().casefold(), list(by_folded), n=3, cutoff=0.5)
        offer = "、".join(by_folded[n].label for n in near)
        hint = f"是不是：{offer}？" if offer else "请核对单位名册（registry/units.csv）中的单位代码。"
        return f"单位代码“{code}”不在单位名册中。{hint}"

    def names(self) -> dict[str, str]:
        return {u.code: u.name for u in self.units}

    def active(self, year: int) -> list[Unit]:
        """Units expected to report for `year`, in registry order."""
        return [u for u in self.units if u.active_in(year)]

    def frame(self, year: int | None = None):
        """The registry (or the units active in `year`) as a string DataFrame."""
        import pandas as pd

        units = self.units if year is None else self.active(year)
        rows = [
            (u.code, u.name, u.kind, "" if u.first_year is None else str(u.first_year),
             "" if u.last_year is None else str(u.last_year))
            for u in units
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=REGISTRY_COLUMNS, dtype="string")

    @classmethod
    def parse(cls, text: str, where: str) -> Registry:
        reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REGISTRY_COLUMNS if c not in header]
        if missing:
            raise HomeError(f"单位名册 {where} 缺少列：{'、'.join(missing)}。")
        reader.fieldnames = header
        units, seen, duplicated = [], set(), []
        for record in reader:
            values = {c: (record.get(c) or "").strip() for c in REGISTRY_COLUMNS}
            if not any(values.values()):
                continue
            code = values["code"]
            if code in seen:
                duplicated.append(code)
            seen.add(code)
            years = []
            for column in ("first_year", "last_year"):
                text_year = values[column]
                if text_year and not _YEAR.fullmatch(text_year):
                    raise HomeError(f"单位名册中 {column} 不是四位年份：单位 {code}。")
                years.append(int(text_year) if text_year else None)
            units.append(Unit(code, values["name"], values["kind"], *years))
        if duplicated:
            raise HomeError(f"单位名册中单位代码重复：{'、'.join(duplicated)}。")
        return cls(tuple(units))


_CACHE: dict[str, tuple[tuple[int, int], Registry]] = {}


def load_registry(path: Path) -> Registry:
    """The registry at `path`, read again only when the file changed (mtime, size)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise HomeError(f"缺少单位名册 {path}（列：{','.join(REGISTRY_COLUMNS)}）。") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(str(path))
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise HomeError(f"单位名册 {path} 不是 UTF-8 编码：{exc}") from exc
    registry = Registry.parse(text, str(path))
    _CACHE[str(path)] = (stamp, registry)
    return registry
