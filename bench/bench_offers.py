"""Offers: how fast a queue that makes offers hands out work when agents answer after a while
and some never answer; the time an accept takes, and how soon a lapsed offer goes to the next
agent (issue 23: p99 ≤ 1 s).

Run: .venv/bin/python -m bench.bench_offers [--conversations 120] [--rate 3] [--agents 20]
         [--silent 4] [--delay 0.1 2.0] [--seed 23]
         [--database-url postgresql://postgres@127.0.0.1:5432/test] [--summary FILE]

A sibling of bench_assignment (whose one stack runs six sections over queues without offers):
the same stack (bench/stack.py, as `make run` lays it out), a fresh database, one
LOAD_BALANCING queue with `offerTimeoutSeconds` 5 and `maxMissedOffers` 100 (so nobody is set
AWAY), `--agents` members with room for every conversation. Each agent watches the live event
stream with its own key (`/ccaas/1/events/stream?types=conversation.offered`, as the console
rings): one stream per agent, read by the API's one feed reader every 0.5 s, rather than
20 agents polling `GET /agents/{id}/offers` ten times a second (200 reads a second on a
2-core machine would be most of the load being measured). `--silent` of them never answer;
the others accept their offer after a random delay in `--delay` (seeded) with their own key.
`--conversations` are created open loop at `--rate` a second (below what the answering agents
take, so the lapsed conversation usually finds a free agent: the lapse figure measures
Switchboard, not a shortage of agents), and the run ends when every one is ASSIGNED.

Times are the events' own (`at` of `conversation_events`, the workflow's clock; the same host
clock as this process):
- offers per second: OFFERED events over first to last OFFERED;
- OFFERED → ASSIGNED of the accept (p50, p99), and its parts: OFFERED → seen on the agent's
  stream, the agent's chosen delay, the accept's request;
- OFFER_EXPIRED `at` → the next OFFERED of the same conversation (p50, p99), over every lapse
  and over those when some agent who may take it (who has not let it lapse) had no offer
  pending: the aim (p99 ≤ 1 s) is on these, as only they measure Switchboard (with every
  agent busy with an offer, the wait is for an agent); and the lapse's own lateness
  (OFFER_EXPIRED `at` − its `due_at`).
It checks what offers promise along the way: every lapse is a silent agent's, every accept an
answering agent's, no conversation is offered again to an agent who let it lapse (there are
always others), at most one pending offer per agent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bench import stack, summary
from bench.load import paced, percentile
from domain.models import as_utc, utcnow
from store.db import make_engine, session_scope
from store.tables import ConversationEventRow

C, A = "/ccaas/1/conversations", "/ccaas/1/agents"
STREAM = "/ccaas/1/events/stream"
OFFER_TIMEOUT, MAX_MISSED = 5, 100
KINDS = ("OFFERED", "ASSIGNED", "OFFER_EXPIRED", "OFFER_DECLINED", "OFFER_WITHDRAWN")


@dataclass(frozen=True)
class Event:
    conversation_id: str
    type: str
    at: datetime
    agent_id: str
    due_at: datetime | None


def events(engine: Engine) -> list[Event]:
    """The offers' events and the assignments, oldest first (seq breaks ties in a conversation)."""
    with session_scope(engine) as session:
        rows = session.exec(select(ConversationEventRow).where(col(ConversationEventRow.type).in_(KINDS))
                            .order_by(col(ConversationEventRow.at), col(ConversationEventRow.seq))).all()
        return [Event(row.conversation_id, row.type, as_utc(row.at), row.body.get("agent_id") or "",
                      as_utc(datetime.fromisoformat(row.body["due_at"])) if row.body.get("due_at") else None)
                for row in rows]


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


# ---- the agents


@dataclass
class Agent:
    id: str
    key: str
    answers: bool
    seen: dict[str, datetime] = field(default_factory=dict)  # conversation → when its offer arrived here
    delays: list[float] = field(default_factory=list)  # seconds waited before accepting
    accept_ms: list[float] = field(default_factory=list)  # the accept's request
    refused: list[tuple[str, str]] = field(default_factory=list)  # accepts not answered 200: conversation, why


