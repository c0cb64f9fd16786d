"""The house's layering, read from the source: every ``import`` under ``src/`` (AST).

Layers, bottom up: ``videogen_core`` (the domain) ← ``videogen_jobs`` (a job's
lifecycle: runner, progress records, leases, callbacks, the job's JSON) ←
``videogen_adapters`` ← ``videogen_http`` / ``videogen_cli`` (composition roots).

- the core imports no other videogen package;
- the jobs layer imports only the core;
- adapters and the jobs layer never import the web layer or the CLI — not even
  lazily inside a function (a worker must not reach into the web package);
- the import graph of ``src/`` has no cycle between modules — counting the
  deliberate lazy imports inside functions too (optional dependencies such as
  Celery or redis, adapters chosen by configuration): a circle closed only by
  a lazy import is still a circle (``jobs/records.py`` building the stores that
  import it was one). Only imports under ``if TYPE_CHECKING:`` are left out
  (never executed, annotations only).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import attrs
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGES = ("videogen_core", "videogen_jobs", "videogen_adapters", "videogen_http",
            "videogen_cli")


@attrs.frozen
class Import:
    source: str  # the importing module
    target: str  # the imported module (a package's __init__ when a name is not a module)
    line: int
    where: str  # "module", "function" (a lazy import) or "typing" (if TYPE_CHECKING)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, where: str) -> Iterable[tuple[ast.Import | ast.ImportFrom, str]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, where
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk(child, "typing" if where == "typing" else "function")
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), "typing")
            for stmt in child.orelse:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), where)
        else:
            yield from _walk(child, where)


def scan(root: Path) -> tuple[set[str], list[Import]]:
    """Every module under ``root`` and every import of a module under ``root``."""
    files = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    modules = set(files)
    found: list[Import] = []
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, where in _walk(tree, "module"):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    pkg = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    pkg = node.module or ""
                for alias in node.names:
                    sub = f"{pkg}.{alias.name}"
                    targets.append(sub if sub in modules else pkg)
            for target in targets:
                # ``import a.b.c`` of a module we have, else its nearest known parent
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.append(Import(name, target, node.lineno, where))
    return modules, found


def cycles(modules: Iterable[str], edges: Iterable[Import]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package(module: str) -> str:
    return module.split(".")[0]


@pytest.fixture(scope="module")
def source() -> tuple[set[str], list[Import]]:
    return scan(SRC)


def _crossing(imports: list[Import], sources: set[str], forbidden: set[str]) -> list[str]:
    return [f"{i.source}:{i.line} imports {i.target}" for i in imports
            if _package(i.source) in sources and _package(i.target) in forbidden]


def test_every_package_is_scanned(source: tuple[set[str], list[Import]]) -> None:
    modules, imports = source
    assert {_package(m) for m in modules} >= set(PACKAGES)
    # the scanner sees relative, absolute and lazy imports (known ones of ours)
    seen = {(i.source, i.target, i.where) for i in imports}
    assert ("videogen_jobs.callbacks", "videogen_jobs.ssrf", "module") in seen
    assert ("videogen_adapters.executors.celery", "videogen_jobs.lease", "module") in seen
    assert ("videogen_adapters.executors.celery", "videogen_jobs.callbacks", "function") in seen


def test_the_core_imports_no_other_videogen_package(
        source: tuple[set[str], list[Import]]) -> None:
    assert _crossing(source[1], {"videogen_core"}, set(PACKAGES) - {"videogen_core"}) == []


def test_the_jobs_layer_imports_only_the_core(source: tuple[set[str], list[Import]]) -> None:
    assert _crossing(source[1], {"videogen_jobs"},
                     {"videogen_adapters", "videogen_http", "videogen_cli"}) == []


def test_nothing_below_the_web_layer_imports_it_or_the_cli(
        source: tuple[set[str], list[Import]]) -> None:
    below = {"videogen_core", "videogen_jobs", "videogen_adapters"}
    assert _crossing(source[1], below, {"videogen_http", "videogen_cli"}) == []


def test_the_module_import_graph_has_no_cycle(source: tuple[set[str], list[Import]]) -> None:
    modules, imports = source
    assert cycles(modules, [i for i in imports if i.where != "typing"]) == []


# ------------------------------------------------------------------ the checker itself
def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checker_finds_a_circle_through_relative_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/jobs/__init__.py": "from .factory import build\n",
        "pkg/jobs/records.py": "def build():\n    from .store import Store\n",
        "pkg/jobs/factory.py": "from .store import Store\n",
        "pkg/jobs/store.py": "from . import records\nfrom ..jobs.factory import build\n",
        "pkg/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from .jobs import store\n",
    })
    modules, imports = scan(root)
    # store <-> factory at module level; records -> store only inside a function
    assert cycles(modules, [i for i in imports if i.where != "typing"]) == [
        ["pkg.jobs.factory", "pkg.jobs.records", "pkg.jobs.store"]]
    assert Import("pkg.jobs.records", "pkg.jobs.store", 2, "function") in imports
    assert Import("pkg.typed", "pkg.jobs.store", 3, "typing") in imports


def test_the_checker_finds_a_lazy_import_of_the_web_layer(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "videogen_adapters/__init__.py": "",
        "videogen_adapters/worker.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import videogen_http.app\n"
            "def run():\n    from videogen_http.presenters import job_to_dict\n"),
        "videogen_http/__init__.py": "",
        "videogen_http/app.py": "",
        "videogen_http/presenters.py": "",
    })
    _, imports = scan(root)
    crossing = _crossing(imports, {"videogen_adapters"}, {"videogen_http"})
    assert crossing == ["videogen_adapters.worker:3 imports videogen_http.app",
                        "videogen_adapters.worker:5 imports videogen_http.presenters"]
    assert [i.where for i in imports] == ["typing", "function"]
