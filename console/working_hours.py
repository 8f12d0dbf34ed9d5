"""Working hours: the list with each one's status and a create form (supervisors), and a page
per working hours: its fields and week (one form), its holidays (add, delete) and its status
now. Agents see the same pages read only. Every change goes through /ccaas/1/working-hours.

Times are typed as HH:MM (24:00 is the midnight that ends the day, 1440 minutes); a split
shift is a day's intervals typed as "08:00-12:00, 13:00-17:00", which then decide."""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from console.client import Api, Refusal, api
from console.forms import FormProblem, act, optional, split_list
from console.render import page
from console.session import check_csrf, console_user, require_supervisor
from domain.working_hours import MINUTES_A_DAY, Weekday

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf)])
supervisors = [Depends(require_supervisor)]
HOURS = "/ccaas/1/working-hours"
DAYS = [day.value for day in Weekday]
CHECKBOXES = ("enabled", "isDefault", "closeConversations", *(f"{day}-enabled" for day in DAYS))
ZONES = sorted(available_timezones())
TIME = re.compile(r"(\d{1,2}):(\d{2})")
# A new week: Monday to Friday 09:00-17:00.
NEW_VALUES = {"enabled": "on", "timezone": "UTC", "message": "We are closed now; we will answer when we open."} | {
    key: value for day in DAYS for key, value in (
        (f"{day}-enabled", "on" if day not in ("SATURDAY", "SUNDAY") else ""),
        (f"{day}-start", "09:00"), (f"{day}-end", "17:00"), (f"{day}-intervals", ""))
}


def clock(minutes: int) -> str:
    """609 -> '10:09'; 1440 -> '24:00'."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes(text: str, path: str) -> int:
    """'10:09' -> 609: HH:MM from 00:00 to 24:00, refused at `path` otherwise."""
    found = TIME.fullmatch(text.strip())
    if not found or int(found.group(2)) > 59 or int(found.group(1)) * 60 + int(found.group(2)) > MINUTES_A_DAY:
        raise FormProblem(path, f"“{text.strip()[:20]}” is not a time as HH:MM, 00:00 to 24:00")
    return int(found.group(1)) * 60 + int(found.group(2))


def intervals(text: str, path: str) -> list[dict[str, int]]:
    """'08:00-12:00, 13:00-17:00' -> the API's intervals."""
    result = []
    for item in split_list(text, ",;\n"):
        start, dash, end = item.partition("-")
        if not dash:
            raise FormProblem(path, f"“{item[:20]}” is not an interval as HH:MM-HH:MM")
        result.append({"startTime": minutes(start, path), "endTime": minutes(end, path)})
    return result


def day_body(values: dict[str, str], day: str) -> dict[str, Any]:
    path = f"workWeek.{day}"
    body: dict[str, Any] = {"enabled": bool(values.get(f"{day}-enabled"))}
    shifts = intervals(values.get(f"{day}-intervals", ""), f"{path}.intervals")
    if shifts:
        body["intervals"] = shifts
        return body
    start, end = values.get(f"{day}-start", "").strip(), values.get(f"{day}-end", "").strip()
    body["startTime"] = minutes(start, f"{path}.startTime") if start else 0
    body["endTime"] = minutes(end, f"{path}.endTime") if end else MINUTES_A_DAY
    return body


def hours_body(values: dict[str, str]) -> dict[str, Any]:
    """The form as the body of POST, and of PATCH (holidays are not in it: they keep theirs)."""
    return {"name": values.get("name", "").strip(), "timezone": values.get("timezone", "").strip(),
            "message": values.get("message", "").strip(), "enabled": bool(values.get("enabled")),
            "isDefault": bool(values.get("isDefault")),
            "closeConversations": bool(values.get("closeConversations")),
            "workWeek": {day: day_body(values, day) for day in DAYS}}


def hours_values(hours: dict[str, Any]) -> dict[str, str]:
    """Working hours as their form shows them."""
    values = {"name": hours["name"], "timezone": hours["timezone"], "message": hours["message"],
              "enabled": "on" if hours["enabled"] else "", "isDefault": "on" if hours["isDefault"] else "",
              "closeConversations": "on" if hours["closeConversations"] else ""}
    for day in DAYS:
        given = hours["workWeek"][day]
        values |= {f"{day}-enabled": "on" if given["enabled"] else "", f"{day}-start": clock(given["startTime"]),
                   f"{day}-end": clock(given["endTime"]),
                   f"{day}-intervals": ", ".join(f"{clock(i['startTime'])}-{clock(i['endTime'])}"
                                                 for i in given.get("intervals") or [])}
    return values


def as_posted(values: dict[str, str]) -> dict[str, str]:
    """A form as it was sent: a checkbox left unticked is not posted at all."""
    return {name: "" for name in CHECKBOXES} | values


