"""The layers of the code (issue 16), read from the syntax tree of every module, so an import
inside a function, a relative import or an ``importlib.import_module("services....")``
counts as much as one at the top of a file:

- ``shared/`` (the kernel, ``shared/clients/``, ``shared/contracts/``) imports neither a
  service nor the tooling in ``ops/``; the kernel proper does not import the clients;
- a service imports no other service and not ``ops/``;
- ``shared/`` and ``ops/`` hold no import cycle (``cli`` ↔ ``devrun`` was one).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.servers import ROOT

IMPORTERS = {"import_module", "__import__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, *, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, dotted module name) of everything ``module``'s source imports; for an
    ``import_module`` call with an f-string, the literal text before the first value."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # `from shared import clients` names a module too
                yield node.lineno, f"{target}.{alias.name}" if target else alias.name
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in IMPORTERS:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield node.lineno, arg.value
            elif isinstance(arg, ast.JoinedStr) and arg.values:
                first = arg.values[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield node.lineno, first.value.rstrip(".")


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """What ``module`` imports against the layering, one line each."""
    found = []
    for line, name in imported_names(source, module, is_package=is_package):
        if within(module, "shared"):
            if within(name, "services") or within(name, "ops"):
                found.append(f"{module}:{line} imports {name}")
            elif not within(module, "shared.clients") and within(name, "shared.clients"):
                found.append(f"{module}:{line} (kernel) imports the client {name}")
        elif within(module, "services"):
            own = ".".join(module.split(".")[:2])
            if within(name, "ops") or (
                within(name, "services") and name != "services" and not within(name, own)
            ):
                found.append(f"{module}:{line} imports {name}")
    return found


def modules(*packages: str) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path


def test_the_checker_sees_every_way_of_importing():
    # issue 16: a checker that missed a form would pass over the arrow it exists to find
    source = """
import services.gateway.seed
from services.gateway import accounts
from ops.cli import main
def later(name):
    from services.registry.models import Project
    importlib.import_module("services.gateway.seed")
    importlib.import_module(f"services.{name}.seed")
"""
    found = violations("shared.devtools", source)
    assert sorted(v.split(" imports ")[1] for v in found) == [
        "ops.cli",
        "ops.cli.main",
        "services",
        "services.gateway",
        "services.gateway.accounts",
        "services.gateway.seed",
        "services.gateway.seed",
        "services.registry.models",
        "services.registry.models.Project",
    ]
    relative = violations("services.scoring.facts", "from ..registry import models\n")
    assert relative == [
        "services.scoring.facts:1 imports services.registry",
        "services.scoring.facts:1 imports services.registry.models",
    ]
    assert violations("services.scoring.facts", "from services.scoring.dates import x\n") == []
    assert violations("shared.http", "from shared.clients.units import unit_directory\n")
    assert violations("shared.clients.units", "from shared.http import service_client\n") == []


def test_shared_imports_no_service_and_no_tooling():
    # issue 16: shared/ is the kernel the services stand on, never an arrow back up
    found = []
    for name, path in modules("shared"):
        found += violations(name, path.read_text(), is_package=path.name == "__init__.py")
    assert found == []


def test_no_service_imports_another_service_or_the_tooling():
    # issue 16 / architecture: services meet only through shared/ (HTTP clients, events)
    found = []
    for name, path in modules("services"):
        found += violations(name, path.read_text(), is_package=path.name == "__init__.py")
    assert found == []


def test_kernel_and_tooling_hold_no_import_cycle():
    # issue 16: ops.cli ↔ ops.devrun imported each other (once shared.cli ↔ shared.devrun)
    graph: dict[str, set[str]] = {}
    for name, path in modules("shared", "ops"):
        graph[name] = set()
        for _, target in imported_names(path.read_text(), name, is_package=path.name == "__init__.py"):
            graph[name].add(target)
    # a submodule may read its own package's __init__ (shared.contracts.approvals takes
    # EventContract from shared.contracts): Python runs the package first, by design
    for name in graph:
        graph[name] = {t for t in graph[name] if t in graph and not within(name, t)}

    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(" → ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
