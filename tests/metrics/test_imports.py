"""The metrics app's imports: it knows nothing about plans, its modules import each other
without a cycle, and no cycle hides in an import inside a function (uploads → tasks →
housekeeping → uploads did)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

APP = Path(settings.BASE_DIR) / "metrics"


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in APP.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(APP.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = ast.parse(path.read_text(), str(path))
    return found


def imported(tree: ast.AST) -> list[tuple[str, bool]]:
    """(module, inside a function) for each import in a module."""
    result = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                result.extend((alias.name, nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                result.append((child.module, nested))
                result.extend((f"{child.module}.{alias.name}", nested) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return result


def test_metrics_never_imports_pips():
    for name, tree in modules().items():
        assert not [m for m, _ in imported(tree) if m == "pips" or m.startswith("pips.")], name


def test_no_import_of_the_app_inside_a_function():
    for name, tree in modules().items():
        hidden = [m for m, nested in imported(tree) if nested and m.startswith("metrics")]
        assert hidden == [], name


def test_the_modules_import_each_other_without_a_cycle():
    trees = modules()
    graph = {
        name: {m for m, _ in imported(tree) if m in trees and m != name}
        for name, tree in trees.items()
    }
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> None:
        assert name not in path, " → ".join([*path, name])
        if name in done:
            return
        for target in sorted(graph[name]):
            walk(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])
