"""The archive's manifest: idempotent, transactional across processes, migrated
from the old CSV only when that CSV is whole, and damage reported (ArchiveError,
verify_archive) instead of being filled in."""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_home

import pipeline.ingest.archive as archive_module
from pipeline.home import write_parquet
from pipeline.ingest.archive import (
    MANIFEST_COLUMNS,
    ArchiveError,
    archive_files,
    blob_path,
    read_blob,
    read_manifest,
    record_outcomes,
    verify_archive,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def freeze(monkeypatch, moment: datetime) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment

    monkeypatch.setattr(archive_module, "datetime", Frozen)


# --- behaviour on a fresh archive ---------------------------------------------------


def test_archiving_is_idempotent_and_keeps_the_first_received_time(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    freeze(monkeypatch, datetime(2026, 1, 10, 2, 0, tzinfo=UTC))
    [first] = archive_files(archive, [("A", 2025, "a.csv", b"alpha")])
    assert first.received_at == "2026-01-10T02:00:00+00:00"
    assert first.blob == blob_path(archive, sha(b"alpha")) and first.blob.read_bytes() == b"alpha"
    freeze(monkeypatch, datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    again, other = archive_files(archive, [("A", 2025, "a.csv", b"alpha"), ("B", 2025, "b.csv", b"beta")])
    assert again == first, "a file already stored keeps its first received time"
    assert other.received_at == "2026-03-01T00:00:00+00:00"
    assert read_manifest(archive) == [
        dict(zip(MANIFEST_COLUMNS, row))
        for row in [
            (sha(b"alpha"), "A", "2025", "a.csv", "5", "2026-01-10T02:00:00+00:00", "received"),
            (sha(b"beta"), "B", "2025", "b.csv", "4", "2026-03-01T00:00:00+00:00", "received"),
        ]
    ]
    assert (archive / "manifest.sqlite").is_file() and not (archive / "manifest.csv").exists()


def test_same_bytes_under_another_name_or_unit_is_another_row_and_one_blob(tmp_path):
    archive = tmp_path / "archive"
    archive_files(archive, [("A", 2025, "a.csv", b"same"), ("B", 2025, "a.csv", b"same")])
    archive_files(archive, [("A", 2024, "a.csv", b"same"), ("A", 2025, "renamed.csv", b"same")])
    assert len(read_manifest(archive)) == 4
    assert [p.name for p in (archive / "blobs").rglob("*") if p.is_file()] == [sha(b"same")]
    assert [r["unit"] for r in read_manifest(archive, year=2024)] == ["A"]


def test_a_file_in_the_inbox_root_has_no_unit_and_is_archived(tmp_path):
    archive = tmp_path / "archive"
    [stored] = archive_files(archive, [("", 2025, "loose.csv", b"loose")])
    assert stored.unit == "" and [r["unit"] for r in read_manifest(archive)] == [""]


def test_outcomes_are_updated_per_file_and_unknown_keys_ignored(tmp_path):
    archive = tmp_path / "archive"
    archive_files(archive, [("A", 2025, "a.csv", b"alpha"), ("B", 2025, "b.csv", b"beta")])
    record_outcomes(
        archive,
        {
            (sha(b"alpha"), "A", "2025", "a.csv"): "accepted",
            (sha(b"beta"), "B", "2024", "b.csv"): "rejected",  # another year: no such row
            (sha(b"gamma"), "C", "2025", "c.csv"): "accepted",
        },
    )
    assert [r["outcome"] for r in read_manifest(archive)] == ["accepted", "received"]
    record_outcomes(archive, {(sha(b"alpha"), "A", "2025", "a.csv"): "superseded"})
    record_outcomes(archive, {})
    assert [r["outcome"] for r in read_manifest(archive)] == ["superseded", "received"]


def test_a_missing_archive_reads_as_empty_and_is_not_created(tmp_path):
    assert read_manifest(tmp_path / "archive") == [] and verify_archive(tmp_path / "archive") == []
    assert not (tmp_path / "archive").exists()


def _archive_in_process(archive: str, worker: int, shared: int, own: int) -> list[tuple[str, str]]:
    files = [("S", 2025, f"shared{i}.csv", f"shared {i}".encode()) for i in range(shared)]
    files += [(f"W{worker}", 2025, f"own{i}.csv", f"worker {worker} file {i}".encode()) for i in range(own)]
    got = []
    for start in range(0, len(files), 5):  # many small transactions, interleaved with the others
        stored = archive_files(Path(archive), files[start : start + 5])
        record_outcomes(
            Path(archive), {(f.sha256, f.unit, str(f.year), f.original_name): "accepted" for f in stored}
        )
        got += [(f.original_name, f.received_at) for f in stored if f.unit == "S"]
    return got


def test_several_processes_archiving_at_once_leave_every_row_exactly_once(tmp_path):
    archive = tmp_path / "archive"
    workers, shared, own = 6, 20, 30
    # spawn, not fork: under pytest-xdist this process has threads (see the migration test).
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(_archive_in_process, [(str(archive), w, shared, own) for w in range(workers)])
    rows = read_manifest(archive)
    keys = [(r["sha256"], r["unit"], r["year"], r["original_name"]) for r in rows]
    assert len(keys) == len(set(keys)) == shared + workers * own
    assert {r["outcome"] for r in rows} == {"accepted"}
    # Every process was told the same (first) received time for the shared files.
    first = {r["original_name"]: r["received_at"] for r in rows if r["unit"] == "S"}
    assert all(dict(got) == first for got in results)
    assert verify_archive(archive) == []


# --- migration from manifest.csv ------------------------------------------------------

OLD_ROWS = [
    [sha(b"alpha"), "A", "2024", "a.csv", "5", "2025-01-20T08:00:00+00:00", "accepted"],
    [sha(b"beta"), "B", "2025", '报告, "终稿".xlsx', "4", "2026-01-31T23:59:59.123456+08:00", "superseded"],
    [sha(b"gamma"), "", "2025", "c.csv", "5", "2026-02-02T01:02:03+00:00", "received"],  # inbox root
]
OLD_DATA = {sha(b"alpha"): b"alpha", sha(b"beta"): b"beta", sha(b"gamma"): b"gamma"}


def old_csv(rows: list[list[str]]) -> str:
    """Exactly what the CSV manifest writer produced."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def old_archive(root: Path, text: str, blobs: dict[str, bytes] = OLD_DATA) -> Path:
    archive = root / "archive"
    for digest, data in blobs.items():
        path = blob_path(archive, digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (archive / "manifest.csv").write_text(text, encoding="utf-8")
    return archive


def test_a_good_csv_migrates_with_every_value_exactly_as_written(tmp_path):
    text = old_csv(OLD_ROWS)
    archive = old_archive(tmp_path, text)
    assert read_manifest(archive) == [dict(zip(MANIFEST_COLUMNS, row)) for row in OLD_ROWS]
    assert not (archive / "manifest.csv").exists()
    assert (archive / "manifest.csv.migrated").read_text(encoding="utf-8") == text
    # The migrated rows behave like any other: received time kept, outcomes updatable.
    [again] = archive_files(archive, [("A", 2024, "a.csv", b"alpha")])
    assert again.received_at == "2025-01-20T08:00:00+00:00"
    assert len(read_manifest(archive)) == 3 and verify_archive(archive) == []


def test_migration_happens_once_even_when_several_processes_start_together(tmp_path):
    archive = old_archive(tmp_path, old_csv(OLD_ROWS))
    # spawn, not fork: under pytest-xdist this process has threads, and a forked child can
    # inherit a lock held by one of them and wait forever (seen in CI).
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(read_manifest, [archive] * 4)
    assert all(len(r) == 3 for r in results) and len(read_manifest(archive)) == 3
    assert sorted(p.name for p in archive.iterdir() if not p.name.startswith("manifest.sqlite-")) == [
        ".lock",
        "blobs",
        "manifest.csv.migrated",
        "manifest.sqlite",
    ]


DAMAGED = {
    "cut_mid_row": (old_csv(OLD_ROWS)[:-12], "第 4 行不完整"),
    "wrong_column_count": (old_csv([*OLD_ROWS[:2], OLD_ROWS[2][:6]]), "第 4 行有 6 列"),
    "bad_sha": (old_csv([OLD_ROWS[0], ["abc", *OLD_ROWS[1][1:]], OLD_ROWS[2]]), "第 3 行的 sha256"),
    "bad_size": (old_csv([OLD_ROWS[0], [*OLD_ROWS[1][:4], "-4", *OLD_ROWS[1][5:]], OLD_ROWS[2]]), "第 3 行的文件大小"),
    "bad_year": (old_csv([OLD_ROWS[0], [*OLD_ROWS[1][:2], "25", *OLD_ROWS[1][3:]], OLD_ROWS[2]]), "第 3 行的年度"),
    "duplicate_key": (old_csv([*OLD_ROWS, [*OLD_ROWS[0][:5], "2026-01-01T00:00:00+00:00", "received"]]), "第 5 行与第 2 行重复"),
    "unparseable_time": (old_csv([OLD_ROWS[0], [*OLD_ROWS[1][:5], "2026-13-45", "received"], OLD_ROWS[2]]), "第 3 行的收到时间"),
    "time_without_zone": (old_csv([[*OLD_ROWS[0][:5], "2025-01-20T08:00:00", "accepted"], *OLD_ROWS[1:]]), "第 2 行的收到时间"),
    "empty_name": (old_csv([OLD_ROWS[0], [*OLD_ROWS[1][:3], "", *OLD_ROWS[1][4:]], OLD_ROWS[2]]), "第 3 行缺少文件名"),
    "wrong_header": (old_csv(OLD_ROWS).replace("received_at", "received", 1), "第 1 行（表头）"),
    "empty_file": ("", "第 1 行为空"),
    "not_utf8": (None, "第 3 行不是 UTF-8"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_csv_is_refused_naming_the_line_and_nothing_is_filled_in(tmp_path, case):
    text, expected = DAMAGED[case]
    archive = old_archive(tmp_path, "")
    if text is None:
        raw = (
            old_csv(OLD_ROWS).encode("utf-8").replace(b"\xe6\x8a\xa5", b"\xe6\x8a", 1)
        )  # a Chinese character cut in half
    else:
        raw = text.encode("utf-8")
    (archive / "manifest.csv").write_bytes(raw)
    for attempt in (
        read_manifest,
        verify_archive,
        lambda a: archive_files(a, [("A", 2024, "a.csv", b"alpha")]),
    ):
        with pytest.raises(ArchiveError) as caught:
            attempt(archive)
        message = str(caught.value)
        assert expected in message and "manifest.csv" in message and "备份" in message, message
    # Refused in full: the CSV is untouched and no row reached the new manifest.
    assert (archive / "manifest.csv").read_bytes() == raw
    assert not (archive / "manifest.csv.migrated").exists()
    assert sorted(p.name for p in archive.iterdir()) == [".lock", "blobs", "manifest.csv"]


def test_lost_trailing_rows_are_not_reinvented(tmp_path):
    """A CSV cut exactly at a line end looks whole, but the blobs it no longer
    lists give it away: no row is inferred from them and nothing is migrated."""
    archive = old_archive(tmp_path, old_csv(OLD_ROWS[:1]))
    with pytest.raises(ArchiveError) as caught:
        read_manifest(archive)
    assert "没有列出" in str(caught.value) and "2 个文件" in str(caught.value)
    with pytest.raises(ArchiveError):
        archive_files(archive, [("", 2025, "c.csv", b"gamma")])
    assert (archive / "manifest.csv").read_text(encoding="utf-8") == old_csv(OLD_ROWS[:1])
    # With the whole CSV back from a backup the migration goes through, times as recorded.
    (archive / "manifest.csv").write_text(old_csv(OLD_ROWS), encoding="utf-8")
    assert [r["received_at"] for r in read_manifest(archive)] == [r[5] for r in OLD_ROWS]


def test_a_lost_sqlite_manifest_is_not_replaced_by_an_empty_one(tmp_path):
    archive = old_archive(tmp_path, old_csv(OLD_ROWS))
    assert len(read_manifest(archive)) == 3
    (archive / "manifest.sqlite").unlink()
    with pytest.raises(ArchiveError, match="manifest.csv.migrated"):
        read_manifest(archive)
    # Cut to nothing, the same: an empty file is not a fresh start.
    (archive / "manifest.sqlite").write_bytes(b"")
    with pytest.raises(ArchiveError, match="为空"):
        archive_files(archive, [("A", 2024, "a.csv", b"alpha")])


def test_blobs_without_any_manifest_are_refused(tmp_path):
    archive = tmp_path / "archive"
    archive_files(archive, [("A", 2025, "a.csv", b"alpha")])
    (archive / "manifest.sqlite").unlink()
    with pytest.raises(ArchiveError, match="没有列出"):
        read_manifest(archive)


# --- damage to the SQLite manifest ----------------------------------------------------


def filled(tmp_path: Path, count: int = 3000) -> Path:
    archive = tmp_path / "archive"
    archive_files(archive, [("U", 2025, f"file{i}.csv", f"{i}".encode() * 50) for i in range(count)])
    return archive


def all_fail(archive: Path, expected: str) -> None:
    for attempt in (
        read_manifest,
        verify_archive,
        lambda a: archive_files(a, [("A", 2025, "new.csv", b"new")]),
        lambda a: record_outcomes(a, {(sha(b"0"), "U", "2025", "file0.csv"): "accepted"}),
    ):
        with pytest.raises(ArchiveError) as caught:
            attempt(archive)
        assert expected in str(caught.value) and "manifest.sqlite" in str(caught.value), str(caught.value)
        assert "备份" in str(caught.value)


def test_a_corrupt_sqlite_file_raises_archive_error(tmp_path):
    archive = filled(tmp_path, 10)
    path = archive / "manifest.sqlite"
    path.write_bytes(b"this is not a database at all" * 200)
    all_fail(archive, "已损坏")


def test_a_truncated_sqlite_file_raises_archive_error(tmp_path):
    archive = filled(tmp_path)
    path = archive / "manifest.sqlite"
    assert not (archive / "manifest.sqlite-wal").exists(), "checkpointed when the last connection closed"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    all_fail(archive, "已损坏")


def test_a_missing_table_raises_archive_error(tmp_path):
    archive = filled(tmp_path, 10)
    with sqlite3.connect(archive / "manifest.sqlite") as db:
        db.execute("DROP TABLE manifest")
    all_fail(archive, "缺少 manifest 表")


def test_the_portal_status_reports_a_damaged_manifest_as_archive_error(tmp_path):
    from pipeline.portal import status
    from pipeline.portal.store import Store

    home = write_home(tmp_path / "home", [("A", "甲局")])
    archive_files(home.archive, [("A", 2025, "a.csv", b"alpha")])
    frame = pd.DataFrame([dict(unit="A", status="accepted", errors=0, warnings=0, file="a.csv")])
    write_parquet(frame, home.warehouse_dir(2025) / "status.parquet")
    now = datetime(2026, 1, 10, tzinfo=UTC)
    [standing] = status.standings(home, Store(home), 2025, now)
    assert standing.state == "accepted" and standing.received_at
    (home.archive / "manifest.sqlite").write_bytes(b"\0" * 4096)
    with pytest.raises(ArchiveError, match="已损坏"):
        status.standings(home, Store(home), 2025, now)


# --- verify_archive -------------------------------------------------------------------


def test_verify_finds_missing_altered_and_unlisted_blobs(tmp_path):
    archive = tmp_path / "archive"
    archive_files(
        archive,
        [("A", 2025, "a.csv", b"alpha"), ("B", 2025, "b.csv", b"beta"), ("C", 2025, "c.csv", b"gamma")],
    )
    assert verify_archive(archive) == []
    blob_path(archive, sha(b"alpha")).unlink()
    blob_path(archive, sha(b"beta")).write_bytes(b"BETA")  # same size, other bytes
    stray = blob_path(archive, sha(b"delta"))
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"delta")
    problems = verify_archive(archive)
    assert [(p.kind, p.sha256, p.unit, p.year, p.original_name) for p in problems] == [
        ("missing_blob", sha(b"alpha"), "A", 2025, "a.csv"),
        ("altered_blob", sha(b"beta"), "B", 2025, "b.csv"),
        ("orphan_blob", sha(b"delta"), "", None, ""),
    ]
    assert "缺失" in problems[0].text and "改动" in problems[1].text and "没有清单记录" in problems[2].text
    # The manifest itself is untouched by the check: no row added, none removed.
    assert len(read_manifest(archive)) == 3
    with pytest.raises(ArchiveError, match="缺失"):
        read_blob(archive, sha(b"alpha"))
    with pytest.raises(ArchiveError, match="改动"):
        read_blob(archive, sha(b"beta"))
    assert read_blob(archive, sha(b"gamma")) == b"gamma"


def test_archiving_a_file_again_restores_its_missing_or_cut_blob(tmp_path):
    archive = tmp_path / "archive"
    [stored] = archive_files(archive, [("A", 2025, "a.csv", b"alpha")])
    stored.blob.write_bytes(b"alp")
    archive_files(archive, [("A", 2025, "a.csv", b"alpha")])
    assert stored.blob.read_bytes() == b"alpha" and verify_archive(archive) == []
