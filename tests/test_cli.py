"""The `nianbao` command as the office and the units use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
from conftest import hand_in, valid_cells

from pipeline.cli import main
from pipeline.synth import to_csv

NIANBAO = str(Path(sys.executable).with_name("nianbao"))


def test_build_writes_reports_and_summarises_units_even_with_a_rejected_one(home, capsys):
    broken = valid_cells(2025, seed=5)
    broken[("applications", "received", "total")] = "999"
    hand_in(home, 2025, "B", "b.csv", to_csv(broken))
    assert main(["build", "--year", "2025", "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert str(home.reports_dir(2025) / "report.html") in out
    assert "已采用 1 个，已退回 1 个，未报送 1 个" in out
    assert "乙局（B）：已退回" in out and "丙街道（C）：未报送" in out


def test_build_through_the_installed_command(home):
    result = subprocess.run(
        [NIANBAO, "build", "--year", "2025", "--home", str(home.root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "2025 年度报告已生成" in result.stdout
    assert "已解析 2/2 个文件" in result.stderr  # progress while it works


def test_build_without_a_home_says_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NIANBAO_HOME", raising=False)
    assert main(["build", "--year", "2025"]) == 2
    assert "--home" in capsys.readouterr().err
    assert main(["build", "--year", "2025", "--home", str(tmp_path)]) == 2
    assert "home.toml" in capsys.readouterr().err


def test_build_refuses_a_year_before_the_regulation(home, capsys):
    assert main(["build", "--year", "2005", "--home", str(home.root)]) == 2
    assert "2008" in capsys.readouterr().err


def test_check_exits_1_on_an_error_and_names_the_line(home, tmp_path, capsys):
    cells = valid_cells(2025, seed=6)
    cells[("proactive", "penalty", "decisions")] = "-3"
    path = tmp_path / "b.csv"
    path.write_bytes(to_csv(cells))
    assert main(["check", str(path), "--unit", "B", "--year", "2025", "--home", str(home.root)]) == 1
    out = capsys.readouterr().out
    assert "【N5】错误 乙局（B）｜b.csv，第" in out and "请改正错误后再报送" in out


def test_check_exits_0_on_a_good_file(home, tmp_path, capsys):
    path = tmp_path / "b.csv"
    path.write_bytes(to_csv(valid_cells(2025, seed=6)))
    assert main(["check", str(path), "--unit", "B", "--year", "2025", "--home", str(home.root)]) == 0
    assert "可以报送" in capsys.readouterr().out


def test_check_without_a_home_still_checks_the_rules(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NIANBAO_HOME", raising=False)
    cells = valid_cells(2025, seed=6)
    cells[("applications", "received", "total")] = "999"
    path = tmp_path / "x.csv"
    path.write_bytes(to_csv(cells))
    assert main(["check", str(path), "--unit", "X", "--year", "2025"]) == 1
    assert "【N3】" in capsys.readouterr().out


def test_template_is_prefilled_from_last_year(home, tmp_path, capsys):
    main(["build", "--year", "2025", "--home", str(home.root)])
    out = tmp_path / "a-2026.xlsx"
    assert main(["template", "--year", "2026", "--unit", "A", "-o", str(out), "--home", str(home.root)]) == 0
    wb = openpyxl.load_workbook(out)
    assert "甲局" in wb.worksheets[0]["B1"].value
    comments = [c.comment.text for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.comment]
    assert comments and all("上年数据预填" in text for text in comments)


def test_template_for_an_unknown_unit_is_refused(home, tmp_path, capsys):
    assert (
        main(
            [
                "template",
                "--year",
                "2025",
                "--unit",
                "NOPE",
                "-o",
                str(tmp_path / "x.xlsx"),
                "--home",
                str(home.root),
            ]
        )
        == 2
    )
    assert "NOPE" in capsys.readouterr().err


def test_a_legacy_year_without_a_catalogue_is_explained_before_the_run(home, capsys):
    assert main(["build", "--year", "2015", "--home", str(home.root)]) == 2
    err = capsys.readouterr().err
    assert "catalogue/2015.toml" in err and "Traceback" not in err


def test_a_failing_step_prints_its_own_message_not_a_trace(home, capsys):
    (home.root / "home.toml").write_text('government = "测试区人民政府办公室"\n', encoding="utf-8")
    assert main(["build", "--year", "2025", "--home", str(home.root)]) == 1
    err = capsys.readouterr().err
    # The first step's check of what the build reads stops it before anything is written.
    assert "步骤 unit_registry 失败" in err and "home.toml 缺少“district”" in err
    assert "Traceback" not in err and "Stack Trace" not in err
