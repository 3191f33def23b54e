"""Rule kinds are a closed set, each checked by one registered function; pandera
failures are read by check name, so the order of checks does not matter."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pandera.pandas as pa
import pytest
from conftest import cells_frame, valid_cells

import schemas.legacy  # noqa: F401 - registers the legacy kinds
from schemas.base import Rule
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.rules import check_cells
from schemas.rules.context import failed_rows
from schemas.rules.registry import CHECKERS, KIND_ORDER, rule_kind


def test_every_kind_has_exactly_one_checker():
    assert set(CHECKERS) == set(KIND_ORDER) and len(KIND_ORDER) == len(set(KIND_ORDER))


def test_a_kind_outside_the_closed_set_cannot_be_registered():
    with pytest.raises(ValueError, match="not one of"):
        rule_kind("made_up")


def test_a_kind_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="twice"):
        rule_kind("identity")(lambda *a: [])


def test_a_format_with_an_unregistered_kind_fails_loudly(monkeypatch):
    monkeypatch.delitem(CHECKERS, "range")
    fmt = dataclasses.replace(
        NATIONAL, rules=(*NATIONAL.rules, Rule("X1", "range", "ERROR", "测试", table="proactive"))
    )
    with pytest.raises(LookupError, match="no registered checker \\['range'\\]"):
        check_cells(cells_frame(valid_cells(2025)), fmt)


def test_a_format_with_a_kind_outside_the_order_is_refused(monkeypatch):
    """A checker put in the registry by hand, for a kind KIND_ORDER does not list, would
    never run: the engine refuses the format instead of passing its rules by."""
    monkeypatch.setitem(CHECKERS, "made_up", lambda *a: [])
    fmt = dataclasses.replace(
        NATIONAL, rules=(*NATIONAL.rules, Rule("X2", "made_up", "ERROR", "测试", table="proactive"))
    )
    with pytest.raises(LookupError, match="no place in schemas.rules.registry.KIND_ORDER \\['made_up'\\]"):
        check_cells(cells_frame(valid_cells(2025)), fmt)


def test_failures_are_keyed_by_check_name_not_position():
    schema = pa.DataFrameSchema(
        checks=[pa.Check(lambda d: d["a"] < 5, name="second"), pa.Check(lambda d: d["a"] > 0, name="first")]
    )
    failures = failed_rows(schema, pd.DataFrame({"a": [1, -1, 7]}))
    assert failures == {"first": {1}, "second": {2}}
