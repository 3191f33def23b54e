"""The audit's outputs: reports/<year>/audit/index.html (one row per body, each finding
linked to the document where its cell was printed) and audit.csv (one row per finding)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pandas as pd

from pipeline.render.outputs import write_if_changed
from pipeline.render.reports import environment
from pipeline.steps.audit import STATUS_TEXT
from pipeline.tabular import frame_csv
from schemas.frames import zip_columns

AUDIT_CSV_COLUMNS = ["file", "body", "rule", "severity", "message", "location"]
SEVERITY_TEXT = {"ERROR": "错误", "WARNING": "提醒"}


def document_href(year: int, file: str, kind: str = "", page: int = 0) -> str:
    """From reports/<year>/audit/ to the report in audit/<year>/; a PDF opens at the page."""
    href = f"../../../audit/{year}/{quote(file)}"
    return href + (f"#page={page}" if kind == "pdf" and page else "")


def write_audit(out: Path, audit) -> dict[str, Path]:
    """Both files into `out` (reports/<year>/audit/); returns their paths."""
    kinds = dict(zip_columns(audit.bodies, "unit", "kind"))
    by_unit: dict[str, list[dict]] = {}
    for m in audit.findings:
        page, printed = audit.printed.get(m.unit, {}).get(m.location, (0, ""))
        by_unit.setdefault(m.unit, []).append(
            {
                "severity": m.severity,
                "rule": m.rule,
                "location": m.location,
                "printed": printed,
                "text": m.text,
                "href": document_href(audit.year, m.file, kinds.get(m.unit, ""), page),
            }
        )
    bodies = [
        {**row._asdict(), "href": document_href(audit.year, row.file), "findings": by_unit.get(row.unit, [])}
        for row in audit.bodies.itertuples(index=False)
    ]
    counts = {s: int((audit.bodies["status"] == s).sum()) for s in STATUS_TEXT}
    counts["errors"] = sum(m.severity == "ERROR" for m in audit.findings)
    counts["warnings"] = sum(m.severity == "WARNING" for m in audit.findings)
    html = (
        environment()
        .get_template("shared/audit.html.j2")
        .render(year=audit.year, format_name=audit.fmt.name, bodies=bodies, counts=counts,
                status_text=STATUS_TEXT, previous_year=audit.previous_year)
    )  # fmt: skip
    body_of = dict(zip_columns(audit.bodies, "unit", "body"))
    rows = pd.DataFrame(
        [(m.file, body_of.get(m.unit, m.unit), m.rule, SEVERITY_TEXT[m.severity], m.text, m.location)
         for m in audit.findings],
        columns=AUDIT_CSV_COLUMNS,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    return {
        "html": write_if_changed(out / "index.html", html),
        "csv": write_if_changed(out / "audit.csv", frame_csv(rows)),
    }
