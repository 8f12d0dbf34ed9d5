"""Pages from the Jinja2 templates, with what every page shows: the user, the nav, the token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from console.lookups import with_agent_names
from console.session import CSRF_FIELD, csrf_token, remember_csrf
from domain.assignment import DEFAULT_STICKY_DAYS
from domain.events_out import EVENT_TYPES
from domain.skills import MAX_LEVEL, MIN_LEVEL

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def when(value: str | None) -> str:
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def duration(seconds: float | None) -> str:
    """3725 -> '1h 2m': what a person reads at a glance."""
    if seconds is None:
        return ""
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{count}{unit}" for count, unit in parts if count][:2]
    return " ".join(shown) or "0s"


def age(value: str | None) -> str:
    moment = parse_time(value)
    return duration((datetime.now(UTC) - moment).total_seconds()) if moment else ""


def auto_assignment(queue: dict[str, Any]) -> str:
    """A queue's auto-assignment in a few words: "off", or "on, round robin, sticky for 7 days"."""
    if not queue.get("isAutoAssignmentEnabled"):
        return "off"
    algorithm = queue.get("autoAssignmentAlgorithm") or "LOAD_BALANCING"
    words = ["on", algorithm.lower().replace("_", " ")]
    if algorithm == "PERFORMANCE_BASED":
        words[-1] += " (balances load)"  # no performance data: it is assigned as load balancing
    if queue.get("isStickyAutoAssignmentEnabled"):
        words.append(f"sticky for {queue.get('stickyAgentTimeoutDays') or DEFAULT_STICKY_DAYS} days")
    return ", ".join(words)


def offers(queue: dict[str, Any]) -> str:
    """A queue's offers in a few words: "off: assigned directly", or "30s to accept or decline;
    AWAY after 3 missed in a row"."""
    timeout = queue.get("offerTimeoutSeconds")
    if timeout is None:
        return "off: assigned directly"
    return f"{duration(timeout)} to accept or decline; AWAY after {queue.get('maxMissedOffers')} missed in a row"


def service_level_target(queue: dict[str, Any]) -> str:
    """A queue's service level target in a few words: "80% answered within 1m"."""
    within = duration(queue.get("serviceLevelTargetSeconds"))
    return f"{queue.get('serviceLevelTargetPercent')}% answered within {within}"


templates.env.filters.update(when=when, age=age, duration=duration, auto_assignment=auto_assignment,
                             offers=offers, service_level_target=service_level_target, agent_names=with_agent_names)
# The levels a skill row offers (skill_macros.html).
templates.env.globals["skill_levels"] = list(range(MIN_LEVEL, MAX_LEVEL + 1))

# Pages hold customers' data and one-time keys: not kept after sign-out. (Every answer of the
# service carries api.security_headers: no framing, scripts and styles of this origin only.)
PAGE_HEADERS = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Pager:
    """Where a list's page stands, and the links to its neighbours (None at either end)."""

    number: int
    count: int
    previous: str | None
    next: str | None


def pager(path: str, params: dict[str, Any], number: int, size: int, total: int) -> Pager:
    def link(to: int) -> str:
        return f"{path}?" + urlencode({**params, "page": to})

    return Pager(number, max(1, -(-total // size)), link(number - 1) if number > 0 else None,
                 link(number + 1) if (number + 1) * size < total else None)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    response = templates.TemplateResponse(
        request, template, status_code=status_code,
        context={
            "user": principal.actor if principal else None,
            "is_supervisor": bool(principal and principal.is_supervisor),
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request),
            # A page with live parts (console.live): where its event stream starts, and the
            # event types console.js listens to.
            "live_after": getattr(request.state, "live_after", None),
            "live_types": ",".join(EVENT_TYPES),
            **context,
        },
    )
    remember_csrf(request, response)
    response.headers.update(PAGE_HEADERS)
    return response


def redirect(url: str) -> RedirectResponse:
    """After a form: the page to see its effect (post, redirect, get)."""
    return RedirectResponse(url, status_code=303)


def sla_words(clock: dict[str, Any]) -> str:
    """An SLA clock of a conversation in words: its status, and when it is due or how much of
    its time is left."""
    status = clock["status"]
    if status == "PAUSED":
        return f"paused, {duration(clock.get('remainingSeconds'))} left"
    due = clock.get("dueAt")
    if status == "ACTIVE" and due:
        left = (parse_time(due) - datetime.now(UTC)).total_seconds()  # type: ignore[operator]
        return f"due {when(due)} (in {duration(left)})" if left > 0 else f"due {when(due)} (now)"
    words = {"MET": "met", "BREACHED": "breached"}.get(status, status.lower())
    return f"{words} (was due {when(due)})" if due else words


templates.env.globals["sla_words"] = sla_words
