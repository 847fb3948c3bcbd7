"""The architecture rules of issue 15, read from the source with `ast` (imports inside
functions included): no import cycles, no torch under analysis/report/store, no
try/except ImportError around the project's own modules, no module over MAX_LINES lines,
and imports that only point down the stages of the data flow (DESIGN.md)."""
from __future__ import annotations

import ast
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bench", "tasks")
MAX_LINES = 350


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    """Every project module: dotted name -> file."""
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _resolve(node: ast.ImportFrom, name: str) -> str:
    """The absolute module a (possibly relative) `from ... import` refers to."""
    if not node.level:
        return node.module or ""
    package = name if modules()[name].name == "__init__.py" else name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


@lru_cache(maxsize=None)
def imports(name: str) -> tuple[str, ...]:
    """The project modules `name` imports anywhere in its file (module level or in functions):
    `from a.b import c` counts as a.b.c when that is a module, else a.b."""
    tree = ast.parse(modules()[name].read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, name)
            found += [f"{base}.{a.name}" if f"{base}.{a.name}" in modules() else base for a in node.names]
    return tuple(sorted({m for m in found if m.split(".")[0] in PACKAGES and m in modules()}))


def all_imports(name: str) -> tuple[str, ...]:
    """Every bench/tasks name the module imports, modules or not (for the layer rules)."""
    tree = ast.parse(modules()[name].read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(_resolve(node, name))
    return tuple(sorted(found))


# ----------------------------------------------------------------------------- (1) cycles
def find_cycle(graph: dict[str, tuple[str, ...]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(graph[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(graph.get(child, ()))))
                path.append(child)
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": ("b",), "b": ("c",), "c": ("a",)}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ("b",), "b": (), "c": ("a", "b")}) is None


def test_no_import_cycles():
    graph = {name: imports(name) for name in modules()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


# ----------------------------------------------------------------------------- (2) no torch
def torch_free_modules() -> list[str]:
    names = [n for n in modules() if n.startswith(("bench.analysis", "bench.report"))]
    return ["bench", *names, "bench.execute.store"]


def test_analysis_report_and_store_load_no_torch():
    names = torch_free_modules()
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'torch' not in sys.modules, f'importing {name} loaded torch'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


# ----------------------------------------------------------------------------- (3) ImportError
def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)


def test_no_try_except_importerror_around_project_imports():
    offenders = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Try) or not any(_catches_import_error(h) for h in node.handlers):
                continue
            for inner in (n for stmt in node.body for n in ast.walk(stmt)):
                targets = ([a.name for a in inner.names] if isinstance(inner, ast.Import) else
                           [_resolve(inner, name)] if isinstance(inner, ast.ImportFrom) else [])
                if any(t.split(".")[0] in PACKAGES for t in targets):
                    offenders.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not offenders, f"try/except ImportError around the project's own modules: {offenders}"


# ----------------------------------------------------------------------------- (4) size
def test_no_module_over_the_line_limit():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in modules().values()}
    over = sorted(f"{path} ({n})" for path, n in sizes.items() if n > MAX_LINES)
    assert not over, f"modules over {MAX_LINES} lines (split them): {', '.join(over)}"


# ----------------------------------------------------------------------------- (5) layers
STAGES = ("run", "models", "execute", "probes", "analysis", "report", "commands")
# folder -> the bench stages it must never import
FORBIDDEN = {
    "bench.models": {"run", "execute", "probes", "analysis", "report", "commands"},
    "bench.run": {"execute", "probes", "analysis", "report", "commands"},
    "bench.probes": {"execute", "analysis", "report", "commands"},
    "bench.execute": {"commands", "report"},
}
ENTRY_POINTS = ("bench.commands", "bench.cli", "bench.api", "bench.__main__")
# pure leaves (no imports of their own) every layer may use: the variant label format
SHARED_LEAVES = ("bench.analysis.variants",)


def _stage(target: str) -> str | None:
    parts = target.split(".")
    return parts[1] if parts[0] == "bench" and len(parts) > 1 and parts[1] in STAGES else None


def layer_violations() -> list[str]:
    bad = []
    for name in modules():
        targets = [t for t in all_imports(name) if t.split(".")[0] in PACKAGES]
        for target in targets:
            if target in SHARED_LEAVES:
                continue
            stage = _stage(target)
            if name.startswith("bench.analysis") and not target.startswith("bench.analysis"):
                bad.append(f"{name} -> {target} (analysis imports only bench.analysis)")
            elif name.startswith("bench.report") and not target.startswith(("bench.report", "bench.analysis")):
                bad.append(f"{name} -> {target} (report imports only bench.report and bench.analysis)")
            for folder, forbidden in FORBIDDEN.items():
                if name.startswith(folder) and stage in forbidden:
                    bad.append(f"{name} -> {target} ({folder} never imports bench.{stage})")
            if stage == "commands" and not name.startswith(ENTRY_POINTS):
                bad.append(f"{name} -> {target} (only the CLI and the API import bench.commands)")
        uses_argparse = any(t == "argparse" for t in all_imports(name))
        if uses_argparse and not name.startswith(("bench.commands", "bench.cli")):
            bad.append(f"{name} imports argparse (only bench/commands and bench/cli.py may)")
    return bad


def test_imports_point_down_the_stages():
    bad = layer_violations()
    assert not bad, "layer rule broken:\n" + "\n".join(bad)


@pytest.mark.parametrize("name", ["bench.analysis.claims", "bench.report.build"])
def test_the_import_parser_sees_imports_inside_functions(name):
    assert imports(name)  # sanity: the parser finds the project imports of known modules
