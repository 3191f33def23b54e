"""The house's layers, as the README's 开发 section names them: `schemas` is the
ground floor and imports nothing from `pipeline`; plain steps, readers and
renderers never reach up into Dagster wiring or the doors; the import graph of
the packages has no cycle; the sensor's tick does not import pandas."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Layer -> packages it must never import (directly or lazily inside a function).
FORBIDDEN = {
    "schemas": ("pipeline",),
    "pipeline.ingest": (
        "pipeline.steps",
        "pipeline.render",
        "pipeline.defs",
        "pipeline.portal",
        "pipeline.cli",
    ),
    "pipeline.workbook": (
        "pipeline.steps",
        "pipeline.render",
        "pipeline.defs",
        "pipeline.portal",
        "pipeline.cli",
    ),
    "pipeline.steps": ("pipeline.defs", "pipeline.portal", "pipeline.cli", "dagster"),
    "pipeline.render": ("pipeline.defs", "pipeline.portal", "pipeline.cli", "dagster"),
    "pipeline.warehouse": ("pipeline.defs", "pipeline.portal", "pipeline.cli", "dagster"),
    "pipeline.home": ("pipeline.steps", "pipeline.defs", "pipeline.portal", "pipeline.cli", "dagster"),
    # Runs pieces of a step in a forked child: it must know nothing of what it runs.
    "pipeline.forked": ("pipeline", "schemas", "dagster"),
    "pipeline.memo": ("pipeline", "schemas", "dagster"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Modules `path` imports (absolute names), all of them or those run at import time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def sources() -> dict[str, Path]:
    return {module_name(p): p for pkg in ("schemas", "pipeline") for p in (REPO / pkg).rglob("*.py")}


def test_each_layer_imports_only_what_lies_below_it():
    offences = []
    for name, path in sources().items():
        for layer, banned in FORBIDDEN.items():
            if name == layer or name.startswith(layer + "."):
                for imported in imports(path, top_level_only=False):
                    if any(imported == b or imported.startswith(b + ".") for b in banned):
                        offences.append(f"{name} imports {imported}")
    assert not offences, "\n".join(offences)


def test_import_graph_of_the_packages_has_no_cycle():
    modules = sources()
    graph = {
        name: {m for m in imports(path, top_level_only=True) if m in modules and m != name}
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(trail + [node, nxt])
                return True
            if nxt not in state and visit(nxt, trail + [node]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if start not in state and visit(start, []):
            break
    assert not cycle, " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle(tmp_path):
    """The graph test above can fail: a two-module cycle is found."""
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("import a\n")
    assert "b" in imports(tmp_path / "a.py", top_level_only=True)
    assert "a" in imports(tmp_path / "b.py", top_level_only=True)


def test_sensor_tick_does_not_import_pandas(tmp_path):
    """The code location is re-imported often and the sensor ticks every 30 s: it reads
    the inbox with the standard library only."""
    inbox = tmp_path / "home" / "inbox" / "2025" / "A"
    inbox.mkdir(parents=True)
    (inbox / "a.csv").write_text("table,row,column,value\n")
    (tmp_path / "home" / "home.toml").write_text('district = "甲区"\ngovernment = "甲区人民政府"\n')
    code = (
        "import sys, time\n"
        "from pipeline.defs.sensors import evaluate_inbox\n"
        "from pipeline.home import Home\n"
        f"requests, cursor, why = evaluate_inbox(Home.resolve({str(tmp_path / 'home')!r}), None, time.time() + 60)\n"
        "assert len(requests) == 1, requests\n"
        "print('pandas' in sys.modules, 'openpyxl' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
