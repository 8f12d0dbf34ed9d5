"""Auto-assignment's claim in SQL: who holds which conversation, and what capacity counts.

`assignments` has one row per conversation an agent holds, so a conversation never has two
agents (its key) and an agent's load is a count. Auto-assignment (`claim`) decides one queue
at a time, holding the queue's row and its candidate agents' rows (PostgreSQL: FOR UPDATE,
agents in id order so two queues' claims never deadlock; SQLite: one writer at a time), and
counts loads after taking those locks: whatever runs at once, in whatever process, it never
claims more for an agent than its capacity. Each conversation goes only to a candidate holding
its required skills not yet relaxed (as its row last heard from its workflow), and one nobody
may take is passed over, keeping its place, so it never holds back those behind it. The
conversation's workflow then records the claim (or refuses it); the projection keeps HELD rows
in step with what the workflow recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from domain.assignment import DEFAULT_STICKY_DAYS, Candidate, choose, may_take
from domain.conversation import ConversationState, PassedOver
from domain.models import AgentStatus, Status, as_utc
from domain.skills import RequiredSkill
from store.agents import agent_queue_ids
from store.db import INSERTS, session_scope, take_write_lock
from store.skills import levels_of
from store.tables import AgentQueueRow, AgentRow, AssignmentRow, ConversationRow, QueueRow
from store.working_hours import working_hours_of_queue

CLAIMED = "CLAIMED"
# A pending offer to an agent (SPEC "Offers"): it counts against the agent's capacity.
OFFERED = "OFFERED"
HELD = "HELD"
# The statuses in which a conversation counts against its agent.
HOLDING = (Status.OPEN.value, Status.WAITING.value)
# Conversations one claim takes at most, and reads at once: a pass holds its locks briefly;
# the next goes on.
CLAIM_BATCH = 100
ASSIGNMENTS = AssignmentRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claim:
    claim_id: str
    conversation_id: str
    agent_id: str
    queue_id: str
    reason: str
    at: datetime  # when it was made
    # Its queue makes offers: the agent is offered it for this long (None: assigned directly).
    offer_timeout_seconds: int | None = None


def _waiting(queue_id: str | None = None) -> Any:
    """Open, unassigned conversations no agent holds or has claimed for it."""
    held = exists().where(col(AssignmentRow.conversation_id) == ConversationRow.id)
    conditions = [
        col(ConversationRow.status).in_(HOLDING),
        col(ConversationRow.agent_id).is_(None),
        ~held,
    ]
    if queue_id is not None:
        conditions.append(col(ConversationRow.queue_id) == queue_id)
    return conditions


# Waiting order: the most urgent first, then the longest in the queue.
WAITING_ORDER = (
    col(ConversationRow.priority_rank).desc(),
    func.coalesce(col(ConversationRow.queued_at), col(ConversationRow.created_at)).asc(),
    col(ConversationRow.id).asc(),
)


def _auto_assigning() -> list[Any]:
    # A queue with a bot hands its conversations to the bot, not to agents.
    return [
        col(QueueRow.is_auto_assignment_enabled),
        col(QueueRow.deleted_at).is_(None),
        col(QueueRow.bot_id).is_(None),
    ]


def queues_to_dispatch(session: Session, among: Collection[str] | None = None) -> list[str]:
    """Auto-assigning queues with a conversation waiting, and open: outside its working hours
    a queue's assignment pauses, unless it assigns outside them too
    (`isAutoAssignmentOutsideOfWorkingHoursEnabled`). Open is the hours' stored status,
    which the working-hours clock turns at each opening and closing (a durable timer, see
    workflows/working_hours_clock.py) and each save decides at once. `among`: only these.

    Asked per queue (is one waiting?), which the waiting index answers at its first entry,
    not by listing the queues of every waiting conversation."""
    if among is not None and not among:
        return []
    waiting = exists().where(col(ConversationRow.queue_id) == QueueRow.id, *_waiting())
    query = select(QueueRow).where(*_auto_assigning(), waiting)
    if among is not None:
        query = query.where(col(QueueRow.id).in_(among))
    queues = session.exec(query).all()
    return [queue.id for queue in queues if _assigns_now(session, queue)]


# Each enabled ACTIVE agent with each auto-assigning queue it is a member of; built once, as
# every dispatcher pass asks it.
_ACTIVE_MEMBERSHIPS = (
    select(AgentQueueRow.queue_id, AgentRow)
    .join(AgentRow, col(AgentRow.id) == AgentQueueRow.agent_id)
    .join(QueueRow, col(QueueRow.id) == AgentQueueRow.queue_id)
    .where(*_auto_assigning(), col(AgentRow.enabled), AgentRow.status == AgentStatus.ACTIVE.value)
)


def queues_with_room(session: Session, default_capacity: int) -> set[str]:
    """Auto-assigning queues with an enabled ACTIVE member that has room, read without locks:
    the cheap question a dispatcher's pass asks first (agents are few, conversations many),
    so a pass while nobody could take one reads no conversations at all."""
    members = session.exec(_ACTIVE_MEMBERSHIPS).all()
    loads = loads_of(session, list({agent.id for _, agent in members}))
    return {
        queue_id for queue_id, agent in members
        if loads.get(agent.id, 0) < capacity_of(agent, default_capacity)
    }


def _assigns_now(session: Session, queue: QueueRow) -> bool:
    if queue.is_auto_assignment_outside_of_working_hours_enabled:
        return True
    hours = working_hours_of_queue(session, queue)
    return hours is None or hours.is_open


def _active_members(queue_id: str) -> Any:
    """The queue's enabled ACTIVE members, with when each joined: eligible but for room."""
    return (
        select(AgentRow, AgentQueueRow.created_at)
        .join(AgentQueueRow, col(AgentQueueRow.agent_id) == AgentRow.id)
        .where(AgentQueueRow.queue_id == queue_id, col(AgentRow.enabled), AgentRow.status == AgentStatus.ACTIVE.value)
    )


