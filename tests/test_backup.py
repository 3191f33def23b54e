"""Backup, restore, verify: back up a served home (portal state included), delete
it, restore, rebuild -> byte-identical reports; a tampered or missing blob is
reported by `nianbao verify`; a damaged backup is refused before anything lands."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile

import pytest
from conftest import valid_cells

from pipeline.cli import main
from pipeline.ingest.archive import blob_path, read_manifest
from pipeline.portal.store import Store
from pipeline.portal.submit import receive
from pipeline.synth import to_csv


def digests(folder) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in (".md", ".html", ".csv")
    }


@pytest.fixture
def used_home(home):
    """The conftest home after a build and a portal upload (so portal state exists)."""
    store = Store(home)
    store.issue_token("unit", "C")
    receive(home, store, "C", 2025, "c.csv", to_csv(valid_cells(2025, seed=3)))
    assert main(["build", "--year", "2025", "--home", str(home.root)]) == 0
    return home


def test_backup_delete_restore_rebuild_gives_identical_reports(used_home, tmp_path, capsys):
    home = used_home
    before = digests(home.reports_dir(2025))
    assert before
    out = tmp_path / "backup.tar.gz"
    assert main(["backup", "--home", str(home.root), "-o", str(out)]) == 0
    with tarfile.open(out) as tar:
        names = tar.getnames()
    from pipeline.ingest.archive import DB_NAME

    assert {"home.toml", "registry/units.csv", "portal/portal.sqlite3", f"archive/{DB_NAME}"} <= set(names)
    assert any(n.startswith("inbox/2025/") for n in names) and any(
        n.startswith("archive/blobs/") for n in names
    )
    assert not any(n.startswith(("reports/", "warehouse/", "dagster/")) for n in names)
    assert out.stat().st_mode & 0o777 == 0o600  # token hashes inside

    tokens_before = [t.id for t in Store(home).tokens()]
    shutil.rmtree(home.root)
    assert main(["restore", str(out), "--home", str(home.root)]) == 0
    assert "nianbao build" in capsys.readouterr().out
    assert [t.id for t in Store(home).tokens()] == tokens_before
    assert len(Store(home).uploads(year=2025)) == 1
    assert main(["verify", "--home", str(home.root)]) == 0

    assert main(["build", "--year", "2025", "--home", str(home.root)]) == 0
    assert digests(home.reports_dir(2025)) == before


def test_verify_reports_a_tampered_and_a_missing_blob(used_home, capsys):
    home = used_home
    rows = read_manifest(home.archive)
    shas = sorted({r["sha256"] for r in rows})
    assert len(shas) >= 2
    tampered, missing = blob_path(home.archive, shas[0]), blob_path(home.archive, shas[1])
    tampered.write_bytes(tampered.read_bytes() + b"x")
    missing.unlink()
    capsys.readouterr()
    assert main(["verify", "--home", str(home.root)]) == 1
    out = capsys.readouterr()
    assert "内容已被改动" in out.out and "缺失" in out.out and "发现 2 个问题" in out.err


def test_restore_refuses_a_non_empty_target_and_a_damaged_backup(used_home, tmp_path, capsys):
    home = used_home
    out = tmp_path / "b.tar.gz"
    assert main(["backup", "--home", str(home.root), "-o", str(out)]) == 0
    assert main(["restore", str(out), "--home", str(home.root)]) == 2
    assert "不为空" in capsys.readouterr().err

    # Same archive, one file's bytes changed: the index no longer matches.
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(out) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "home.toml":
                data += b"\n# changed\n"
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    target = tmp_path / "restored"
    assert main(["restore", str(damaged), "--home", str(target)]) == 2
    assert "校验值不符" in capsys.readouterr().err
    assert not target.exists()
    assert main(["restore", str(tmp_path / "nothing.tar.gz"), "--home", str(target)]) == 2
