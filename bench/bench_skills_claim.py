"""Skill-aware assignment: what `store.assignment.claim` costs when every waiting conversation
requires skills, against the same claim over the same backlog requiring none, in one run.

Run: .venv/bin/python -m bench.bench_skills_claim [--agents 50] [--skills 10] [--backlog 1000]
         [--untakeable 100] [--rounds 5] [--seed 23]
         [--database-url postgresql://postgres@127.0.0.1:5432/test] [--summary FILE]

No Temporal, no HTTP: the claim as the dispatcher calls it, in this process, on a fresh
database (SQLite in a temporary folder by default; with `--database-url`, a fresh PostgreSQL
schema dropped after), as bench_assignment's baseline measures the bare claim.

Two LOAD_BALANCING queues with the same `--agents` members, each agent with room for the
whole backlog (capacity never decides) and holding a random 3 to 7 of `--skills` skill names
at random levels 1..5 (seeded). Each queue gets `--backlog` waiting conversations written
as projection rows, the same conversations in the same order in both:
- "skills": each requires 1 to 3 of the names at min levels 1..3; the first `--untakeable`
  (the head of the queue: the longest waiting) require what no agent holds together (levels
  up to 5), so every claim passes over them and reads on page by page; a body conversation
  whose random requirements nobody meets happens to be passed over too;
- "none": the same conversations requiring nothing.
Each round claims one queue until a claim returns nothing (one transaction per claim, as the
dispatcher's pass), then the other (the order alternates by round); each drain's claims are
deleted after it, so every drain starts from the same backlog and loads. The claimed count is checked against
what domain.skills says some agent may take.

What it prints: per round and queue, conversations claimed, claims made, seconds, claims per
second, ms per claimed conversation (wall clock, and this process's CPU: SQLite's work but for its
disk waits, PostgreSQL's client side only) and the round's ratio (skills / none, in ms per claimed
conversation: the cost of the passed-over ones is in it); then the round whose ratio is the
median (the lower one of an even count): the summary row, aim ≤ 2 (issue 23). Paired by round,
as the two drains of a round run back to back, so whatever else the shared machine runs
weighs on both alike; each way's best round is printed too.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from bench import stack, summary
from domain.conversation import ConversationState
from domain.models import utcnow
from domain.skills import MAX_LEVEL, RequiredSkill, why_not
from store import assignment
from store.bootstrap import bootstrap
from store.conversations import apply_projection
from store.db import make_engine, session_scope
from store.tables import AgentQueueRow, AgentRow, AgentSkillRow, AssignmentRow, QueueRow

SKILLS, NONE = "skills", "none"


@dataclass(frozen=True)
class Backlog:
    queues: dict[str, str]  # SKILLS / NONE to the queue's id
    requirements: list[list[RequiredSkill]]  # each conversation's, in waiting order
    takeable: int  # of them, how many some agent may take


def agent_levels(rng: random.Random, agents: int, names: list[str]) -> list[dict[str, int]]:
    """Each agent's skills: a random 3 to 7 of the names (fewer if there are fewer), levels 1..5."""
    return [
        {name: rng.randint(1, MAX_LEVEL) for name in rng.sample(names, min(len(names), rng.randint(3, 7)))}
        for _ in range(agents)
    ]


def requirement(rng: random.Random, names: list[str], top_level: int, at: datetime) -> list[RequiredSkill]:
    return [RequiredSkill(name=name, min_level=rng.randint(1, top_level), set_at=at)
            for name in rng.sample(names, rng.randint(1, min(3, len(names))))]


def takeable(levels: list[dict[str, int]], required: list[RequiredSkill]) -> bool:
    return any(why_not(held, required) is None for held in levels)


def requirements(rng: random.Random, levels: list[dict[str, int]], names: list[str], backlog: int,
                 untakeable: int, at: datetime) -> list[list[RequiredSkill]]:
    """`untakeable` requirements no agent meets, then the rest drawn at min levels 1..3."""
    head: list[list[RequiredSkill]] = []
    for _ in range(100_000 * max(untakeable, 1)):
        if len(head) == untakeable:
            break
        drawn = requirement(rng, names, MAX_LEVEL, at)
        if not takeable(levels, drawn):
            head.append(drawn)
    else:
        raise SystemExit(f"drew only {len(head)} of {untakeable} requirements nobody meets: "
                         "too few skills or too many agents")
    return head + [requirement(rng, names, 3, at) for _ in range(backlog - untakeable)]


def setup(engine: Engine, args: argparse.Namespace) -> Backlog:
    rng = random.Random(args.seed)
    names = [f"skill-{n}" for n in range(args.skills)]
    levels = agent_levels(rng, args.agents, names)
    now = utcnow()
    required = requirements(rng, levels, names, args.backlog, args.untakeable, now)
    bootstrap(engine)
    queues = {kind: str(uuid.uuid4()) for kind in (SKILLS, NONE)}
    with session_scope(engine) as session:
        for kind, queue_id in queues.items():
            session.add(QueueRow(id=queue_id, name=f"bench-{kind}", is_auto_assignment_enabled=True,
                                 auto_assignment_algorithm="LOAD_BALANCING", created_at=now, updated_at=now))
    with session_scope(engine) as session:
        for i, held in enumerate(levels):
            agent = AgentRow(id=str(uuid.uuid4()), display_name=f"agent {i}", role="AGENT", status="ACTIVE",
                             max_conversations=args.backlog, created_at=now, updated_at=now)
            session.add(agent)
            for queue_id in queues.values():
                session.add(AgentQueueRow(agent_id=agent.id, queue_id=queue_id, created_at=now))
            for name, level in held.items():
                session.add(AgentSkillRow(agent_id=agent.id, name=name, level=level))
    with session_scope(engine) as session:
        for kind, queue_id in queues.items():
            for n, needs in enumerate(required):
                at = now + timedelta(milliseconds=n)  # waiting order: the untakeable head first
                state = ConversationState(id=str(uuid.uuid4()), created_request_id="bench", queue_id=queue_id,
                                          queued_at=at, created_at=at, updated_at=at, last_seq=1,
                                          required_skills=needs if kind == SKILLS else [])
                apply_projection(session, state, [])
    return Backlog(queues, required, sum(takeable(levels, needs) for needs in required))


