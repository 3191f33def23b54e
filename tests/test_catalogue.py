"""The rule catalogue (schemas/catalogue.py) is the one place rule ids, severities
and message sentences live: the README's rules table agrees with it, every entry
renders from named facts, every entry is used, and no code writes a Message by hand."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from schemas.catalogue import ENTRIES, MAX_PER_RULE, RULES, cap_messages, problem, rules_table
from schemas.national_2021 import FORMAT as NATIONAL
from schemas.trial_2019 import FORMAT as TRIAL

REPO = Path(__file__).resolve().parents[1]
SEVERITY_WORD = {"ERROR": "错误", "WARNING": "提醒"}
# Facts every message takes from its call site rather than from the template.
RESERVED = {"unit", "unit_label", "file", "sheet", "location", "rule", "severity"}


def test_readme_rules_table_is_the_catalogues():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- rules:start[^>]*-->\n(.*?)\n<!-- rules:end -->", text, flags=re.S)
    assert found, "README has no rules table marks"
    assert found.group(1) == rules_table(), "README rules table is stale: run python -m schemas.catalogue"


def readme_rules() -> dict[str, str]:
    """Rule id -> severity word, from the README's rules table (one row per id)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([A-Z]\d+) \| [^|]+ \| (错误|提醒)[^|]* \|$", text, flags=re.M)
    return dict(rows)


def test_readme_rules_table_lists_every_rule_with_its_severity():
    listed = readme_rules()
    assert set(listed) == set(RULES), set(listed) ^ set(RULES)
    for rule_id, info in RULES.items():
        assert listed[rule_id] == SEVERITY_WORD[info.severity], rule_id


def test_formats_use_catalogued_ids_and_severities():
    for fmt in (NATIONAL, TRIAL):
        for rule in fmt.rules:
            assert rule.id in RULES, rule.id
            assert rule.severity == RULES[rule.id].severity, rule.id


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_every_entry_renders_from_named_facts(key):
    entry = ENTRIES[key]
    fields = {name for _, name, _, _ in string.Formatter().parse(entry.template) if name}
    assert not fields & RESERVED, f"{key}: fact names clash with message fields: {fields & RESERVED}"
    assert entry.rule == "" or entry.rule in RULES, key
    message = problem(key, unit="A", unit_label="甲局（A）", file="a.csv", rule="N1",
                      **{f: f"<{f}>" for f in fields})  # fmt: skip
    assert all(f"<{f}>" in message.text for f in fields)
    assert "请" in message.text or "规则" in message.text, f"{key} says what to do"


def test_every_entry_is_used_by_the_code():
    code = "\n".join(
        p.read_text(encoding="utf-8") for pkg in ("pipeline", "schemas") for p in (REPO / pkg).rglob("*.py")
    )
    # Each key appears once where it is defined; a use is any further appearance.
    unused = [key for key in ENTRIES if code.count(f'"{key}"') < 2]
    assert not unused, unused


def test_no_code_writes_a_message_sentence_by_hand():
    offenders = []
    for pkg in ("pipeline", "schemas"):
        for path in (REPO / pkg).rglob("*.py"):
            # The catalogue makes messages (stored ones come back through Message.from_dict).
            if path.name in {"catalogue.py", "messages.py"}:
                continue
            if re.search(r"\bMessage\(", path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(REPO)))
    assert not offenders, offenders


def test_cap_keeps_the_first_messages_of_a_rule_and_counts_the_rest():
    many = [
        problem("F11.csv_fields", unit="A", unit_label="甲局（A）", file="a.csv", location=f"第 {i} 行",
                fields=3, columns=4)
        for i in range(2, 2 + MAX_PER_RULE + 7)
    ]  # fmt: skip
    capped = cap_messages(many)
    assert capped[:MAX_PER_RULE] == many[:MAX_PER_RULE]
    summary = capped[MAX_PER_RULE:]
    assert len(summary) == 1 and summary[0].rule == "F14" and summary[0].severity == "WARNING"
    assert "F11" in summary[0].text and "7" in summary[0].text
    assert cap_messages(many[:MAX_PER_RULE]) == many[:MAX_PER_RULE]
