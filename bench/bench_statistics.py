"""A queue's statistics, staffing and service level today over a busy hour: issue 24's aims,
the statistics endpoint over 100,000 conversations in the window in under 200 ms p99 on
PostgreSQL, staffing under 50 ms, against the same reads of a queue with a tenth of them.

Run: .venv/bin/python -m bench.bench_statistics [--conversations 100000] [--baseline N]
         [--agents 50] [--requests 50] [--seed 24] [--database-url URL | --sqlite] [--summary FILE]

PostgreSQL by default: the server at --database-url, else SWITCHBOARD_BENCH_DATABASE_URL,
else postgresql://postgres@127.0.0.1:5432/test, in a fresh schema dropped after (`--sqlite`:
a file in a temporary folder). No Temporal: the tables are filled directly, as the projection
writes them (store.conversations.apply_projection's rows, in bulk; the stays' rows by
store.stays.rebuild, the replay the migration backfills with), and the three reads never
reach a workflow, so the app is built without a client. Requests go through httpx's ASGI
transport to switchboard.composition.api_app in this process, with the supervisor's key.

Two queues, each with the same `--agents` members (ACTIVE, room for 5): "busy" with
`--conversations` conversations and "baseline" with `--baseline` (default a tenth), created
uniformly over the last hour (seeded). Each timeline starts with a ROUTED into its queue; then,
by a seeded draw (domain.stays reads these, store.statistics fetches them):
- 55% assigned 0-120 s later, SOLVED (STATUS_CHANGED carrying the status) 1-10 min after,
  CLOSED 0-2 min after that, with an agent's reply 5-60 s after the assignment;
- 15% offered first: one offer in five lapses (OFFER_EXPIRED, then offered again), the
  accept is an ASSIGNED carrying expires_at; then as above;
- 10% abandoned: CLOSED unassigned 10-300 s after entering;
- 20% waiting, unassigned.
Events past now are cut off, leaving the conversation where its timeline stops (an assigned
open one holds an assignment row). Each conversation records an entry wait estimate.

What it prints: the fill's size and time, then per endpoint and queue p50 and p99 (nearest
rank) of `--requests` sequential GETs (after one warm-up each, busy and baseline alternating,
so whatever else the machine runs weighs on both alike), the ratio busy / baseline at p99, and
the aims met or not. Summary rows: statistics and staffing p99 (aims 200 ms and 50 ms),
service level today p99 (no aim), each with the baseline queue's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from temporalio.client import Client

from bench import stack, summary
from domain.conversation import ConversationEvent, EventType
from domain.messages import AuthorType, Direction
from domain.models import SYSTEM_ACTOR, Priority, Status, utcnow
from store.bootstrap import bootstrap
from store.db import make_engine, session_scope
from store.stays import rebuild
from store.tables import (
    AgentQueueRow,
    AgentRow,
    AssignmentRow,
    ConversationEventRow,
    ConversationRow,
    MessageRow,
    QueueRow,
)
from switchboard.composition import api_app
from switchboard.settings import Settings

TEST_URL = "postgresql://postgres@127.0.0.1:5432/test"
BUSY, BASELINE = "busy", "baseline"
ENDPOINTS = {  # name: (path under the queue, aim in ms at p99 or None)
    "statistics": ("statistics", 200.0),
    "staffing": ("staffing", 50.0),
    "service level today": ("service-level-today", None),
}
BATCH = 5000  # rows per INSERT
AGENT_CAPACITY = 5
# These reads never reach a workflow: the app keeps the client without using it.
NO_TEMPORAL = cast(Client, None)


@dataclass
class Fill:
    """Rows for the tables, written in batches."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)


def event(seq: int, type_: EventType, at: datetime, **fields: Any) -> dict[str, Any]:
    """A timeline event's row as the projection writes it (its body the whole event)."""
    body = ConversationEvent(seq=seq, type=type_, at=at, actor=SYSTEM_ACTOR, **fields).model_dump(mode="json")
    return {"seq": seq, "type": type_.value, "at": at, "body": body}


def timeline(rng: random.Random, queue_id: str, agents: list[str],
             created: datetime) -> tuple[list[dict[str, Any]], str | None, datetime | None]:
    """One conversation's events (possibly past now: the caller cuts them), the agent who
    answers it (None if none does) and when its agent replies."""
    events = [event(1, EventType.ROUTED, created, to_queue_id=queue_id, priority=Priority.NORMAL)]
    draw = rng.random()
    if draw >= 0.80:  # waiting
        return events, None, None
    at = created
    if draw >= 0.70:  # abandoned
        events.append(event(2, EventType.CLOSED, at + timedelta(seconds=rng.uniform(10, 300)),
                            status=Status.CLOSED))
        return events, None, None
    agent = rng.choice(agents)
    at += timedelta(seconds=rng.uniform(0, 120))
    if draw >= 0.55:  # offered first, maybe twice
        if rng.random() < 0.2:
            lapses = at + timedelta(seconds=30)
            events.append(event(len(events) + 1, EventType.OFFERED, at, agent_id=rng.choice(agents),
                                expires_at=lapses))
            events.append(event(len(events) + 1, EventType.OFFER_EXPIRED, lapses, due_at=lapses))
            at = lapses
        expires = at + timedelta(seconds=30)
        events.append(event(len(events) + 1, EventType.OFFERED, at, agent_id=agent, expires_at=expires))
        at += timedelta(seconds=rng.uniform(1, 25))
        events.append(event(len(events) + 1, EventType.ASSIGNED, at, agent_id=agent, expires_at=expires))
    else:
        events.append(event(len(events) + 1, EventType.ASSIGNED, at, agent_id=agent))
    replied = at + timedelta(seconds=rng.uniform(5, 60))
    at += timedelta(seconds=rng.uniform(60, 600))
    events.append(event(len(events) + 1, EventType.STATUS_CHANGED, at, reason="SOLVED", status=Status.SOLVED))
    at += timedelta(seconds=rng.uniform(0, 120))
    events.append(event(len(events) + 1, EventType.CLOSED, at, status=Status.CLOSED))
    return events, agent, replied


