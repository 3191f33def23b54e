"""E22-E25: `restore` treats a backup as untrusted until its index checks out.
A `../` member, an absolute member, a link, a device, an absolute path in the
index, a member the index does not list, a small backup declaring a 3 GiB
member, a backup over the total limit: each is refused with one Chinese line
and exit 2, nothing is written outside the staging folder, and the staging
folder is gone. A good restore says when the backup was taken (Beijing time)
and lists the rebuilds oldest year first."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from conftest import hand_in, valid_cells

from pipeline.cli import main
from pipeline.ops import backup as backup_module
from pipeline.ops.backup import BACKUP_INDEX
from pipeline.synth import to_csv


@pytest.fixture
def good(home, tmp_path) -> Path:
    out = tmp_path / "good.tar.gz"
    assert main(["backup", "--home", str(home.root), "-o", str(out)]) == 0
    return out


def members(backup: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(backup) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers()]


def write_tar(path: Path, items: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in items:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> tuple:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def with_index(items, change) -> list:
    """The items with the index's JSON changed by `change(index)`."""
    out = []
    for info, data in items:
        if info.name == BACKUP_INDEX:
            index = json.loads(data)
            change(index)
            data = json.dumps(index).encode()
            info.size = len(data)
        out.append((info, data))
    return out


def refused(backup: Path, target: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["restore", str(backup), "--home", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not target.exists()
    assert not list(target.parent.glob(f".{target.name}.restore.*"))  # staging removed
    return err


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (member("../escaped.txt", b"x"), "含 .."),
        (member("inbox/../../escaped.txt", b"x"), "含 .."),
        (member("/tmp/nianbao-absolute.txt", b"x"), "绝对路径"),
        (member("inbox/2025/A/link.csv", kind=tarfile.SYMTYPE, link="/etc/passwd"), "是链接"),
        (member("inbox/2025/A/hard.csv", kind=tarfile.LNKTYPE, link="home.toml"), "是链接"),
        (member("inbox/2025/A/tty", kind=tarfile.CHRTYPE), "设备或特殊文件"),
        (member("inbox/2025/A/fifo", kind=tarfile.FIFOTYPE), "设备或特殊文件"),
    ],
)
def test_an_unsafe_member_is_refused_before_anything_is_written(good, tmp_path, capsys, bad, words):
    crafted = write_tar(tmp_path / "crafted.tar.gz", [bad, *members(good)])
    err = refused(crafted, tmp_path / "restored", capsys)
    assert words in err and bad[0].name in err
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/nianbao-absolute.txt").exists()


def test_an_absolute_path_in_the_index_is_refused_not_hashed_outside(good, tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not in the backup")
    sha = hashlib.sha256(outside.read_bytes()).hexdigest()
    entry = {"path": str(outside), "size": outside.stat().st_size, "sha256": sha}
    crafted = write_tar(
        tmp_path / "crafted.tar.gz", with_index(members(good), lambda index: index["files"].append(entry))
    )
    err = refused(crafted, tmp_path / "restored", capsys)
    assert "备份索引中的路径" in err and "绝对路径" in err


def test_a_member_the_index_does_not_list_is_refused(good, tmp_path, capsys):
    crafted = write_tar(tmp_path / "crafted.tar.gz", [member("texts/2025/extra.md", b"x"), *members(good)])
    assert "索引未列出" in refused(crafted, tmp_path / "restored", capsys)


def gzip_of_zeros(total: int, piece: int = 1024**2) -> bytes:
    """A gzip stream of `total` zero bytes, cheaply: one compressed piece, repeated
    (a gzip file may hold many members, read back to back)."""
    assert total % piece == 0
    return gzip.compress(b"\0" * piece, compresslevel=9) * (total // piece)


def test_a_small_backup_declaring_a_3_gib_member_is_refused_at_once(good, tmp_path, capsys):
    huge = 3 * 1024**3
    info = tarfile.TarInfo("inbox/2025/A/huge.csv")
    info.size, info.mode = huge, 0o644
    rest = io.BytesIO()
    with tarfile.open(fileobj=rest, mode="w") as tar:  # the good backup's members after it
        for m, data in members(good):
            tar.addfile(m, io.BytesIO(data))
    crafted = tmp_path / "bomb.tar.gz"
    crafted.write_bytes(gzip.compress(info.tobuf()) + gzip_of_zeros(huge) + gzip.compress(rest.getvalue()))
    assert crafted.stat().st_size < 16 * 1024**2  # E25: a 16 MB file that would unpack to 3 GiB
    started = time.monotonic()
    err = refused(crafted, tmp_path / "restored", capsys)
    assert time.monotonic() - started < 10  # refused on the header, nothing inflated
    assert "huge.csv" in err and "3,072 MB" in err and "超过单个文件" in err


def test_the_member_and_total_limits_hold_for_real_members(good, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(backup_module, "MAX_MEMBER_BYTES", 100)
    assert "超过单个文件 0 MB 的上限" in refused(good, tmp_path / "r1", capsys)
    monkeypatch.setattr(backup_module, "MAX_MEMBER_BYTES", 1024**3)
    monkeypatch.setattr(backup_module, "MAX_TOTAL_BYTES", 1000)
    assert "解开后超过" in refused(good, tmp_path / "r2", capsys)


def test_a_truncated_backup_is_one_line(good, tmp_path, capsys):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "已损坏或不完整" in refused(cut, tmp_path / "restored", capsys)


def test_restore_says_when_and_lists_rebuilds_oldest_year_first(home, tmp_path, capsys):
    hand_in(home, 2024, "A", "a.csv", to_csv(valid_cells(2024, seed=4)))
    out = tmp_path / "b.tar.gz"
    assert main(["backup", "--home", str(home.root), "-o", str(out)]) == 0
    assert "（北京时间）" in capsys.readouterr().out
    target = tmp_path / "restored home"
    assert main(["restore", str(out), "--home", str(target)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "（北京时间））" in lines[0] and "+00:00" not in lines[0]
    builds = [line.strip() for line in lines if "nianbao build" in line]
    assert builds == [f"nianbao build --home '{target}' --year {y}" for y in (2024, 2025)]
    assert "从早到晚" in "\n".join(lines)
    restored = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert {"home.toml", "inbox/2024/A/a.csv", "inbox/2025/B/b.csv"} <= restored
