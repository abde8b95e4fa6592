"""The gateway uses Starlette and FastAPI through their public API only (issue 16).

A private name (``_``-prefixed) from starlette/fastapi, a replaced middleware-stack builder
or a rewritten route list breaks silently on the next framework release; the gateway's
forwarding is its own ASGI app instead (``forwarding.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "services" / "gateway"
FRAMEWORKS = ("starlette", "fastapi")
ROUTE_LIST_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse"})


def _framework(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in FRAMEWORKS


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def _touches_routes(node: ast.AST) -> bool:
    """``x.routes``, ``x.routes[...]`` (the target of an assignment or a mutating call)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "routes"


def private_api_uses(source: str) -> list[str]:
    """Each use of private Starlette/FastAPI API in ``source``, as "line: what"."""
    tree = ast.parse(source)
    framework_names: set[str] = set()  # local names bound to starlette/fastapi modules
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _framework(node.module):
            if _private(node.module):
                found.append(f"{node.lineno}: from {node.module} import …")
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{node.lineno}: {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _framework(alias.name):
                    if _private(alias.name):
                        found.append(f"{node.lineno}: import {alias.name}")
                    framework_names.add((alias.asname or alias.name).split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr == "build_middleware_stack":
                found.append(f"{node.lineno}: build_middleware_stack")
            elif (
                node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name | ast.Attribute)
                and ast.unparse(node.value).split(".")[0] in framework_names
            ):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_touches_routes(t) for t in targets):
                found.append(f"{node.lineno}: assignment to router.routes")
        elif isinstance(node, ast.Delete) and any(_touches_routes(t) for t in node.targets):
            found.append(f"{node.lineno}: deletion from router.routes")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ROUTE_LIST_MUTATORS
            and _touches_routes(node.func.value)
        ):
            found.append(f"{node.lineno}: router.routes.{node.func.attr}(…)")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from starlette.middleware.errors import _html\n",
        "from fastapi._compat import ModelField\n",
        "import starlette._utils\n",
        "import starlette.routing as r\nr._compile_path('/x')\n",
        "app.build_middleware_stack = lambda: None\n",
        "build = app.build_middleware_stack\n",
        "app.router.routes[:] = []\n",
        "app.router.routes = []\n",
        "app.router.routes.insert(0, route)\n",
        "del app.routes[0]\n",
    ],
)
def test_each_kind_of_private_use_is_caught(source):
    # issue 16: the check below would see the gateway's old monkeypatching and route rewriting
    assert private_api_uses(source)


def test_public_use_is_not_flagged():
    # issue 16: the public API the gateway does use stays allowed
    source = (
        "from fastapi import APIRouter, FastAPI\nfrom starlette.types import Scope\n"
        "app.add_middleware(M)\nrouter.include_router(r)\nfor r in app.routes: pass\n"
        "self._counters = {}\n"
    )
    assert private_api_uses(source) == []


def test_gateway_touches_no_private_starlette_or_fastapi_api():
    # issue 16: one pure ASGI proxy beside a plain FastAPI app, no monkeypatching
    found = {
        str(path.relative_to(GATEWAY)): uses
        for path in sorted(GATEWAY.rglob("*.py"))
        if (uses := private_api_uses(path.read_text(encoding="utf-8")))
    }
    assert found == {}