def conversations(rng: random.Random, queue_id: str, agents: list[str], count: int,
                  now: datetime) -> Iterator[Fill]:
    """`count` conversations created over the last hour, in fills of about BATCH events."""
    fill = Fill()
    for _ in range(count):
        conversation_id = str(uuid.uuid4())
        created = now - timedelta(seconds=rng.uniform(0, 3600))
        events, agent, replied = timeline(rng, queue_id, agents, created)
        events = [e for e in events if e["at"] <= now]
        types = [e["type"] for e in events]
        closed = events[-1]["at"] if types[-1] == EventType.CLOSED.value else None
        solved = EventType.STATUS_CHANGED.value in types
        holding = agent if EventType.ASSIGNED.value in types and not solved and closed is None else None
        status = Status.CLOSED if closed else Status.SOLVED if solved else Status.OPEN
        fill.conversations.append(dict(
            id=conversation_id, status=status.value, priority=Priority.NORMAL.value,
            priority_rank=Priority.NORMAL.rank, queue_id=queue_id, agent_id=holding, channel="LIVE_CHAT",
            tags=[], queued_at=created,
            last_seq=events[-1]["seq"], created_at=created, updated_at=events[-1]["at"], closed_at=closed,
        ))
        fill.events.extend({"conversation_id": conversation_id, **e} for e in events)
        if holding is not None:
            fill.assignments.append(dict(conversation_id=conversation_id, agent_id=holding, queue_id=queue_id,
                                         state="HELD", at=events[-1]["at"]))
        if agent is not None and replied is not None and replied <= now:
            fill.messages.append(dict(
                id=str(uuid.uuid4()), conversation_id=conversation_id, direction=Direction.OUTBOUND.value,
                author_type=AuthorType.AGENT.value, author_id=agent, channel="LIVE_CHAT", from_="us",
                to="them", content_type="TEXT", content={"text": "hello"}, recorded_at=replied,
                created_at=replied, updated_at=replied,
            ))
        if len(fill.events) >= BATCH:
            yield fill
            fill = Fill()
    yield fill


def setup(engine: Engine, args: argparse.Namespace) -> tuple[str, dict[str, str], dict[str, int]]:
    """The supervisor's key, the two queues' ids and how many events each has."""
    key = bootstrap(engine)
    assert key is not None, "a fresh database gives a new key"
    rng = random.Random(args.seed)
    now = utcnow()
    queues = {BUSY: str(uuid.uuid4()), BASELINE: str(uuid.uuid4())}
    agents = [str(uuid.uuid4()) for _ in range(args.agents)]
    with session_scope(engine) as session:
        for name, queue_id in queues.items():
            session.add(QueueRow(id=queue_id, name=f"bench-{name}", created_at=now, updated_at=now,
                                 service_level_target_seconds=60, service_level_target_percent=80))
        for n, agent_id in enumerate(agents):
            session.add(AgentRow(id=agent_id, display_name=f"agent {n}", role="AGENT", status="ACTIVE",
                                 max_conversations=AGENT_CAPACITY, created_at=now, updated_at=now))
    with session_scope(engine) as session:
        for agent_id in agents:
            for queue_id in queues.values():
                session.add(AgentQueueRow(agent_id=agent_id, queue_id=queue_id, created_at=now))
    counts = {BUSY: args.conversations, BASELINE: args.baseline}
    events: dict[str, int] = {}
    for name, queue_id in queues.items():
        events[name] = 0
        for fill in conversations(rng, queue_id, agents, counts[name], now):
            with session_scope(engine) as session:
                for table, rows in ((ConversationRow, fill.conversations), (ConversationEventRow, fill.events),
                                    (MessageRow, fill.messages), (AssignmentRow, fill.assignments)):
                    if rows:
                        session.execute(insert(table), rows)
                # The stays as the projection would have written them (the migration's replay).
                rebuild(session.connection(), [row["id"] for row in fill.conversations])
            events[name] += len(fill.events)
    # The planner's statistics, as autovacuum would gather them after such a fill (it is off
    # on some machines, this one included): without them it plans for empty tables.
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return key, queues, events


