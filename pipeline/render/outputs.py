"""Write a year's outputs under reports/<year>/, each through a temporary name."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pandas as pd

from pipeline.home import write_atomic
from pipeline.render.reports import TEMPLATES, LazyView, ReportView, environment, render_pair
from pipeline.steps.validate import STATUS_COLUMNS, STATUS_TEXT
from schemas import text as text_module
from schemas.base import ReportFormat
from schemas.messages import Message


def _write_if_changed(path: Path, text: str) -> Path:
    """Unchanged outputs are left alone, so a rebuild touches only what changed."""
    data = text.encode("utf-8")
    if not (path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data):
        write_atomic(path, data)
    return path


def write_district(out: Path, fmt: ReportFormat, view: ReportView) -> tuple[Path, Path, str]:
    html, md = render_pair(environment(), fmt, view)
    return _write_if_changed(out / "report.html", html), _write_if_changed(out / "report.md", md), md


# The code that shapes a unit's report besides its templates: a change in escaping
# must re-render reports written before it.
RENDER_CODE = [*sorted(Path(__file__).parent.glob("*.py")), Path(text_module.__file__)]


def _renderer_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(TEMPLATES).as_posix().encode() + path.read_bytes())
    for path in RENDER_CODE:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def write_units(out: Path, fmt: ReportFormat, views: dict[str, ReportView | LazyView]) -> list[Path]:
    """Each unit's report. A unit whose view and templates are unchanged since the
    last run is not rendered again (a re-run after one file changed stays cheap)."""
    env = environment()
    folder = out / "units"
    digests_path = folder / ".render-digests.json"
    try:
        previous = json.loads(digests_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    templates = _renderer_digest()
    digests, paths = {}, []
    for code, view in views.items():
        key = view.key if isinstance(view, LazyView) else repr(view)
        digest = hashlib.sha256(f"{templates}|{fmt.code}|{key}".encode()).hexdigest()
        digests[code] = digest
        html_path, md_path = folder / f"{code}.html", folder / f"{code}.md"
        paths += [html_path, md_path]
        if previous.get(code) == digest and html_path.exists() and md_path.exists():
            continue
        html, md = render_pair(env, fmt, view.make() if isinstance(view, LazyView) else view)
        _write_if_changed(html_path, html)
        _write_if_changed(md_path, md)
    write_atomic(digests_path, json.dumps(digests, sort_keys=True))
    # A unit no longer accepted must not keep last run's report.
    keep = {p.name for p in paths}
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.name not in keep and stale.suffix in {".html", ".md"}:
                stale.unlink()
    return paths


def write_status(out: Path, status: pd.DataFrame) -> Path:
    buffer = io.StringIO()
    status[STATUS_COLUMNS].to_csv(buffer, index=False, lineterminator="\n")
    return _write_if_changed(out / "status.csv", buffer.getvalue())


def write_validation(
    out: Path,
    *,
    district: str,
    year: int,
    fmt: ReportFormat,
    status: pd.DataFrame,
    messages: list[Message],
    versions: dict[str, str],
) -> Path:
    by_unit: dict[str, list[Message]] = {}
    other = []
    for m in messages:
        if m.unit:
            by_unit.setdefault(m.unit, []).append(m)
        else:
            other.append(m)
    units = [
        {
            "code": r.unit, "name": r.name, "status": r.status, "file": r.file, "errors": r.errors,
            "warnings": r.warnings, "messages": by_unit.get(r.unit, []), "version": versions.get(r.unit, ""),
        }
        for r in status.itertuples()
    ]  # fmt: skip
    counts = {
        "expected": len(status),
        **{s: int((status["status"] == s).sum()) for s in STATUS_TEXT},
        "errors": sum(m.severity == "ERROR" for m in messages),
        "warnings": sum(m.severity == "WARNING" for m in messages),
    }
    html = (
        environment()
        .get_template("shared/validation.html.j2")
        .render(
            district=district, year=year, format_name=fmt.name, units=units, counts=counts,
            status_text=STATUS_TEXT, other_messages=other,
        )
    )  # fmt: skip
    return _write_if_changed(out / "validation.html", html)