def claim(session: Session, queue_id: str, now: datetime, default_capacity: int) -> list[Claim]:
    """Claims the queue's waiting conversations, in waiting order, for eligible agents by the
    queue's algorithm, as CLAIMED rows (at most CLAIM_BATCH). A conversation no candidate with
    room may take (a skill none of them holds) is passed over and the next looked at; once no
    candidate has room at all, it stops."""
    take_write_lock(session)
    queue = session.exec(
        select(QueueRow).where(QueueRow.id == queue_id, *_auto_assigning()).with_for_update()
    ).first()
    if queue is None:
        return []
    waiting = _waiting_page(session, queue_id, after=None)
    if not waiting:
        return []
    last_order = place_in_queue(session, queue_id, queue.last_assigned_agent_id)
    members = session.exec(
        _active_members(queue_id).order_by(col(AgentRow.id)).with_for_update(of=AgentRow)
    ).all()
    # Counted after the locks: a claim for another queue that took one of these agents has
    # committed by now, and its rows are seen.
    loads = loads_of(session, [agent.id for agent, _ in members])
    levels = levels_of(session, [agent.id for agent, _ in members])
    agents = {agent.id: agent for agent, _ in members}
    candidates = {
        agent.id: Candidate(
            agent_id=agent.id,
            load=loads.get(agent.id, 0),
            capacity=capacity_of(agent, default_capacity),
            last_assigned_at=as_utc(agent.last_assigned_at) if agent.last_assigned_at else None,
            order=order_in_queue(joined, agent.id),
            levels=levels.get(agent.id, {}),
        )
        for agent, joined in members
    }
    # Where the queue makes offers, an agent has one pending (or being told) at a time.
    makes_offers = queue.offer_timeout_seconds is not None
    offering = offering_agents(session, list(candidates)) if makes_offers else set()
    claims: list[Claim] = []
    # Page after page only while conversations are passed over: a page's worth of them that
    # nobody qualifies for must not hide those behind.
    while waiting:
        for conversation in waiting:
            if len(claims) >= CLAIM_BATCH or not any(c.has_room for c in candidates.values()):
                session.add(queue)
                return claims
            required = required_of(conversation)
            pool = list(candidates.values())
            if makes_offers:
                pool = _to_offer(conversation, pool, required, offering)
            if not any(may_take(candidate, required) for candidate in pool):
                continue  # it keeps its place; the sticky look-up is spared
            sticky = (
                sticky_agent(session, conversation, now - timedelta(
                    days=queue.sticky_agent_timeout_days or DEFAULT_STICKY_DAYS))
                if queue.is_sticky_auto_assignment_enabled else None
            )
            choice = choose(
                queue.auto_assignment_algorithm, pool,
                required=required, last_order=last_order, sticky_agent_id=sticky,
            )
            if choice is None:
                continue
            made = Claim(str(uuid.uuid4()), conversation.id, choice.agent_id, queue_id, choice.reason, now,
                         queue.offer_timeout_seconds)
            inserted = session.exec(
                INSERTS[session.get_bind().dialect.name](ASSIGNMENTS).values(
                    conversation_id=made.conversation_id, agent_id=made.agent_id,
                    queue_id=queue_id, state=CLAIMED, claim_id=made.claim_id, reason=made.reason,
                    at=now,
                ).on_conflict_do_nothing()
            )
            if inserted.rowcount == 0:
                continue  # assigned by hand meanwhile: its projection holds it
            claims.append(made)
            if makes_offers:
                offering.add(choice.agent_id)
            chosen = candidates[choice.agent_id]
            candidates[choice.agent_id] = replace(chosen, load=chosen.load + 1, last_assigned_at=now)
            agents[choice.agent_id].last_assigned_at = now
            session.add(agents[choice.agent_id])
            queue.last_assigned_agent_id = choice.agent_id
            last_order = chosen.order
        waiting = _waiting_page(session, queue_id, after=waiting[-1]) if len(waiting) == CLAIM_BATCH else []
    session.add(queue)
    return claims


