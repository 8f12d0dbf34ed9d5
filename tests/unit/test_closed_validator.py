"""Every update that changes a conversation is refused on a closed one by its validator (409,
before anything reaches history), and the updates that only a closed conversation refuses
share one validator, `closed_only`. Without Temporal: the validators are called as the worker
calls them, bound to a workflow instance holding a closed (or open) state."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

import pytest
from temporalio import workflow as temporal_workflow
from temporalio.exceptions import ApplicationError

from domain.conversation import CLOSED_TEXT, CONFLICT, ConversationRun, ConversationStart, NewConversation
from domain.conversation_core import new_state
from domain.models import Actor, ActorType, Status
from workflows.conversation import ConversationWorkflow, closed_only

ACTOR = Actor(type=ActorType.AGENT, id="agent-1", name="Ana")
START = datetime(2026, 1, 1, tzinfo=UTC)
DEFINITION = temporal_workflow._Definition.must_from_class(ConversationWorkflow)

# Refused by closed_only alone, the one shared validator.
CLOSED_ONLY = {"edit", "reroute", "set_priority", "set_status", "change", "route", "record_message",
               "withdraw_offer"}
# Refused on a closed conversation by a validator that checks more (a claim, the bot, a tag,
# who answers an offer).
CLOSED_AND_MORE = {"assign", "report_authentication", "tag", "answer_offer"}
# Answers about creation: a closed conversation was created all the same.
NOT_REFUSED = {"created"}


def workflow_with(status: Status) -> ConversationWorkflow:
    state = new_state(NewConversation(id="c-1", request_id="r-1", actor=ACTOR, created_at=START))
    state.status = status
    return ConversationWorkflow(ConversationStart(run=ConversationRun(state=state, placed=True)))


def argument_of(update: str) -> typing.Any:
    """An argument of the update's type, every field None: closed refuses before any field
    matters."""
    hints = typing.get_type_hints(DEFINITION.updates[update].fn)
    argument_type, = (hint for name, hint in hints.items() if name != "return")
    return argument_type.model_construct(**dict.fromkeys(argument_type.model_fields))


def test_every_update_is_classified() -> None:
    assert set(DEFINITION.updates) == CLOSED_ONLY | CLOSED_AND_MORE | NOT_REFUSED


@pytest.mark.parametrize("update", sorted(CLOSED_ONLY | CLOSED_AND_MORE))
def test_a_closed_conversation_refuses_the_update(update: str) -> None:
    validate = DEFINITION.updates[update].bind_validator(workflow_with(Status.CLOSED))
    with pytest.raises(ApplicationError) as refused:
        validate(argument_of(update))
    assert refused.value.type == CONFLICT
    assert refused.value.message == CLOSED_TEXT
    assert refused.value.non_retryable


@pytest.mark.parametrize("update", sorted(CLOSED_ONLY))
def test_closed_only_updates_share_one_validator_that_lets_an_open_conversation_through(
    update: str,
) -> None:
    definition = DEFINITION.updates[update]
    assert definition.validator is not None
    assert definition.validator.__code__ is closed_only(definition.fn).__code__
    for status in (Status.OPEN, Status.WAITING, Status.SOLVED):
        definition.bind_validator(workflow_with(status))(argument_of(update))
