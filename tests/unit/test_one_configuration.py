"""One configuration: the integration and console tests run the API and the worker as
`switchboard api` and `switchboard worker` build them, through switchboard/composition.py
from a `Settings` (tests/settings.py `stack_settings`), never by calling `create_app` or
`build_worker` themselves, whose defaults are not what a deployment runs."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
GUARDED = [TESTS / "integration", TESTS / "console"]
BUILDERS = {"create_app", "build_worker"}
# Test module (relative to tests/) -> why it may build the API or worker by hand. Keep it short:
# each entry is something composition cannot express.
ALLOWED: dict[str, str] = {}


def builder_calls(source: str) -> list[str]:
    """`name:line` of each call of create_app or build_worker in the source, however imported."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else (
                function.attr if isinstance(function, ast.Attribute) else None)
            if name in BUILDERS:
                found.append(f"{name}:{node.lineno}")
    return found


def test_no_integration_or_console_test_builds_the_api_or_worker_by_hand():
    offenders = {}
    for folder in GUARDED:
        for path in sorted(folder.rglob("*.py")):
            name = str(path.relative_to(TESTS))
            calls = builder_calls(path.read_text())
            if calls and name not in ALLOWED:
                offenders[name] = calls
    assert not offenders, (
        "build the API with switchboard.composition.api_app and the worker with worker_process, "
        f"from tests.settings.stack_settings (or add a documented exception to ALLOWED): {offenders}")


def test_every_exception_is_still_needed():
    stale = [name for name in ALLOWED if not (TESTS / name).exists() or not builder_calls((TESTS / name).read_text())]
    assert not stale, stale


def test_the_guard_sees_every_way_of_calling_them():
    source = ("from api.app import create_app\nimport switchboard.worker as w\n"
              "app = create_app(engine, temporal, 'q')\nworker = w.build_worker(temporal, engine, 'q')\n"
              "api_app(settings, engine, temporal)\n")
    assert builder_calls(source) == ["create_app:3", "build_worker:4"]