def pending_offers(session: Session, agent_id: str) -> list[AssignmentRow]:
    """The agent's pending offers, oldest first (at most one: see `offering_agents`)."""
    return list(session.exec(select(AssignmentRow).where(
        AssignmentRow.agent_id == agent_id, AssignmentRow.state == OFFERED).order_by(col(AssignmentRow.at))).all())


def offers_lapsing(session: Session, after: datetime, until: datetime) -> list[tuple[str, datetime]]:
    """(conversation, moment) of each pending offer that lapses after `after`, by `until`."""
    rows = session.exec(select(AssignmentRow.conversation_id, AssignmentRow.expires_at).where(
        AssignmentRow.state == OFFERED, col(AssignmentRow.expires_at) > after,
        col(AssignmentRow.expires_at) <= until)).all()
    return [(conversation_id, as_utc(expires_at)) for conversation_id, expires_at in rows if expires_at is not None]


def offering_agents(session: Session, agent_ids: list[str]) -> set[str]:
    """Agents with an offer pending, or a claim not yet told (it may become one)."""
    if not agent_ids:
        return set()
    return set(session.exec(select(AssignmentRow.agent_id).where(
        col(AssignmentRow.agent_id).in_(agent_ids), col(AssignmentRow.state).in_((OFFERED, CLAIMED)))).all())


def _to_offer(conversation: ConversationRow, pool: list[Candidate], required: list[RequiredSkill],
              offering: set[str]) -> list[Candidate]:
    """Who may be offered it now: of those who may take it, the ones who have not declined it
    or let it lapse during this stay; if every one has, the one who did longest ago. An
    agent busy with another offer still counts as one who has not (the conversation waits for
    it rather than going back to one who passed), but is not offered a second."""
    passed = {entry.agent_id: entry.at for entry in passed_over_of(conversation)}
    able = [candidate for candidate in pool if may_take(candidate, required)]
    fresh = [candidate for candidate in able if candidate.agent_id not in passed]
    if not fresh and able:
        fresh = [min(able, key=lambda candidate: passed[candidate.agent_id])]
    return [candidate for candidate in fresh if candidate.agent_id not in offering]


def passed_over_of(conversation: ConversationRow) -> list[PassedOver]:
    return [PassedOver.model_validate(entry) for entry in conversation.passed_over or []]


def _waiting_page(session: Session, queue_id: str, after: ConversationRow | None) -> list[ConversationRow]:
    """The queue's next CLAIM_BATCH waiting conversations in waiting order, after `after`
    (read before this claim's own claims, which take theirs out of the waiting)."""
    query = select(ConversationRow).where(*_waiting(queue_id))
    if after is not None:
        rank, since = after.priority_rank, after.queued_at or after.created_at
        waited_since = func.coalesce(col(ConversationRow.queued_at), col(ConversationRow.created_at))
        query = query.where(or_(
            col(ConversationRow.priority_rank) < rank,
            and_(col(ConversationRow.priority_rank) == rank, or_(
                waited_since > since,
                and_(waited_since == since, col(ConversationRow.id) > after.id),
            )),
        ))
    return list(session.exec(query.order_by(*WAITING_ORDER).limit(CLAIM_BATCH)).all())


def required_of(conversation: ConversationRow) -> list[RequiredSkill]:
    """The skills the conversation needs, relaxed or not, as its row holds them."""
    return [RequiredSkill.model_validate(required) for required in conversation.required_skills or []]


def order_in_queue(joined: datetime, agent_id: str) -> tuple[str, ...]:
    """An agent's place in its queue's stable order (round robin): when it joined, its id."""
    return (as_utc(joined).isoformat(), agent_id)