def drain(engine: Engine, queue_id: str) -> dict[str, float]:
    """Claims the queue's waiting conversations until a claim takes none, one transaction each."""
    claimed, claims = 0, 0
    began, cpu = time.perf_counter(), time.process_time()
    while True:
        with session_scope(engine) as session:
            got = len(assignment.claim(session, queue_id, utcnow(), default_capacity=5))
        claims += 1
        claimed += got
        if not got:
            break
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"claimed": claimed, "seconds": elapsed, "claims": claims, "rate": claimed / elapsed,
            "ms": elapsed * 1000 / max(claimed, 1), "cpu ms": cpu * 1000 / max(claimed, 1)}


def forget_claims(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.exec(delete(AssignmentRow))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--skills", type=int, default=10, help="skill names agents hold and conversations require")
    parser.add_argument("--backlog", type=int, default=1000, help="waiting conversations in each queue")
    parser.add_argument("--untakeable", type=int, default=100,
                        help="of the backlog, at its head, conversations no agent may take")
    parser.add_argument("--rounds", type=int, default=5, help="drains of each queue, alternating")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to use (a fresh schema, dropped after); default SQLite")
    summary.add_argument(parser)
    args = parser.parse_args()
    if not 0 <= args.untakeable < args.backlog:
        parser.error("--untakeable must be at least 0 and less than --backlog")
    if args.skills < 3:
        parser.error("--skills must be at least 3 (agents hold 3 to 7)")
    kind = "PostgreSQL" if args.database_url else "SQLite"

    runs: dict[str, list[dict[str, float]]] = {SKILLS: [], NONE: []}
    with tempfile.TemporaryDirectory() as folder, stack.fresh_database(args.database_url, Path(folder)) as url:
        engine = make_engine(url)
        try:
            built = time.perf_counter()
            backlog = setup(engine, args)
            built = time.perf_counter() - built
            for n in range(args.rounds):
                for which in (SKILLS, NONE) if n % 2 == 0 else (NONE, SKILLS):
                    runs[which].append(drain(engine, backlog.queues[which]))
                    forget_claims(engine)
        finally:
            engine.dispose()

    for which, expected in ((SKILLS, backlog.takeable), (NONE, args.backlog)):
        wrong = [run["claimed"] for run in runs[which] if run["claimed"] != expected]
        assert not wrong, f"{which}: claimed {wrong}, {expected} expected"
    print(f"{args.agents} agents holding 3-7 of {args.skills} skills (levels 1-5, seed {args.seed}), room for all; "
          f"one LOAD_BALANCING queue each way; {kind}; set up in {built:.1f} s")
    print(f"backlog {args.backlog}: each requires 1-3 skills; {args.backlog - backlog.takeable} nobody may take "
          f"({args.untakeable} at the head), {backlog.takeable} takeable\n")
    print(f"{'round':<6} {'requires':<9} {'claimed':>8} {'claims':>7} {'seconds':>8} {'per s':>8} {'ms each':>8}"
          f" {'CPU ms':>7} {'ratio':>6}")
    for n in range(args.rounds):
        for which in (SKILLS, NONE):
            run = runs[which][n]
            ratio = f"{run['ms'] / runs[NONE][n]['ms']:>6.2f}" if which == SKILLS else ""
            print(f"{n + 1:<6} {which:<9} {run['claimed']:>8.0f} {run['claims']:>7.0f} {run['seconds']:>8.2f} "
                  f"{run['rate']:>8.1f} {run['ms']:>8.3f} {run['cpu ms']:>7.3f} {ratio}")
    best = {which: min(runs[which], key=lambda run: run["ms"]) for which in runs}
    pairs = list(zip(runs[SKILLS], runs[NONE], strict=True))
    ratios = [skills["ms"] / none["ms"] for skills, none in pairs]
    cpu_ratios = [skills["cpu ms"] / none["cpu ms"] for skills, none in pairs]
    middle = ratios.index(statistics.median_low(ratios))
    median = {which: runs[which][middle] for which in runs}
    print(f"\nthe median round ({middle + 1}), ms per claimed conversation: skills {median[SKILLS]['ms']:.3f}, "
          f"none {median[NONE]['ms']:.3f}, ratio {ratios[middle]:.2f} (claims per s: skills "
          f"{median[SKILLS]['rate']:.0f}, none {median[NONE]['rate']:.0f}); CPU ratio, median of the rounds "
          f"{statistics.median(cpu_ratios):.2f}; each way's best round: skills {best[SKILLS]['ms']:.3f}, "
          f"none {best[NONE]['ms']:.3f}, ratio {best[SKILLS]['ms'] / best[NONE]['ms']:.2f}")
    summary.report("bench_skills_claim", [
        summary.Row(f"claim per conversation, {args.agents} agents, {args.skills} skills, vs none",
                    median[SKILLS]["ms"], "ms", median[NONE]["ms"], summary.ratio_at_most(2)),
    ], args.summary)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
