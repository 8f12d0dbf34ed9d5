"""What the console's forms share: reading posted fields into API bodies (refusing before the
API is asked what cannot be sent: a number that is not one, JSON that does not parse), a
change through the API with its refusal shown on the form, and the page that shows a new
key once."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from console.client import Answer, Api, Refusal
from console.lookups import strict_json
from console.render import page, redirect

CHECK_TEXT = "Check the highlighted fields"
SHOWN_ITEM = 40  # characters of an item named in a message about it


class FormProblem(Exception):
    """A field the console itself can tell is wrong: shown at the field; the API is not asked."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


async def form_values(request: Request) -> dict[str, str]:
    """The posted fields as text (the CSRF check has parsed and cached the form already)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


def optional(values: Mapping[str, str], name: str) -> str | None:
    """An optional text field: empty means not given."""
    return values.get(name, "").strip() or None


def whole_number(values: Mapping[str, str], name: str) -> int | None:
    """An optional whole number; anything else is refused here, as the API takes no strings."""
    text = values.get(name, "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[+-]?\d{1,12}", text):
        raise FormProblem(name, "must be a whole number")
    return int(text)


def split_list(text: str | None, separators: str = ",\n") -> list[str]:
    """'a, b\\nc' -> ['a', 'b', 'c']: the items of a comma- or line-separated field."""
    items = re.split("[" + re.escape(separators) + "]", text or "")
    return [item.strip() for item in items if item.strip()]


def json_object(values: Mapping[str, str], name: str, path: str) -> dict[str, Any]:
    """A JSON object typed into a text area; empty is {}."""
    text = values.get(name, "").strip()
    if not text:
        return {}
    try:
        parsed = strict_json(text)
    except ValueError as error:
        raise FormProblem(path, f"is not valid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise FormProblem(path, 'must be a JSON object, like {"segment": "gold"}')
    return parsed


def folded(refusal: Refusal | None, groups: Mapping[str, list[str]]) -> Refusal | None:
    """The refusal with every message below a group's path (an item of a list, a key of an
    object) moved up to that path and naming the item, so the one input that holds the whole
    list shows it. `groups` maps a path to the items given, for naming them by index."""
    if refusal is None:
        return None
    fields: dict[str, list[str]] = {}
    for path, messages in refusal.fields.items():
        group = next((prefix for prefix in groups if path.startswith((prefix + "[", prefix + "."))), None)
        if group is None:
            fields.setdefault(path, []).extend(messages)
            continue
        rest = path[len(group):]
        index = re.match(r"\[(\d+)\]", rest)
        items = groups[group]
        if index and int(index.group(1)) < len(items):
            item = items[int(index.group(1))]
            name = f"“{item if len(item) <= SHOWN_ITEM else item[:SHOWN_ITEM] + '…'}”"
        else:
            name = rest.lstrip(".")
        fields.setdefault(group, []).extend(f"{name}: {message}" for message in messages)
    return Refusal(refusal.status, refusal.text, fields)


Again = Callable[[Refusal, dict[str, str]], Awaitable[Response]]


async def act(request: Request, client: Api, method: str, path: str, again: Again, *,
              done: str | Callable[[Answer], str | Awaitable[Response]],
              body: Callable[[dict[str, str]], Any] = lambda values: None) -> Response:
    """One form's change through the API: `body(form)` is sent; a refusal shows the page
    again (`again(refusal, form)`: the form as sent, with the API's status); success
    redirects to the address `done` is or gives, or is the page `done(answer)` makes."""
    values = await form_values(request)
    try:
        answer = await client.call(method, path, json=body(values))
    except FormProblem as problem:  # the API is not asked
        return await again(Refusal(400, CHECK_TEXT, {problem.path: [problem.message]}), values)
    if (refusal := answer.refusal) is not None:
        return await again(refusal, values)
    result = done(answer) if callable(done) else done
    return redirect(result) if isinstance(result, str) else await result


def key_page(request: Request, client: Api, what: str,
             thing_id: str | None = None) -> Callable[[Answer], Awaitable[HTMLResponse]]:
    """The `done` of a form whose answer holds a new API key ("agent" or "bot"; the one just
    made, or `thing_id`'s): the page that shows it this once."""

    async def show(answer: Answer) -> HTMLResponse:
        shown_id = thing_id or answer.body["id"]
        name = (await client.read(f"/ccaas/1/{what}s/{shown_id}"))["displayName"]
        # Not cached, as every console page (render.PAGE_HEADERS).
        return page(request, "directory_key.html", title=f"API key of {name}", section=what + "s",
                    key=answer.body["apiKey"], what=what, name=name, back=f"/console/{what}s/{shown_id}")

    return show


def indexed_rows(values: Mapping[str, str], prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a form's list posted as `<prefix>-<n>-<field>` (a page's script may add and
    remove rows, so the numbers may have gaps), in order of n, stripped; a row left blank in
    every field is dropped. The i-th row returned is the i-th item sent to the API."""
    pattern = re.compile(re.escape(prefix) + r"-(\d{1,4})-(" + "|".join(map(re.escape, fields)) + ")")
    numbers = sorted({int(found.group(1)) for name in values if (found := pattern.fullmatch(name))})
    rows = [{name: values.get(f"{prefix}-{number}-{name}", "").strip() for name in fields} for number in numbers]
    return [row for row in rows if any(row.values())]


def numbered_rows(prefix: str, rows: list[dict[str, str]]) -> dict[str, str]:
    """indexed_rows' rows as form values again, numbered from 0 with no gaps."""
    return {f"{prefix}-{index}-{name}": value for index, row in enumerate(rows) for name, value in row.items()}


def item_errors(refusal: Refusal | None, path: str) -> dict[int, dict[str, list[str]]]:
    """The API's messages about the items of the list at `path` (`path[1].afterSeconds`, or
    `path[1]` for the item as a whole: field ""), by item index and then field, so each row of
    a form shows its own."""
    found: dict[int, dict[str, list[str]]] = {}
    for where, messages in (refusal.fields if refusal else {}).items():
        item = re.fullmatch(re.escape(path) + r"\[(\d+)\](?:\.(.+))?", where)
        if item:
            found.setdefault(int(item.group(1)), {}).setdefault(item.group(2) or "", []).extend(messages)
    return found