def place_in_queue(session: Session, queue_id: str, agent_id: str | None) -> tuple[str, ...] | None:
    """The agent's place in the queue's stable order, or None (no agent, or no longer a member)."""
    if agent_id is None:
        return None
    joined = session.exec(
        select(AgentQueueRow.created_at).where(
            AgentQueueRow.queue_id == queue_id, AgentQueueRow.agent_id == agent_id)
    ).first()
    return order_in_queue(joined, agent_id) if joined is not None else None


def capacity_of(agent: AgentRow, default_capacity: int) -> int:
    return agent.max_conversations if agent.max_conversations is not None else default_capacity


def loads_of(session: Session, agent_ids: list[str]) -> dict[str, int]:
    """How many conversations each agent holds or has claimed for it."""
    if not agent_ids:
        return {}
    rows = session.exec(
        select(AssignmentRow.agent_id, func.count())
        .where(col(AssignmentRow.agent_id).in_(agent_ids))
        .group_by(col(AssignmentRow.agent_id))
    ).all()
    return {agent_id: count for agent_id, count in rows}


def sticky_agent(session: Session, conversation: ConversationRow, since: datetime) -> str | None:
    """The agent who last had a conversation of the same customer (the person, else the
    sender's address) since `since`."""
    if conversation.customer_id is not None:
        same_customer = ConversationRow.customer_id == conversation.customer_id
    elif conversation.from_ is not None:
        same_customer = ConversationRow.from_ == conversation.from_
    else:
        return None
    return session.exec(
        select(ConversationRow.agent_id)
        .where(same_customer, ConversationRow.id != conversation.id,
               col(ConversationRow.agent_id).is_not(None), ConversationRow.updated_at >= since)
        .order_by(col(ConversationRow.updated_at).desc())
        .limit(1)
    ).first()


def stale_claims(session: Session, claimed_before: datetime) -> list[Claim]:
    """Claims not yet settled: their teller may have died before the workflow heard them."""
    rows = session.exec(
        select(AssignmentRow, QueueRow.offer_timeout_seconds)
        .outerjoin(QueueRow, col(QueueRow.id) == AssignmentRow.queue_id)
        .where(AssignmentRow.state == CLAIMED, AssignmentRow.at < claimed_before)
    ).all()
    # Told again as its queue asks now: an offer if the queue makes offers by then.
    return [
        Claim(row.claim_id or "", row.conversation_id, row.agent_id, row.queue_id or "", row.reason or "",
              as_utc(row.at), timeout)
        for row, timeout in rows
    ]


@dataclass(frozen=True)
class Withdrawal:
    """A pending offer its agent can no longer take, and why: the workflow takes it back."""

    conversation_id: str
    agent_id: str
    reason: str
    key: str  # one per offer: the withdrawal's update id, so it is applied once


def offers_to_withdraw(session: Session) -> list[Withdrawal]:
    """Pending offers to an agent no longer ACTIVE, disabled, or no longer a member of the
    queue, or in a queue that no longer makes offers (SPEC "Offers": withdrawn, no miss)."""
    rows = session.exec(
        select(AssignmentRow, AgentRow, QueueRow, AgentQueueRow.agent_id)
        .join(AgentRow, col(AgentRow.id) == AssignmentRow.agent_id)
        .outerjoin(QueueRow, col(QueueRow.id) == AssignmentRow.queue_id)
        .outerjoin(AgentQueueRow, and_(col(AgentQueueRow.agent_id) == AssignmentRow.agent_id,
                                       col(AgentQueueRow.queue_id) == AssignmentRow.queue_id))
        .where(AssignmentRow.state == OFFERED)
    ).all()
    withdrawals = []
    for offer, agent, queue, member in rows:
        reason = (
            "agent disabled" if not agent.enabled
            else f"agent {agent.status}" if agent.status != AgentStatus.ACTIVE.value
            else "agent left the queue" if member is None
            else "queue makes no offers" if queue is None or queue.deleted_at is not None
            or queue.offer_timeout_seconds is None
            else None
        )
        if reason is not None:
            key = f"withdraw-{offer.conversation_id}-{as_utc(offer.at).isoformat()}"
            withdrawals.append(Withdrawal(offer.conversation_id, offer.agent_id, reason, key))
    return withdrawals


def withdraw(session: Session, claim: Claim) -> None:
    """The workflow refused the claim: the agent's slot is free again."""
    session.exec(delete(AssignmentRow).where(
        col(AssignmentRow.conversation_id) == claim.conversation_id,
        col(AssignmentRow.claim_id) == claim.claim_id,
        col(AssignmentRow.state) == CLAIMED,
    ))


