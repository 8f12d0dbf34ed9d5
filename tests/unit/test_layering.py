"""The layering rules (../shared/DESIGN.md, "Layout"), checked on the source: each package
listed in RULES imports only the stdlib, itself and the packages named beside it.

Imports are read with `ast` from every module of the package, wherever they stand (module
level, a function, `imports_passed_through`, `TYPE_CHECKING`), so a late import cannot hide.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> the top-level packages it may import besides the stdlib and itself.
RULES: dict[str, frozenset[str]] = {
    # Run in the sandbox: the workflow needs only the activities' names and types (in
    # domain.activity_stubs), never activities/, the store or SQLAlchemy.
    "workflows": frozenset({"domain", "temporalio"}),
    # Pure: shared by every layer, so it imports none of them.
    "domain": frozenset({"pydantic"}),
    # The outward shapes: the API, the store and the services use them, never the other way.
    "contract": frozenset({"domain", "pydantic"}),
}

# package -> top-level packages it must never import, where an allow-list would be long.
FORBIDDEN: dict[str, frozenset[str]] = {
    # The console is a client of the API, served beside it by switchboard/composition.py.
    "api": frozenset({"console"}),
    # The worker's long-running loops: the courier sends what the store holds, never the API's.
    "services": frozenset({"api"}),
}


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
    allowed = RULES[package] | {package, "__future__"}
    return {
        name for name in imported_packages(source)
        if name not in allowed and name not in sys.stdlib_module_names
    }


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_only_what_its_rule_allows(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules found for {package}"
    broken = {
        str(module.relative_to(ROOT)): sorted(found)
        for module in modules
        if (found := crossings(package, module.read_text(encoding="utf-8")))
    }
    assert broken == {}, f"{package}/ may import only {sorted(RULES[package])} and the stdlib"


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
    assert crossings("domain", "from fastapi import APIRouter\nimport store.db\n") == {
        "fastapi", "store",
    }


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_what_its_rule_forbids(package: str) -> None:
    broken = {
        str(module.relative_to(ROOT)): sorted(found)
        for module in sorted((ROOT / package).rglob("*.py"))
        if (found := imported_packages(module.read_text(encoding="utf-8")) & FORBIDDEN[package])
    }
    assert broken == {}, f"{package}/ may not import {sorted(FORBIDDEN[package])}"
