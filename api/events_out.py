"""What an event out looks like to a webhook receiver and to the live stream:
`{type, timestamp, data}`, `data` holding the timeline `event` (with its `seq`) and the
`conversation` as the API answers them, or the `message` and its `conversation`, or the `agent`.

The worker writes a timeline event to the feed as the workflow recorded it (it knows nothing
of the API's shapes), and a message it stored (an out-of-hours auto-reply) as its row, under
`stored_message`; they take their public shape here, the same on every reading, so a retried
webhook carries the same body. The API writes the others already in their shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from api.conversation_actions import event_out
from api.conversations import conversation_out
from api.schemas import format_time
from domain.audience import Audience
from domain.conversation import ConversationEvent
from domain.events_out import AGENT_STATUS_CHANGED, MESSAGE_CREATED
from store.events_out import NewEvent, publish
from store.tables import ConversationRow, EventFeedRow, MessageRow, WebhookSubscriptionRow


def render(row: EventFeedRow, audience: Audience) -> dict[str, Any]:
    """The event's body as `audience` receives it: a timeline event's People's data (its
    `customer.*` facts, their values in its trace) goes to supervisors only (domain.audience)."""
    data = row.payload
    if row.type.startswith("conversation."):
        event = ConversationEvent.model_validate(data["event"])
        data = {
            "event": event_out(event, audience),
            "conversation": conversation_out(ConversationRow(**data["conversation"])),
        }
    elif row.type == MESSAGE_CREATED and "stored_message" in data:
        from api.messages import message_out  # it imports this module (publish_message)

        data = {
            "message": message_out(MessageRow(**data["stored_message"])),
            "conversation": conversation_out(ConversationRow(**data["conversation"])),
        }
    return {"type": row.type, "timestamp": format_time(row.at), "data": data}


def subscription_audience(subscription: WebhookSubscriptionRow) -> Audience:
    """Whom a webhook's deliveries are rendered for: a bot's own webhook (`webhookUrl`) as
    the bot; a subscription of /ccaas/1/webhooks (supervisors make them) as supervisors."""
    return Audience.WORKERS if subscription.bot_id is not None else Audience.SUPERVISORS


def publish_message(session: Session, message: dict[str, Any], conversation: ConversationRow, at: datetime) -> None:
    """message.created, in the caller's transaction."""
    publish(session, [NewEvent(
        source=f"message {message['id']}", type=MESSAGE_CREATED, at=at,
        payload={"message": message, "conversation": conversation_out(conversation)},
        conversation_id=conversation.id, queue_id=conversation.queue_id, agent_id=conversation.agent_id,
    )])


def publish_agent_status(session: Session, agent: dict[str, Any], at: datetime) -> None:
    """agent.status_changed, in the caller's transaction: the agent as the API answers it."""
    publish(session, [NewEvent(
        source=f"agent {agent['id']} status {format_time(at)}", type=AGENT_STATUS_CHANGED, at=at,
        payload={"agent": agent}, agent_id=agent["id"],
    )])
