"""An event out as webhook receivers and the live stream get it: `{type, timestamp, data}`,
`data` holding the timeline `event` (with its `seq`) and the `conversation` as the API answers
them, or the `message` and its `conversation`, or the `agent`.

Rendered once, when the event is published, for each audience that reads it (supervisors;
agents and bots without People's facts, domain.audience), as the JSON text that is then sent
unchanged: a webhook's signature is over these bytes, and a retried one carries the same."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contract.agents import AgentOut
from contract.base import format_time
from contract.conversations import ConversationRecord, conversation_out, event_out
from contract.messages import MessageRecord, message_out
from domain.audience import Audience
from domain.conversation import ConversationEvent
from domain.events_out import AGENT_STATUS_CHANGED, MESSAGE_CREATED, conversation_event_type


@dataclass(frozen=True)
class Bodies:
    """An event's body as each audience receives it, as JSON text."""

    supervisors: str
    workers: str

    def for_audience(self, audience: Audience) -> str:
        return self.supervisors if audience.sees_people else self.workers


def envelope(type_: str, at: datetime, data: dict[str, Any]) -> str:
    """The body of an event of `type_` that happened `at`, as compact JSON text."""
    return json.dumps({"type": type_, "timestamp": format_time(at), "data": data}, separators=(",", ":"))


def for_everyone(type_: str, at: datetime, data: dict[str, Any]) -> Bodies:
    """An event that carries no People's data: one body for every audience."""
    body = envelope(type_, at, data)
    return Bodies(body, body)


def conversation_event(event: ConversationEvent, conversation: ConversationRecord) -> Bodies:
    """A timeline event with the conversation as it left it: its People's data (`customer.*`
    facts, their values in its trace) goes to supervisors only."""
    type_, answered = conversation_event_type(event.type), conversation_out(conversation)

    def body(audience: Audience) -> str:
        return envelope(type_, event.at, {"event": event_out(event, audience), "conversation": answered})

    supervisors = body(Audience.SUPERVISORS)
    if event.facts is None and event.trace is None:
        return Bodies(supervisors, supervisors)  # nothing to hide (domain.audience.event_for)
    return Bodies(supervisors, body(Audience.WORKERS))


def message_created(message: MessageRecord, conversation: ConversationRecord, at: datetime) -> Bodies:
    return for_everyone(MESSAGE_CREATED, at, {"message": message_out(message),
                                              "conversation": conversation_out(conversation)})


def agent_status_changed(agent: AgentOut, at: datetime, reason: str | None = None) -> Bodies:
    """The agent as it is now; `reason` where Switchboard changed the status itself ("not
    responding")."""
    data: dict[str, object] = {"agent": agent.model_dump(by_alias=True, mode="json")}
    if reason is not None:
        data["reason"] = reason
    return for_everyone(AGENT_STATUS_CHANGED, at, data)