def keep_in_step(session: Session, state: ConversationState) -> None:
    """The projection's part: the conversation's hold as its workflow recorded it. A CLAIMED
    row the workflow has not answered yet stays; one it accepted becomes HELD, or OFFERED
    while its agent has yet to answer the offer."""
    insert = INSERTS[session.get_bind().dialect.name](ASSIGNMENTS)
    if state.agent_id is not None and state.status.value in HOLDING:
        session.exec(insert.values(
            conversation_id=state.id, agent_id=state.agent_id, queue_id=state.queue_id,
            state=HELD, at=state.updated_at,
        ).on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={"agent_id": state.agent_id, "queue_id": state.queue_id, "state": HELD, "expires_at": None},
        ))
    elif state.offer is not None:
        offer = state.offer
        held = {"agent_id": offer.agent_id, "queue_id": offer.queue_id, "state": OFFERED, "reason": offer.reason,
                "at": offer.offered_at, "expires_at": offer.expires_at}
        session.exec(insert.values(conversation_id=state.id, **held).on_conflict_do_update(
            index_elements=["conversation_id"], set_=held))
    else:
        session.exec(delete(AssignmentRow).where(
            col(AssignmentRow.conversation_id) == state.id, col(AssignmentRow.state).in_((HELD, OFFERED))
        ))


def _positions_statement() -> Any:
    """For the conversation ids bound as `ids`, those waiting and how many of their queue's
    waiting conversations are ahead of them in WAITING_ORDER."""
    conversations = ConversationRow.__table__  # type: ignore[attr-defined]
    asked, ahead = conversations.alias("asked"), conversations.alias("ahead")

    def waiting(row: Any) -> list[Any]:
        return [
            row.c.status.in_(HOLDING), row.c.agent_id.is_(None),
            ~exists().where(ASSIGNMENTS.c.conversation_id == row.c.id),
        ]

    asked_since = func.coalesce(asked.c.queued_at, asked.c.created_at)
    ahead_since = func.coalesce(ahead.c.queued_at, ahead.c.created_at)
    count_ahead = select(func.count()).where(
        ahead.c.queue_id == asked.c.queue_id, *waiting(ahead),
        # More urgent, else waiting since earlier, else a lower id.
        or_(
            ahead.c.priority_rank > asked.c.priority_rank,
            and_(ahead.c.priority_rank == asked.c.priority_rank, or_(
                ahead_since < asked_since,
                and_(ahead_since == asked_since, ahead.c.id < asked.c.id),
            )),
        ),
    ).scalar_subquery()
    return select(asked.c.id, count_ahead).where(
        asked.c.id.in_(bindparam("ids", expanding=True)), asked.c.queue_id.is_not(None), *waiting(asked),
    )


# Built once: building it is most of the cost of a read of one conversation.
POSITIONS = _positions_statement()


def queue_positions(session: Session, conversation_ids: list[str]) -> dict[str, int]:
    """Each waiting conversation's 1-based place in its queue's waiting order (one claimed
    for an agent has none, as an assigned one); the others are left out.

    One more than the waiting conversations of its queue ahead of it, counted for the asked
    ones only: ranking every waiting conversation of every queue (a window function) made a
    read of one conversation a sort of the whole backlog."""
    if not conversation_ids:
        return {}
    rows = session.connection().execute(POSITIONS, {"ids": conversation_ids}).all()
    return {conversation_id: int(before) + 1 for conversation_id, before in rows}


def member_counts(session: Session, queue_id: str, default_capacity: int) -> tuple[int, int]:
    """The queue's enabled ACTIVE members, and how many of them could take one more now."""
    members = [agent for agent, _ in session.exec(_active_members(queue_id)).all()]
    loads = loads_of(session, [agent.id for agent in members])
    return len(members), sum(1 for agent in members if loads.get(agent.id, 0) < capacity_of(agent, default_capacity))


@dataclass(frozen=True)
class ByHand:
    """What an assignment by hand is decided on, read in one transaction."""

    conversation: ConversationRow | None
    agent: AgentRow | None  # the one to assign, if named
    load: int  # how many conversations that agent holds or has claimed for it
    member_of: list[str]  # the queues of the agent asking, if an agent asks


def by_hand(
    engine: Engine, conversation_id: str, agent_id: str | None, asking_agent_id: str | None
) -> ByHand:
    with session_scope(engine) as session:
        return ByHand(
            conversation=session.get(ConversationRow, conversation_id),
            agent=session.get(AgentRow, agent_id) if agent_id is not None else None,
            load=loads_of(session, [agent_id]).get(agent_id, 0) if agent_id else 0,
            member_of=agent_queue_ids(session, asking_agent_id) if asking_agent_id is not None else [],
        )