async def watch(agent: Agent, http: httpx.AsyncClient, rng: random.Random, delay: tuple[float, float],
                ready: asyncio.Event) -> None:
    """The agent's stream of offers (its queue's; it acts on its own), answered or not."""
    headers = {"Authorization": f"App {agent.key}"}
    tasks: set[asyncio.Task[None]] = set()

    async def accept(conversation_id: str, wait: float) -> None:
        await asyncio.sleep(wait)  # the agent reading the offer: the delay is the load's, not a wait for a condition
        began = time.perf_counter()
        answer = await http.post(f"{C}/{conversation_id}/offer/accept", headers=headers)
        agent.accept_ms.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            agent.refused.append((conversation_id, f"{answer.status_code} {answer.text[:160]}"))

    async with http.stream("GET", STREAM, params={"types": "conversation.offered"}, headers=headers) as stream:
        assert stream.status_code == 200, await stream.aread()
        ready.set()
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue  # event:, id:, the pings and the blank line between messages
            data = json.loads(line[5:])["data"]
            if data["event"]["agentId"] != agent.id:
                continue  # another member's offer
            conversation_id = data["conversation"]["id"]
            agent.seen[conversation_id] = utcnow()
            if agent.answers:
                wait = rng.uniform(*delay)
                agent.delays.append(wait)
                task = asyncio.create_task(accept(conversation_id, wait))
                tasks.add(task)
                task.add_done_callback(tasks.discard)


# ---- the run


async def setup(http: httpx.AsyncClient, agents: int, silent: int, capacity: int) -> tuple[str, list[Agent]]:
    made = await http.post("/ccaas/1/queues", json={
        "name": "bench-offers", "isAutoAssignmentEnabled": True, "autoAssignmentAlgorithm": "LOAD_BALANCING",
        "offerTimeoutSeconds": OFFER_TIMEOUT, "maxMissedOffers": MAX_MISSED})
    assert made.status_code == 201, made.text
    queue_id = made.json()["id"]
    team = []
    for i in range(agents):
        made = await http.post(A, json={"displayName": f"agent {i}", "status": "ACTIVE", "role": "AGENT",
                                        "maxConversations": capacity})
        assert made.status_code == 201, made.text
        team.append(Agent(made.json()["id"], made.json()["apiKey"], answers=i >= silent))
        joined = await http.post(f"{A}/{team[-1].id}/queues", json={"queueId": queue_id})
        assert joined.status_code == 200, joined.text
    return queue_id, team


