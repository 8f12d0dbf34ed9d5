"""The layering rules (README "How it is built", ../shared/DESIGN.md "Layout"), checked on the
source: every top-level package of ours is in LAYERS with the packages of ours it may import,
and the pure ones (LIBRARIES_ONLY) with the only libraries they may import.

Imports are read with `ast` from every module of the package, wherever they stand (module
level, a function, `imports_passed_through`, `TYPE_CHECKING`), so a late import cannot hide.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> the packages of ours it may import besides itself; a package not named is refused.
LAYERS: dict[str, frozenset[str]] = {
    # Pure: shared by every layer, so it imports none of them.
    "domain": frozenset(),
    # The outward shapes: the API, the store and the services use them, never the other way.
    "contract": frozenset({"domain"}),
    # Run in the sandbox: the workflow needs only the activities' names and types (in
    # domain.activity_stubs), never activities/, the store or SQLAlchemy.
    "workflows": frozenset({"domain"}),
    "store": frozenset({"domain", "contract"}),
    "activities": frozenset({"domain", "contract", "store"}),
    # The worker's and the courier process's loops: the courier sends what the store holds, never the API's.
    "services": frozenset({"domain", "contract", "store", "activities", "workflows"}),
    # The API knows nothing of the console, which is one of its clients.
    "api": frozenset({"domain", "contract", "store", "workflows"}),
    "console": frozenset({"domain", "contract", "store", "api"}),
    # The command line and the composition root put everything together.
    "switchboard": frozenset({"domain", "contract", "workflows", "store", "activities", "services", "api", "console"}),
}
OURS = frozenset(LAYERS)

# package -> the only libraries it may import besides the stdlib (the others may use any).
LIBRARIES_ONLY: dict[str, frozenset[str]] = {
    "domain": frozenset({"pydantic"}),
    "contract": frozenset({"pydantic"}),
    "workflows": frozenset({"temporalio"}),
}
# Web frameworks belong to the processes that serve HTTP.
WEB = frozenset({"fastapi", "starlette", "sse_starlette", "uvicorn"})
SERVES_HTTP = frozenset({"api", "console", "switchboard"})


def imported_packages(source: str) -> set[str]:
    """The top-level packages a module's source imports (relative imports are its own)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def crossings(package: str, source: str) -> set[str]:
    """What the source imports across its package's lines."""
    imported = imported_packages(source) - {package, "__future__"} - set(sys.stdlib_module_names)
    crossed = {name for name in imported if name in OURS and name not in LAYERS[package]}
    if package in LIBRARIES_ONLY:
        crossed |= {name for name in imported if name not in OURS and name not in LIBRARIES_ONLY[package]}
    if package not in SERVES_HTTP:
        crossed |= imported & WEB
    return crossed


def test_every_package_of_ours_has_its_layer() -> None:
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(LAYERS)


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules found for {package}"
    broken = {
        str(module.relative_to(ROOT)): sorted(found)
        for module in modules
        if (found := crossings(package, module.read_text(encoding="utf-8")))
    }
    assert broken == {}, f"{package}/ crosses its layer"


def test_a_forbidden_import_is_seen_wherever_it_stands() -> None:
    source = """
from temporalio import workflow
import datetime
from domain.conversation import Status
with workflow.unsafe.imports_passed_through():
    from activities.routing import RoutingActivities
def late():
    import sqlalchemy.engine
    from . import search_attributes
"""
    assert crossings("workflows", source) == {"activities", "sqlalchemy"}
    assert crossings("domain", "from fastapi import APIRouter\nimport store.db\n") == {"fastapi", "store"}
    assert crossings("api", "from console.app import create_console\nimport fastapi\n") == {"console"}
    assert crossings("services", "def send():\n    from api.auth import Principal\n") == {"api"}
    assert crossings("services", "from starlette.concurrency import run_in_threadpool\n") == {"starlette"}
    assert crossings("switchboard", "import console\nimport api\nimport uvicorn\n") == set()
