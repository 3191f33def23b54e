"""The region home: a data home whose home.toml lists member districts (`[[members]]`).

A city or province compiles its districts' figures: a member is a district home the
region runs itself (members/<code>/ is a full district home), an open-data package the
district hands in (members/<code>/<year>/figures.csv), or its published report
(members/<code>/<year>/report.{html,pdf,docx}). Every path is fixed by the member's
code, so a home.toml cannot point outside the region home.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.home import Home, HomeError

SOURCES = {"home": "由本级编制（区数据目录）", "package": "报送开放数据包", "published": "报送已公开的年报"}
CODE = re.compile(r"[a-z0-9_-]{1,40}")
MEMBERS_DIR = "members"
DEFAULT_DEADLINE = "03-31"  # 国办发〔2014〕32号: the region's report by the end of March
REGION_UNIT = "region"  # unit code of the region's total rows in open data


@dataclass(frozen=True)
class Member:
    code: str  # ASCII: a partition key and the unit code in open data
    name: str
    source: str  # "home" | "package" | "published"

    def folder(self, region: Home) -> Path:
        return region.root / MEMBERS_DIR / self.code

    def home(self, region: Home) -> Home:
        """The member's own district home (source "home")."""
        return Home.resolve(self.folder(region))

    def year_dir(self, region: Home, year: int) -> Path:
        """What a member that hands in its result put for `year` (package, published)."""
        return self.folder(region) / str(year)


def is_region(home: Home) -> bool:
    """Whether the home's home.toml lists members (a city or a province). Asks nothing
    else of the file: what is wrong with a district's home.toml its build says, as before."""
    try:
        with open(home.root / "home.toml", "rb") as f:
            return "members" in tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return False


def region_members(home: Home) -> list[Member]:
    """The members in home.toml order; a HomeError (one Chinese line) for the first bad entry."""
    entries = home.config().get("members")
    if not isinstance(entries, list) or not entries:
        raise HomeError(
            "home.toml 的 [[members]] 没有列出任何下级地区：请为每个区县写一段 [[members]]（code、name、source）。"
        )
    members: list[Member] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"home.toml 第 {number} 个 [[members]]"
        if not isinstance(entry, dict):
            raise HomeError(f"{where} 格式错误：应为含 code、name、source 的表。")
        code, name, source = (str(entry.get(k, "")).strip() for k in ("code", "name", "source"))
        if not CODE.fullmatch(code):
            raise HomeError(
                f"{where} 的代码“{code}”不合规：只能用小写字母、数字、- 和 _，1 至 40 个字符（如 shifanqu）。"
            )
        if code == REGION_UNIT:
            raise HomeError(f"{where} 的代码不能是“{REGION_UNIT}”（开放数据中全市合计行的代码），请换一个。")
        if code in seen:
            raise HomeError(f"{where} 的代码“{code}”与前面的下级地区重复：每个下级地区的代码必须不同。")
        if not name:
            raise HomeError(f"{where}（{code}）缺少 name（地区名称）。")
        if source not in SOURCES:
            known = "、".join(f"{k}（{v}）" for k, v in SOURCES.items())
            raise HomeError(f"{where}（{name}）的 source“{source}”不认识：只能是 {known}。")
        folder = home.root / MEMBERS_DIR / code
        if not folder.is_dir():
            raise HomeError(
                f"{where}（{name}）的目录 {MEMBERS_DIR}/{code}/ 不存在：请建立该目录，放入该地区的数据。"
            )
        if source == "home" and not (folder / "home.toml").is_file():
            raise HomeError(
                f'{where}（{name}）由本级编制（source = "home"），但 {MEMBERS_DIR}/{code}/home.toml 不存在：'
                "请把该区的数据目录放在这里。"
            )
        seen.add(code)
        members.append(Member(code, name, source))
    return members


def deadline(home: Home, year: int) -> date:
    """The day a member's result for `year` is due (`[region] deadline`, month-day, in year + 1)."""
    text = str(home.config().get("region", {}).get("deadline", DEFAULT_DEADLINE)).strip()
    try:
        month, day = (int(p) for p in text.split("-"))
        return date(year + 1, month, day)
    except ValueError:
        raise HomeError(f'home.toml [region] 的 deadline“{text}”不合规：应为“月-日”，如 "03-31"。') from None