async def until_all_assigned(engine: Engine, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (done := sum(e.type == "ASSIGNED" for e in events(engine))) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {done} of {count} conversations assigned after {timeout:.0f} s")
        await asyncio.sleep(0.5)


@dataclass
class Figures:
    offers: int
    offer_rate: float
    accepted: list[float]  # OFFERED → ASSIGNED, ms
    seen: list[float]  # OFFERED → on the agent's stream, ms
    lapse_to_offer: list[float]  # OFFER_EXPIRED → next OFFERED, ms
    with_one_free: list[float]  # the same, for lapses when an agent who may take it had no offer pending
    lapse_late: list[float]  # OFFER_EXPIRED at − due_at, ms
    counts: dict[str, int]
    problems: list[str]


ENDS_AN_OFFER = ("ASSIGNED", "OFFER_EXPIRED", "OFFER_DECLINED", "OFFER_WITHDRAWN")


def pending_offers(history: list[Event]) -> tuple[dict[str, list[tuple[datetime, datetime]]], list[str]]:
    """Each agent's offers as (offered, ended) spans, an offer ending with its conversation's
    next ASSIGNED, OFFER_EXPIRED, OFFER_DECLINED or OFFER_WITHDRAWN; and every time an agent
    was offered a conversation while another offer to it was pending (at most one, offers promise)."""
    open_: dict[str, tuple[str, datetime]] = {}  # agent → (conversation, offered at)
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    problems = []
    for event in history:
        if event.type == "OFFERED":
            if event.agent_id in open_:
                problems.append(f"{event.agent_id} offered {event.conversation_id} while "
                                f"{open_[event.agent_id][0]} was pending")
            open_[event.agent_id] = (event.conversation_id, event.at)
        elif event.type in ENDS_AN_OFFER and open_.get(event.agent_id, ("",))[0] == event.conversation_id:
            spans[event.agent_id].append((open_.pop(event.agent_id)[1], event.at))
    return spans, problems


def free_at(spans: list[tuple[datetime, datetime]], at: datetime) -> bool:
    return not any(offered <= at < ended for offered, ended in spans)


def figures(history: list[Event], team: list[Agent]) -> Figures:
    answering = {agent.id for agent in team if agent.answers}
    spans, problems = pending_offers(history)
    by_conversation: dict[str, list[Event]] = defaultdict(list)
    for event in history:
        by_conversation[event.conversation_id].append(event)
    accepted, lapse_to_offer, with_one_free, lapse_late = [], [], [], []
    for conversation_id, its in by_conversation.items():
        lapsed_by: set[str] = set()
        for n, event in enumerate(its):
            if event.type == "OFFERED" and event.agent_id in lapsed_by:
                problems.append(f"{conversation_id} offered again to {event.agent_id}, who let it lapse")
            if event.type == "ASSIGNED":
                offer = next((e for e in reversed(its[:n]) if e.type == "OFFERED"), None)
                if offer is None or offer.agent_id != event.agent_id or event.agent_id not in answering:
                    problems.append(f"{conversation_id} ASSIGNED to {event.agent_id} not after its offer")
                else:
                    accepted.append(seconds(event.at, offer.at) * 1000)
            if event.type == "OFFER_EXPIRED":
                lapsed_by.add(event.agent_id)
                if event.agent_id in answering:
                    problems.append(f"{conversation_id} lapsed with answering agent {event.agent_id} "
                                    "(it saw the offer too late: see 'accepts refused')")
                if event.due_at is not None:
                    lapse_late.append(seconds(event.at, event.due_at) * 1000)
                after = next((e for e in its[n + 1:] if e.type == "OFFERED"), None)
                if after is None:
                    problems.append(f"{conversation_id} lapsed at {event.at:%H:%M:%S.%f} and was never offered again")
                    continue
                lapse_to_offer.append(seconds(after.at, event.at) * 1000)
                # Somebody it may go to (who has not let it lapse) was free: the wait is Switchboard's.
                if any(free_at(spans[agent.id], event.at) for agent in team if agent.id not in lapsed_by):
                    with_one_free.append(lapse_to_offer[-1])
    offered = [event for event in history if event.type == "OFFERED"]
    span = seconds(offered[-1].at, offered[0].at)
    seen = [seconds(agent.seen[e.conversation_id], e.at) * 1000 for e in offered
            for agent in team if agent.id == e.agent_id and e.conversation_id in agent.seen]
    counts = {kind: sum(e.type == kind for e in history) for kind in KINDS}
    return Figures(len(offered), (len(offered) - 1) / max(span, 1e-9), accepted, seen, lapse_to_offer,
                   with_one_free, lapse_late, counts, problems)


def ms(values: list[float], q: float) -> float:
    """A percentile, NaN for no values (no aim is met by it)."""
    return percentile(values, q) if values else float("nan")


def ms_row(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:<46} {0:>6} {'-':>8} {'-':>8} {'-':>8}"
    return (f"{label:<46} {len(values):>6} {percentile(values, 0.5):>8.0f} {percentile(values, 0.99):>8.0f} "
            f"{max(values):>8.0f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=120, help="created open loop at --rate")
    parser.add_argument("--rate", type=float, default=3.0, help="conversations created a second")
    parser.add_argument("--agents", type=int, default=20, help="members of the queue")
    parser.add_argument("--silent", type=int, default=4, help="of them, agents that never answer")
    parser.add_argument("--delay", type=float, nargs=2, default=(0.1, 2.0), metavar=("MIN", "MAX"),
                        help="seconds an answering agent waits before accepting (uniform, seeded)")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to use (a fresh schema, dropped after); default SQLite")
    summary.add_argument(parser)
    args = parser.parse_args()
    if not 0 < args.silent < args.agents:
        parser.error("--silent must leave at least one answering agent, and be at least 1 (no lapses otherwise)")
    if not 0 <= args.delay[0] <= args.delay[1] < OFFER_TIMEOUT - 1:
        parser.error(f"--delay must be MIN <= MAX < {OFFER_TIMEOUT - 1} s (an accept must come before the lapse)")
    kind = "PostgreSQL" if args.database_url else "SQLite"
    rng = random.Random(args.seed)
    delay: tuple[float, float] = (args.delay[0], args.delay[1])

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        async with stack.temporal() as env, contextlib.AsyncExitStack() as running:
            url = running.enter_context(stack.fresh_database(args.database_url, home))
            setup_stack = await running.enter_async_context(stack.switchboard(stack.address_of(env), url, home))
            engine = make_engine(url)
            running.callback(engine.dispose)
            queue_id, team = await setup(setup_stack.http, args.agents, args.silent, args.conversations)
            # The agents' own connections: a stream each, and their accepts.
            agents_http = await running.enter_async_context(httpx.AsyncClient(
                base_url=setup_stack.base_url, timeout=60,
                limits=httpx.Limits(max_connections=4 * args.agents, keepalive_expiry=stack.KEEPALIVE)))
            readies = [asyncio.Event() for _ in team]
            watchers = [asyncio.create_task(watch(agent, agents_http, random.Random(rng.random()),
                                                  delay, ready))
                        for agent, ready in zip(team, readies, strict=True)]
            await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), timeout=30)
            load_before = os.getloadavg()
            began = time.perf_counter()

            async def create() -> None:
                made = await setup_stack.http.post(C, json={"channel": "SMS", "queueId": queue_id})
                # 503 "accepted but not routed in time": an overloaded worker places it later.
                assert made.status_code == 201 or "accepted but not routed in time" in made.text, made.text

            creates = await paced("create", args.conversations, args.rate, create)
            await until_all_assigned(engine, args.conversations, timeout=120)
            elapsed = time.perf_counter() - began
            for watcher in watchers:
                watcher.cancel()
            failed = [w.exception() for w in watchers if w.done() and not w.cancelled() and w.exception()]
            history = events(engine)
            load_after = os.getloadavg()

    found = figures(history, team)
    refused = [reason for agent in team for reason in agent.refused]
    answering = [agent for agent in team if agent.answers]
    print(f"{args.agents} agents ({args.silent} never answer, the others accept after "
          f"{args.delay[0]:g}-{args.delay[1]:g} s, seed {args.seed}) in one LOAD_BALANCING queue, "
          f"offerTimeoutSeconds {OFFER_TIMEOUT}, maxMissedOffers {MAX_MISSED}; {kind}; one worker, one API "
          f"process, one Temporal dev server; agents watch their streams")
    print(f"{args.conversations} conversations created at {args.rate:g}/s (achieved {creates.rate:.1f}/s, "
          f"p50 {creates.percentile(0.5):.0f} ms a create); all assigned {elapsed:.1f} s after the first create; "
          f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} cores\n")
    print("events: " + ", ".join(f"{n} {kind}" for kind, n in found.counts.items()))
    lapses = Counter(e.conversation_id for e in history if e.type == "OFFER_EXPIRED")
    print(f"offers per second (first to last OFFERED): {found.offer_rate:.1f}; conversations by lapses "
          f"before their accept: " + ", ".join(f"{times}: {n}" for times, n in sorted(Counter(
              lapses[c] for c in {e.conversation_id for e in history}).items())) + "\n")
    print(f"{'(ms)':<46} {'count':>6} {'p50':>8} {'p99':>8} {'max':>8}")
    print(ms_row("OFFERED → ASSIGNED (the accept)", found.accepted))
    print(ms_row("  OFFERED → on the agent's stream", found.seen))
    print(ms_row("  the agent's delay", [d * 1000 for agent in answering for d in agent.delays]))
    print(ms_row("  the accept's request", [ms for agent in answering for ms in agent.accept_ms]))
    print(ms_row("OFFER_EXPIRED → next OFFERED, same conversation", found.lapse_to_offer))
    print(ms_row("  those with an agent who may take it free", found.with_one_free))
    print(ms_row("OFFER_EXPIRED at − its due_at", found.lapse_late))
    print(f"\naccepts refused: {len(refused)}")
    for conversation_id, why in refused[:5]:
        print(f"  {conversation_id}: {why}; its events (agent: a = answering, s = silent, then the id's start):")
        for e in history:
            if e.conversation_id == conversation_id:
                who = "a" if e.agent_id in {a.id for a in answering} else "s"
                print(f"    {e.at:%H:%M:%S.%f} {e.type:<16} {who} {e.agent_id[:8]}")
    print(f"watchers that failed: {len(failed)}" + (f" ({failed[0]!r})" if failed else ""))
    print(f"problems: {len(found.problems)}" + "".join(f"\n  {p}" for p in found.problems[:20]))
    summary.report("bench_offers", [
        summary.Row(f"offers per s, {args.conversations} at {args.rate:g}/s, {args.silent}/{args.agents} silent",
                    found.offer_rate, "/s"),
        summary.Row(f"OFFERED→ASSIGNED (accept) p50, agents wait {delay[0]:g}-{delay[1]:g} s",
                    ms(found.accepted, 0.5), "ms"),
        summary.Row("OFFERED→ASSIGNED (accept) p99", ms(found.accepted, 0.99), "ms"),
        summary.Row("OFFER_EXPIRED→next OFFERED p50, an agent free", ms(found.with_one_free, 0.5), "ms"),
        summary.Row(f"OFFER_EXPIRED→next OFFERED p99, an agent free ({len(found.with_one_free)})",
                    ms(found.with_one_free, 0.99), "ms", aim=summary.at_most(1000, "ms")),
        summary.Row(f"OFFER_EXPIRED→next OFFERED p99, all lapses ({len(found.lapse_to_offer)})",
                    ms(found.lapse_to_offer, 0.99), "ms"),
    ], args.summary)


if __name__ == "__main__":
    asyncio.run(main())
    # The SDK's native threads can abort interpreter teardown (temporalio/sdk-python#300).
    sys.stdout.flush()
    os._exit(0)
