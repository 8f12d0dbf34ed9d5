"""Every pydantic model the workflows send or receive is fully defined when its module is
imported. The deployed worker runs `workflows` (and so `domain`) outside the sandbox (it
passed them through it before), where the data converter's TypeAdapter does not rebuild a
model whose annotations named a class defined further down: a PATCH naming several fields
(an `Edit`) failed to decode there and the API answered 500, while the suite's full sandbox,
importing afresh, rebuilt it and passed."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from pydantic import BaseModel

import domain
import workflows


def _models() -> list[type[BaseModel]]:
    found = []
    for package in (domain, workflows):
        for module_info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            found += [
                value for value in vars(module).values()
                if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == module.__name__
            ]
    return found


@pytest.mark.parametrize("model", _models(), ids=lambda model: f"{model.__module__}.{model.__qualname__}")
def test_model_is_fully_defined_at_import(model: type[BaseModel]) -> None:
    assert model.__pydantic_complete__, f"{model.__qualname__} names a type defined after it"
