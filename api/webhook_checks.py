"""What the API checks of a webhook subscription when one is saved (a webhook, or a bot's
`webhookUrl`): the shape of its URL, where it may point, and that one more fits.

Where it may point is checked again by the courier at every send, as DNS may change: an
http(s) URL with a host and no credentials, and, unless the app allows private networks
(SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE), only globally routable addresses, literal or resolved
(domain.webhook_urls.address_problem)."""

from __future__ import annotations

import re
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import Request
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError
from sqlmodel import Session

from api.errors import ApiError, bad_request
from domain.webhook_urls import (
    MAX_URL_LENGTH,
    host_of,
    needs_resolving,
    refused_destination,
    url_problem,
)
from store import subscriptions as subscription_store

# How long a save waits for DNS; a name that does not answer by then is accepted, as one
# that does not resolve is (the courier checks again before every request).
RESOLVE_SECONDS = 3.0
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-resolve")

# What url_problem accepts, narrowed to what a receiver's address looks like: a host name
# (labels of letters, digits and hyphens) or an IP address (IPv6 in brackets), a port
# 1-65535, then a path, query or fragment of visible ASCII.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_URL = (rf"[Hh][Tt][Tt][Pp][Ss]?://(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])"
        rf"(?::{_PORT})?(?:[/?#][!-~]*)?")
URL_SHAPE = re.compile(_URL)
# The document's pattern: the same around optional whitespace (inputs are trimmed).
URL_PATTERN = rf"^\s*{_URL}\s*$"


def _valid_url(value: str) -> str:
    value = value.strip()
    problem = url_problem(value)
    if problem is None and not URL_SHAPE.fullmatch(value):
        problem = ("must be http(s)://host[:port][/path], the host a name or an IP address "
                   "(IPv6 in brackets), without spaces")
    if problem:
        raise PydanticCustomError("webhook_url", problem)
    return value


WebhookUrl = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH),
    AfterValidator(_valid_url), Field(json_schema_extra={"pattern": URL_PATTERN}),
]


def destination_problem(url: str, allow_private: bool) -> str | None:
    """Why a webhook may not be sent to this (syntactically valid) URL here, or None."""
    if allow_private:
        return None
    host = host_of(url)
    resolved: list[str] = []
    if needs_resolving(host):
        try:
            found = _resolver.submit(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM).result(RESOLVE_SECONDS)
        except (OSError, UnicodeError, TimeoutError):
            return None  # best effort: the courier checks again at every send
        resolved = [str(info[4][0]) for info in found]
    problem = refused_destination(host, resolved)
    return None if problem is None else f"{problem}: webhooks go to public addresses only"


def check_destination(request: Request, field: str, url: str) -> None:
    if (problem := destination_problem(url, request.app.state.webhook_allow_private)) is not None:
        raise bad_request(field, problem)


def check_room(session: Session) -> None:
    """Under lock_subscriptions: one more subscription fits."""
    if not subscription_store.has_room(session):
        raise ApiError(409, f"At most {subscription_store.MAX_SUBSCRIPTIONS} webhook subscriptions "
                            "(bots' included); delete one first")
