"""The house's layers, as the README's 开发 section names them: `schemas` is the
ground floor and imports nothing from `pipeline`; plain steps, readers and
renderers never reach up into Dagster wiring or the doors; the import graph of
the packages — imports inside functions included — has no circle; the sensor's tick does not import pandas."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# What plain steps, renderers and the warehouse sit below: the Dagster wiring and the doors.
ABOVE_STEPS = ("pipeline.defs", "pipeline.portal", "pipeline.cli", "pipeline.ops", "dagster")

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
    "pipeline.steps": ABOVE_STEPS,
    "pipeline.render": ABOVE_STEPS,
    "pipeline.warehouse": ABOVE_STEPS,
    "pipeline.home": ("pipeline.steps", *ABOVE_STEPS),
    # The year rule every door asks: below the doors and the Dagster wiring that ask it.
    "pipeline.years": ("pipeline.steps", *ABOVE_STEPS),
    # Dagster wiring calls plain steps; the doors and the operations sit above it.
    "pipeline.defs": ("pipeline.ops", "pipeline.portal", "pipeline.cli"),
    # Runs pieces of a step in a forked child: it must know nothing of what it runs.
    "pipeline.forked": ("pipeline", "schemas", "dagster"),
    "pipeline.memo": ("pipeline", "schemas", "dagster"),
}


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Modules `path` imports (absolute names): at import time or lazily, inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import, which this test cannot follow"
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def sources(root: Path = REPO, packages: tuple[str, ...] = ("schemas", "pipeline")) -> dict[str, Path]:
    return {module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules among `modules` it imports, lazily or not."""
    return {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every set of modules that import each other round a circle (the strongly connected
    components of more than one module, Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for start in sorted(graph):
        if start not in index:
            visit(start)
    return found


def test_each_layer_imports_only_what_lies_below_it():
    offences = []
    for name, path in sources().items():
        for layer, banned in FORBIDDEN.items():
            if name == layer or name.startswith(layer + "."):
                for imported in imports(path):
                    if any(imported == b or imported.startswith(b + ".") for b in banned):
                        offences.append(f"{name} imports {imported}")
    assert not offences, "\n".join(offences)


def test_no_two_modules_import_each_other_round_a_circle():
    """Imports made inside functions count: they close a circle as surely at run time."""
    graph = import_graph(sources())
    found = [
        " ; ".join(f"{a} -> {b}" for a in component for b in sorted(graph[a] & set(component)))
        for component in cycles(graph)
    ]
    assert not found, "\n".join(found)


def test_the_layer_checks_see_an_import_made_inside_a_function(tmp_path):
    """The checks above can fail: a circle closed by a lazy import is found, and so is a
    lazy import of a forbidden layer."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import g\n")
    (pkg / "b.py").write_text("def g():\n    from pkg import c\n")
    (pkg / "c.py").write_text("def h():\n    if True:\n        import pkg.a\n")
    (pkg / "d.py").write_text("import pkg.a\n")  # on the way in, not round the circle
    graph = import_graph(sources(tmp_path, ("pkg",)))
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    (pkg / "c.py").write_text("def h():\n    import json\n")
    assert cycles(import_graph(sources(tmp_path, ("pkg",)))) == []
    (tmp_path / "lazy.py").write_text("def run():\n    from pipeline.ops.build import Builder\n")
    assert "pipeline.ops.build" in imports(tmp_path / "lazy.py")


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
