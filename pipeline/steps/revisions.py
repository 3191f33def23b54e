"""The revisions log (更正说明): once a year's report is published (publication date
in home.toml), an accepted resubmission that changes published figures gets one entry
per changed figure, kept in the home (revisions/<year>/log.csv). The published documents
are not changed silently: the office decides whether to reissue.

revisions/<year>/published.csv holds the figures as published: every build up to the
publication date refreshes it, the first build after it keeps it if there is none.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.home import write_atomic
from pipeline.steps.sections import DISTRICT
from pipeline.tabular import frame_csv, read_frame

SNAPSHOT_COLUMNS = ["scope", "table", "row", "column", "value"]
LOG_COLUMNS = [
    "date", "unit", "unit_name", "table", "row", "column", "label", "published", "corrected",
    "district_published", "district_corrected", "file", "sha256",
]  # fmt: skip


def publication_date(config: dict, year: int) -> date | None:
    record = config.get("publication", {}).get(str(year), {})
    raw = record.get("date") if isinstance(record, dict) else None
    if not raw:
        return None
    return raw if isinstance(raw, date) else date.fromisoformat(str(raw))


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=columns, dtype="string")
    return read_frame(path)


def _write_csv(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    write_atomic(path, frame_csv(frame[columns]))


def figures(sections: dict[str, pd.DataFrame], tables) -> pd.DataFrame:
    frames = [frame.assign(table=code) for code, frame in sections.items() if code in tables]
    if not frames:
        return pd.DataFrame(columns=SNAPSHOT_COLUMNS, dtype="string")
    return pd.concat(frames, ignore_index=True)[SNAPSHOT_COLUMNS].astype("string")


def update(
    home_root: Path,
    year: int,
    config: dict,
    fmt,
    sections: dict[str, pd.DataFrame],
    files: pd.DataFrame,
    names: dict[str, str],
    today: date | None = None,
) -> pd.DataFrame:
    """Refresh the snapshot or log the corrections; the whole log of the year."""
    folder = home_root / "revisions" / str(year)
    snapshot_path, log_path = folder / "published.csv", folder / "log.csv"
    log = _read_csv(log_path, LOG_COLUMNS)
    published_on = publication_date(config, year)
    now = figures(sections, fmt.tables)
    if published_on is None:
        return log
    today = today or date.today()
    if today <= published_on or not snapshot_path.exists():
        _write_csv(snapshot_path, now, SNAPSHOT_COLUMNS)
        return log
    published = _read_csv(snapshot_path, SNAPSHOT_COLUMNS)
    key = ["scope", "table", "row", "column"]
    both = published.merge(now, on=key, how="outer", suffixes=("_published", "_now")).fillna("")
    units = both[both["scope"] != DISTRICT]
    changed = units[_as_number(units["value_published"]) != _as_number(units["value_now"])]
    if changed.empty:
        return log
    district = both[both["scope"] == DISTRICT].set_index(["table", "row", "column"])
    in_use = files[files["in_use"]] if "in_use" in files else files
    version = {r.unit: (str(r.received_at)[:10], r.file, r.sha256) for r in in_use.itertuples()}
    entries = []
    for r in changed.itertuples(index=False):
        when, file, sha = version.get(r.scope, (today.isoformat(), "", ""))
        d = district.loc[(r.table, r.row, r.column)] if (r.table, r.row, r.column) in district.index else None
        entries.append({
            "date": when, "unit": r.scope, "unit_name": names.get(r.scope, r.scope), "table": r.table,
            "row": r.row, "column": r.column, "label": _label(fmt, r.table, r.row, r.column),
            "published": r.value_published or "0", "corrected": r.value_now or "0",
            "district_published": (d["value_published"] or "0") if d is not None else "0",
            "district_corrected": (d["value_now"] or "0") if d is not None else "0",
            "file": file, "sha256": sha,
        })  # fmt: skip
    new = pd.DataFrame(entries, columns=LOG_COLUMNS).astype("string")
    merged = pd.concat([log.astype("string"), new], ignore_index=True)
    # One entry per correction: a rebuild finds the same difference again.
    merged = merged.drop_duplicates(["unit", "table", "row", "column", "corrected", "sha256"], keep="first")
    if len(merged) != len(log):
        _write_csv(log_path, merged, LOG_COLUMNS)
    return merged.reset_index(drop=True)


def _as_number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.replace("", "0"), errors="coerce").fillna(0.0)


def _label(fmt, table: str, row: str, column: str) -> str:
    t = fmt.tables[table]
    try:
        return f"{t.title}·{'·'.join(t.row(row).path)}·{t.column(column).label}"
    except KeyError:
        return f"{table}·{row}·{column}"
