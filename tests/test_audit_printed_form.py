"""The audit checks a table printed in another year's form as printed (pipeline/steps/audit.py,
as_printed): a 2023 report printing the 2019 trial tables — 表三 with one "（六）其他处理"
row — gets A6 naming the form, not N6 for every cell the 2021 form lacks nor N2 for a
total that includes the row the 2021 form splits in three. Real reports do this
(tests/field/hzq-2023, hzq-2024); here the (六) row holds 4, which the real ones leave 0."""

from __future__ import annotations

from conftest import build, hand_in, valid_cells, write_home

from pipeline.steps.audit import as_printed, audit_year, cell_frame, read_one
from pipeline.steps.rules import check_isolated
from pipeline.synth import to_csv
from schemas import format_for_year


def test_a_table_printed_in_the_trial_form_is_checked_as_printed(tmp_path):
    source = write_home(tmp_path / "source", [("A", "甲局")], first_year=2018)
    cells = valid_cells(2019, seed=1)
    assert cells[("applications", "other", "total")] == "4"
    hand_in(source, 2019, "A", "a.csv", to_csv(cells))
    build(source, 2019, formats=("html",), unit_documents=True)
    page = source.root / "reports" / "2019" / "publish" / "units" / "A.html"

    home = write_home(tmp_path / "home", [("X", "某局")])
    read = read_one(page, 2023)
    assert read.read and read.printed_formats == {"proactive": "trial-2019", "applications": "trial-2019"}
    assert ("applications", "other", "total", "4") in {c[:4] for c in read.cells}

    audit = audit_year(home, 2023, [read], [])
    rules = sorted({m.rule for m in audit.findings})
    assert rules == ["A6"], [(m.rule, m.text) for m in audit.findings]

    # Checked against the 2021 form instead, the same cells draw N6 and N2: what as_printed avoids.
    fmt = format_for_year(2023)
    frame = cell_frame([read], [read.body], 2023, fmt)
    plain = {m.rule for m in check_isolated(frame, fmt, {}, None, None).messages}
    assert {"N2", "N6"} <= plain
    printed = {
        m.rule for m in check_isolated(frame, as_printed(fmt, read.printed_formats), {}, None, None).messages
    }
    assert not printed & {"N2", "N6"}
