"""Which eligible agent gets a waiting conversation (domain.assignment), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.assignment import LOAD_BALANCING, PERFORMANCE_BASED, REASON_CANDIDATES, ROUND_ROBIN, Candidate, choose

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def agent(agent_id: str, load: int = 0, capacity: int = 5, last: datetime | None = None,
          joined: int = 0) -> Candidate:
    return Candidate(agent_id, load, capacity, last, (f"{joined:04d}", agent_id))


def test_nobody_with_room_gets_nothing():
    assert choose(LOAD_BALANCING, [agent("a", 5), agent("b", 2, capacity=2)]) is None
    assert choose(ROUND_ROBIN, []) is None
    assert choose(LOAD_BALANCING, [agent("zero", 0, capacity=0)]) is None


def test_load_balancing_takes_the_lowest_load_ratio_and_names_the_candidates():
    chosen = choose(LOAD_BALANCING, [agent("a", 2, 4), agent("b", 2, 10), agent("c", 0, 1)])
    assert chosen is not None and chosen.agent_id == "c"
    assert chosen.reason.startswith("LOAD_BALANCING: lowest load; load 0/1; candidates: ")
    assert "a 2/4" in chosen.reason and "b 2/10" in chosen.reason


def test_load_balancing_ties_go_to_the_longest_unassigned_never_assigned_first():
    old, recent = T0, T0 + timedelta(minutes=5)
    assert choose(None, [agent("a", 1, last=recent), agent("b", 1, last=old)]).agent_id == "b"
    assert choose(None, [agent("a", 1, last=old), agent("b", 1)]).agent_id == "b"


def test_performance_based_balances_load_and_says_so():
    chosen = choose(PERFORMANCE_BASED, [agent("a", 3), agent("b", 1)])
    assert chosen is not None and chosen.agent_id == "b"
    assert chosen.reason.startswith("PERFORMANCE_BASED (balanced by load): lowest load")


def test_round_robin_goes_on_after_the_last_assigned_in_a_stable_order_and_wraps():
    team = [agent("c", joined=3), agent("a", joined=1), agent("b", joined=2)]
    assert choose(ROUND_ROBIN, team).agent_id == "a"
    assert choose(ROUND_ROBIN, team, last_order=team[1].order).agent_id == "b"
    assert choose(ROUND_ROBIN, team, last_order=team[0].order).agent_id == "a"
    # The last one gone AWAY (no candidate now): its turn still counts.
    assert choose(ROUND_ROBIN, [team[0], team[1]], last_order=team[2].order).agent_id == "c"
    # A full agent is passed over, and the turn is still counted from the last one.
    team[2] = agent("b", 5, joined=2)
    chosen = choose(ROUND_ROBIN, team, last_order=team[1].order)
    assert chosen is not None and chosen.agent_id == "c"
    assert chosen.reason.startswith("ROUND_ROBIN: next after the last assigned; load 0/5")


def test_sticky_agent_first_if_it_has_room_else_the_pool():
    team = [agent("a", 0), agent("b", 4)]
    sticky = choose(LOAD_BALANCING, team, sticky_agent_id="b")
    assert sticky is not None and sticky.agent_id == "b" and sticky.reason.startswith("sticky")
    team[1] = agent("b", 5)
    fallback = choose(LOAD_BALANCING, team, sticky_agent_id="b")
    assert fallback is not None and fallback.agent_id == "a" and fallback.reason.startswith("LOAD_BALANCING")
    # A sticky agent who is not a candidate at all (AWAY, left the queue) is no candidate.
    assert choose(ROUND_ROBIN, team, sticky_agent_id="gone").agent_id == "a"


def test_a_reason_names_a_bounded_number_of_candidates():
    team = [agent(f"agent-{n:03d}") for n in range(REASON_CANDIDATES + 7)]
    chosen = choose(LOAD_BALANCING, team)
    assert chosen is not None and chosen.reason.endswith("and 7 more")
