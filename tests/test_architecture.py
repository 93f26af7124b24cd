"""The arrows allowed between the parts (docs/architecture.md), read from the source with `ast`:
every import counts, at module level or inside a function, except those under
`if TYPE_CHECKING:` (they never run)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("pips", "metrics", "pipsystem")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Every project module the code imports, by its full name."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                # `from pips import services` imports the module pips.services.
                full = f"{base}.{alias.name}"
                names.append(full if full in SOURCES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _graph() -> dict[str, set[str]]:
    """module -> the project modules it makes Python run: the ones it names and their parent
    packages, but not its own parent packages (they are already running)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in SOURCES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        own = {".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1)}
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            parts = name.split(".")
            for n in range(1, len(parts) + 1):
                target = ".".join(parts[:n])
                if target in SOURCES and target != module and target not in own:
                    graph[module].add(target)
        graph.setdefault(module, set())
    return graph


GRAPH = _graph()


def _in(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _arrows(source: tuple[str, ...], target: tuple[str, ...], but: tuple[str, ...] = ()):
    return sorted(
        f"{module} -> {imported}"
        for module, imports in GRAPH.items()
        if _in(module, *source) and not _in(module, *but)
        for imported in imports
        if _in(imported, *target)
    )


def _cycles(modules: set[str]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH[node] & modules:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(modules):
        if node not in index:
            connect(node)
    return found


def test_the_graph_sees_the_imports_inside_functions():
    # pips.tasks imports the services inside nothing; this checks the reader itself.
    assert "pips.services" in GRAPH["pips.tasks"]
    assert "pips.services.plans" in GRAPH["pips.services"]
    assert "pips.reminders.sweep" in GRAPH["pips.reminders"]


def test_metrics_knows_nothing_of_plans():
    assert _arrows(("metrics",), ("pips",)) == []


def test_the_project_helpers_know_nothing_of_plans_or_kpis():
    helpers = ("pipsystem.pdfrender", "pipsystem.pdfsign", "pipsystem.ics", "pipsystem.security")
    assert _arrows(helpers + ("pipsystem.celery",), ("pips", "metrics")) == []


def test_only_urls_and_views_import_views():
    assert _arrows(("pips", "metrics"), ("pips.views", "metrics.views"), but=("pips.views",
        "metrics.views", "pips.urls", "metrics.urls")) == []  # fmt: skip


def test_forms_do_not_import_services_or_tasks():
    assert _arrows(("pips.forms", "metrics.forms"), ("pips.services", "pips.tasks")) == []


def test_the_domain_does_not_import_forms():
    assert _arrows(("pips", "metrics"), ("pips.forms",), but=("pips.views", "pips.urls")) == []


def test_rules_ask_only_the_records_and_roles():
    assert GRAPH["pips.rules"] <= {"pips.models", "pips.roles"}


def test_no_import_cycles_in_plans_and_the_project():
    modules = {m for m in GRAPH if _in(m, "pips", "pipsystem")}
    assert _cycles(modules) == []


@pytest.mark.xfail(
    strict=True, reason="metrics.uploads -> metrics.tasks -> metrics.housekeeping -> uploads"
)
def test_no_import_cycles_in_metrics():
    assert _cycles({m for m in GRAPH if _in(m, "metrics")}) == []