def nearest_rank(ordered: list[float], share: float) -> float:
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


async def timed(api: httpx.AsyncClient, queues: dict[str, str], path: str, requests: int,
                answers: dict[str, Any]) -> dict[str, list[float]]:
    """Milliseconds of each GET, busy and baseline alternating, after a warm-up of each; the
    busy queue's last answer in `answers` by path."""
    samples: dict[str, list[float]] = {name: [] for name in queues}
    for n in range(requests + 1):
        for name in (BUSY, BASELINE) if n % 2 == 0 else (BASELINE, BUSY):
            url = f"/ccaas/1/queues/{queues[name]}/{path}"
            began = time.perf_counter()
            response = await api.get(url)
            elapsed = (time.perf_counter() - began) * 1000
            assert response.status_code == 200, (url, response.status_code, response.text[:500])
            if n:
                samples[name].append(elapsed)
            if name == BUSY:
                answers[path] = response.json()
    return {name: sorted(values) for name, values in samples.items()}


async def measure(engine: Engine, database_url: str, key: str, queues: dict[str, str], requests: int,
                  answers: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    settings = Settings.from_env({"SWITCHBOARD_DATABASE_URL": database_url})
    app = api_app(settings, engine, NO_TEMPORAL)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                 headers={"Authorization": f"App {key}"}, timeout=600) as api:
        return {name: await timed(api, queues, path, requests, answers) for name, (path, _) in ENDPOINTS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000, help="the busy queue's, over the last hour")
    parser.add_argument("--baseline", type=int, default=None,
                        help="the baseline queue's conversations (default a tenth of --conversations)")
    parser.add_argument("--agents", type=int, default=50, help="members of each queue")
    parser.add_argument("--requests", type=int, default=50, help="timed GETs per endpoint and queue")
    parser.add_argument("--seed", type=int, default=24)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", default=None,
                       help="PostgreSQL server (a fresh schema, dropped after); default "
                            f"SWITCHBOARD_BENCH_DATABASE_URL, else {TEST_URL}")
    where.add_argument("--sqlite", action="store_true", help="a SQLite file in a temporary folder instead")
    summary.add_argument(parser)
    args = parser.parse_args()
    if args.baseline is None:
        args.baseline = max(args.conversations // 10, 1)
    if args.conversations < 1 or args.baseline < 1 or args.agents < 1 or args.requests < 1:
        parser.error("--conversations, --baseline, --agents and --requests must be at least 1")
    base_url = None if args.sqlite else (
        args.database_url or os.environ.get("SWITCHBOARD_BENCH_DATABASE_URL") or TEST_URL)
    kind = "SQLite" if base_url is None else "PostgreSQL"

    with tempfile.TemporaryDirectory() as folder, stack.fresh_database(base_url, Path(folder)) as url:
        engine = make_engine(url)
        try:
            built = time.perf_counter()
            key, queues, events = setup(engine, args)
            built = time.perf_counter() - built
            print(f"{kind}; {args.agents} agents in both queues; filled in {built:.1f} s: "
                  f"busy {args.conversations:,} conversations ({events[BUSY]:,} events), "
                  f"baseline {args.baseline:,} ({events[BASELINE]:,} events), all created in the last hour")
            sys.stdout.flush()
            answers: dict[str, Any] = {}
            samples = asyncio.run(measure(engine, url, key, queues, args.requests, answers))
        finally:
            engine.dispose()

    # What the busy queue's answers say: the fill is read as the timelines were drawn.
    figures = answers["statistics"]
    shown = ("staysEntered", "staysAnswered", "staysAbandoned", "firstAgentReplies", "serviceLevel")
    print("busy queue's statistics: " + ", ".join(f"{name} {figures.get(name)}" for name in shown)
          + f", offers {figures.get('offers')}")
    assert figures.get("staysEntered") and figures.get("staysAnswered"), "the window's stays are not read"

    print(f"\n{args.requests} sequential GETs per endpoint and queue, in process (ms, p99 nearest rank)")
    print(f"{'endpoint':<20} {'busy p50':>9} {'p99':>9} {'baseline p50':>13} {'p99':>9} {'ratio':>6}  "
          f"{'aim (busy p99)':<15} met")
    rows: list[summary.Row] = []
    for name, (_, aim) in ENDPOINTS.items():
        busy, base = samples[name][BUSY], samples[name][BASELINE]
        p99, base_p99 = nearest_rank(busy, 0.99), nearest_rank(base, 0.99)
        met = "-" if aim is None else "yes" if p99 <= aim else "NO"
        print(f"{name:<20} {nearest_rank(busy, 0.5):>9.1f} {p99:>9.1f} {nearest_rank(base, 0.5):>13.1f} "
              f"{base_p99:>9.1f} {p99 / base_p99:>6.2f}  {'-' if aim is None else f'<= {aim:g} ms':<15} {met}")
        rows.append(summary.Row(
            f"{name} p99, {args.conversations:,} in the hour, vs {args.baseline:,} ({kind})", p99, "ms",
            base_p99, None if aim is None else summary.at_most(aim, "ms")))
    summary.report("bench_statistics", rows, args.summary)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
