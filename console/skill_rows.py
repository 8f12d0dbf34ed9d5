"""Skills as rows of a form: an agent's skills (name, level) and the required skills of a
conversation or a routing rule (name, min level, relax after seconds), read into the API's lists
and back (SPEC "Skills").

Rows are plain inputs `<prefix>-<n>-<field>` (forms.indexed_rows), shown by skill_macros.html
with one spare row to fill in: a row without a name is no skill, so the spare row, or a row
whose name is cleared, sends nothing. A row's Remove button posts its n, and the list is sent
without that row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.forms import FormProblem, indexed_rows, whole_number

HELD = ("name", "level")
REQUIRED = ("name", "minLevel", "relaxAfterSeconds")
# The hidden field that says a form has the rows (a page shows the posted rows again when it does).
ROWS_MARK = "rows"


def posted(values: Mapping[str, str], prefix: str, fields: tuple[str, ...],
           removed: str | None = None) -> list[dict[str, str]]:
    """The named rows posted under `prefix`, without row number `removed` (a Remove button's)."""
    if removed:
        values = {name: value for name, value in values.items() if not name.startswith(f"{prefix}-{removed}-")}
    return [row for row in indexed_rows(values, prefix, fields) if row["name"]]


def shown(values: Mapping[str, str] | None, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]] | None:
    """The rows as posted, when `values` is a form that had them (to show it again with its
    refusal); None otherwise (the page shows what the API holds)."""
    if not values or values.get(prefix) != ROWS_MARK:
        return None
    return posted(values, prefix, fields)


def _number(row: Mapping[str, str], field: str, path: str) -> int | None:
    """A row's whole number (the API judges its range); the path names the item for the form."""
    try:
        return whole_number(row, field)
    except FormProblem as problem:
        raise FormProblem(f"{path}.{field}", problem.message) from problem


def held_body(rows: list[dict[str, str]], path: str = "skills") -> list[dict[str, Any]]:
    """An agent's skills for PUT /ccaas/1/agents/{id}/skills; a level left out is the API's to refuse."""
    body = []
    for index, row in enumerate(rows):
        level = _number(row, "level", f"{path}[{index}]")
        body.append({"name": row["name"]} | ({"level": level} if level is not None else {}))
    return body


def required_body(rows: list[dict[str, str]], path: str = "requiredSkills") -> list[dict[str, Any]]:
    """Required skills for the API: an empty min level is its default (1), an empty relax
    after is none (the requirement never relaxes)."""
    body = []
    for index, row in enumerate(rows):
        item: dict[str, Any] = {"name": row["name"]}
        for field in ("minLevel", "relaxAfterSeconds"):
            if (number := _number(row, field, f"{path}[{index}]")) is not None:
                item[field] = number
        body.append(item)
    return body


def held_rows(skills: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"name": skill["name"], "level": str(skill["level"])} for skill in skills]


def required_rows(requirements: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"name": requirement["name"], "minLevel": str(requirement.get("minLevel") or ""),
             "relaxAfterSeconds": "" if requirement.get("relaxAfterSeconds") is None
             else str(requirement["relaxAfterSeconds"])} for requirement in requirements]