def day_errors(refusal: Refusal | None) -> dict[str, list[str]]:
    """The API's messages about each day (workWeek.MONDAY..., the day's own or its times'),
    to show in that day's row."""
    found: dict[str, list[str]] = {}
    for path, messages in (refusal.fields if refusal else {}).items():
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] == "workWeek" and parts[1] in DAYS:
            where = ".".join(parts[2:])
            found.setdefault(parts[1], []).extend(f"{where}: {m}" if where else m for m in messages)
    return found


def holiday_refusal(refusal: Refusal) -> Refusal:
    """The add-holiday form's refusal, its fields under holiday. (the details form has a name too)."""
    return Refusal(refusal.status, refusal.text, {f"holiday.{path}": messages
                                                  for path, messages in refusal.fields.items()})


async def status_of(client: Api, hours_id: str) -> dict[str, Any] | None:
    answer = await client.call("GET", f"{HOURS}/{hours_id}/status")
    return answer.body if answer.ok else None


async def list_page(request: Request, client: Api, refusal: Refusal | None = None,
                    values: dict[str, str] | None = None) -> HTMLResponse:
    all_hours = await client.read_all(HOURS, "workingHours")
    return page(request, "working_hours_list.html", status_code=refusal.status if refusal else 200,
                title="Working hours", section="working-hours", all_hours=all_hours,
                statuses={hours["id"]: await status_of(client, hours["id"]) for hours in all_hours},
                refusal=refusal, values=NEW_VALUES | (values or {}), day_errors=day_errors(refusal),
                days=DAYS, zones=ZONES)


async def hours_page(request: Request, client: Api, hours_id: str, refusal: Refusal | None = None,
                     values: dict[str, str] | None = None, *, holiday: bool = False) -> HTMLResponse:
    hours = await client.read(f"{HOURS}/{hours_id}")
    if holiday and refusal is not None:
        refusal = holiday_refusal(refusal)
    edited = values is not None and not holiday and "name" in values  # the details form as it was sent
    queues = await client.read_all("/ccaas/1/queues", "queues", {"workingHoursId": hours_id})
    return page(request, "working_hours.html", status_code=refusal.status if refusal else 200,
                title=f"Working hours {hours['name']}", section="working-hours", hours=hours,
                status=await status_of(client, hours_id), refusal=refusal,
                values=as_posted(values) if edited and values is not None else hours_values(hours),
                holiday_values=(values or {}) if holiday else {"holidayEnabled": "on"},
                day_errors=day_errors(refusal), days=DAYS, zones=ZONES, queues=queues)


def holiday_body(values: dict[str, str]) -> dict[str, Any]:
    start = values.get("holidayStart", "").strip()
    return {"name": values.get("holidayName", "").strip(), "startDate": start,
            "endDate": optional(values, "holidayEnd") or start, "enabled": bool(values.get("holidayEnabled"))}


@router.get("/console/working-hours")
async def show_list(request: Request, client: Api = Depends(api)):
    return await list_page(request, client)


@router.post("/console/working-hours", dependencies=supervisors)
async def create(request: Request, client: Api = Depends(api)):
    async def again(refusal: Refusal, values: dict[str, str]):
        return await list_page(request, client, refusal, as_posted(values))

    return await act(request, client, "POST", HOURS, again, body=hours_body,
                     done=lambda answer: f"/console/working-hours/{answer.body['id']}")


@router.get("/console/working-hours/{hours_id}")
async def show(request: Request, hours_id: str, client: Api = Depends(api)):
    return await hours_page(request, client, hours_id)


@router.post("/console/working-hours/{hours_id}/edit", dependencies=supervisors)
async def edit(request: Request, hours_id: str, client: Api = Depends(api)):
    return await act(request, client, "PATCH", f"{HOURS}/{hours_id}", partial(hours_page, request, client, hours_id),
                     body=hours_body, done=f"/console/working-hours/{hours_id}")


@router.post("/console/working-hours/{hours_id}/holidays", dependencies=supervisors)
async def add_holiday(request: Request, hours_id: str, client: Api = Depends(api)):
    return await act(request, client, "POST", f"{HOURS}/{hours_id}/holiday",
                     partial(hours_page, request, client, hours_id, holiday=True),
                     body=holiday_body, done=f"/console/working-hours/{hours_id}")


@router.post("/console/working-hours/{hours_id}/holidays/{holiday_id}/delete", dependencies=supervisors)
async def delete_holiday(request: Request, hours_id: str, holiday_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{HOURS}/{hours_id}/holiday/{holiday_id}",
                     partial(hours_page, request, client, hours_id), done=f"/console/working-hours/{hours_id}")


@router.post("/console/working-hours/{hours_id}/delete", dependencies=supervisors)
async def delete(request: Request, hours_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{HOURS}/{hours_id}",
                     partial(hours_page, request, client, hours_id), done="/console/working-hours")
