"""Rule kinds: each kind of rule is checked by one registered function.

A format's rules are data (`schemas.base.Rule`); `Rule.kind` names which
function checks them. Kinds register themselves (in the style of pandera's
`register_check_method`), so a format that needs a new kind adds a module with
a registered function instead of touching the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

import pandas as pd

from schemas.base import RuleKind

if TYPE_CHECKING:
    from schemas.base import ReportFormat, Rule
    from schemas.messages import Message
    from schemas.rules.context import RuleContext


LEVELS = ("县级", "设区的市", "省级")


@dataclass(frozen=True)
class Settings:
    """What the coordinating office sets for its checks (home.toml; defaults otherwise)."""

    level: str = ""  # 县级 / 设区的市 / 省级; "" = not stated (G1 is not checked)
    anomaly_factor: float = 5.0  # Y1: more than this many times last year's figure, or less than 1/this
    anomaly_minimum: float = 50.0  # Y1: figures below this in both years are left alone
    overview_limit: int = 1000  # P4: characters of 一、总体情况


@dataclass(frozen=True)
class YearInputs:
    """What rules may look at beyond the cells: last year's accepted cells and format,
    and the units that handed in this year."""

    previous: pd.DataFrame | None
    previous_format: ReportFormat | None
    units: list[str]
    all_cells: pd.DataFrame  # every cell handed in, valid or not (structure rules read these)
    settings: Settings = Settings()


# frame of valid cells, format, context, the format's rules of this kind, inputs -> messages
Checker = Callable[["pd.DataFrame", "ReportFormat", "RuleContext", list["Rule"], YearInputs], list["Message"]]

CHECKERS: dict[str, Checker] = {}


def rule_kind(kind: str) -> Callable[[Checker], Checker]:
    """Register the function that checks every rule of `kind`."""
    if kind not in get_args(RuleKind):
        raise ValueError(f"rule kind {kind!r} is not one of schemas.base.RuleKind")

    def register(check: Checker) -> Checker:
        if kind in CHECKERS:
            raise ValueError(f"rule kind {kind!r} registered twice")
        CHECKERS[kind] = check
        return check

    return register
