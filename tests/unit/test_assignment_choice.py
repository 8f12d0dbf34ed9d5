"""Which eligible agent gets a waiting conversation (domain.assignment), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.assignment import (
    LOAD_BALANCING,
    PERFORMANCE_BASED,
    REASON_CANDIDATES,
    ROUND_ROBIN,
    Candidate,
    choose,
    ranked,
)
from domain.skills import RequiredSkill

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def agent(agent_id: str, load: int = 0, capacity: int = 5, last: datetime | None = None,
          joined: int = 0, **levels: int) -> Candidate:
    return Candidate(agent_id, load, capacity, last, (f"{joined:04d}", agent_id), levels)


SPANISH = [RequiredSkill(name="es", min_level=2)]


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


def test_without_requirements_reasons_read_as_before_skills_whatever_the_agents_hold():
    # Recorded histories and their tests carry these reasons byte for byte.
    team = [agent("a", 1, 4, es=5), agent("b", 2, 4, billing=1)]
    assert choose(LOAD_BALANCING, team).reason == "LOAD_BALANCING: lowest load; load 1/4; candidates: a 1/4, b 2/4"
    assert choose(PERFORMANCE_BASED, team).reason == (
        "PERFORMANCE_BASED (balanced by load): lowest load; load 1/4; candidates: a 1/4, b 2/4")
    assert choose(ROUND_ROBIN, team).reason == (
        "ROUND_ROBIN: next after the last assigned; load 1/4; candidates: a 1/4, b 2/4")
    assert choose(LOAD_BALANCING, team, sticky_agent_id="b").reason == "sticky: last had this customer; load 2/4"


def test_an_agent_lacking_an_unrelaxed_skill_or_its_level_is_no_candidate():
    team = [agent("none", 0), agent("low", 0, es=1), agent("fluent", 4, es=2)]
    chosen = choose(LOAD_BALANCING, team, required=SPANISH)
    assert chosen is not None and chosen.agent_id == "fluent"
    assert chosen.reason == "LOAD_BALANCING: lowest load; load 4/5; skills es 2; candidates: fluent 4/5 score 2"
    # Room but nobody qualified: nothing, as with nobody with room.
    assert choose(LOAD_BALANCING, team[:2], required=SPANISH) is None
    assert choose(ROUND_ROBIN, team[:2], required=SPANISH) is None
    assert choose(PERFORMANCE_BASED, [agent("full", 5, es=5)], required=SPANISH) is None


def test_a_relaxed_requirement_no_longer_restricts_but_still_scores():
    relaxed = [RequiredSkill(name="es", min_level=2, relaxed=True), RequiredSkill(name="billing")]
    team = [agent("billing-only", 1, billing=1), agent("both", 1, es=1, billing=2), agent("neither", 0)]
    chosen = choose(LOAD_BALANCING, team, required=relaxed)
    # Equal load: the higher score (es 1 + billing 2) wins although es 1 is below the relaxed 2.
    assert chosen is not None and chosen.agent_id == "both"
    assert chosen.reason == ("LOAD_BALANCING: lowest load; load 1/5; skills es 1, billing 2; "
                             "candidates: billing-only 1/5 score 1, both 1/5 score 3")
    everything_relaxed = [RequiredSkill(name="es", relaxed=True)]
    anyone = choose(LOAD_BALANCING, [agent("neither", 0), agent("es", 1, es=3)], required=everything_relaxed)
    assert anyone is not None and anyone.agent_id == "neither"
    assert "; skills none; " in anyone.reason


def test_load_balancing_goes_by_load_then_score_then_the_oldest_assignment():
    old, recent = T0, T0 + timedelta(minutes=5)
    required = [RequiredSkill(name="es")]
    lighter = [agent("light", 0, es=1), agent("expert", 1, es=5)]
    assert choose(LOAD_BALANCING, lighter, required=required).agent_id == "light"
    tied = [agent("a", 1, last=old, es=1), agent("b", 1, last=recent, es=2), agent("c", 1, last=old, es=2)]
    assert choose(LOAD_BALANCING, tied, required=required).agent_id == "c"


def test_performance_based_goes_by_score_then_load_and_names_the_skills():
    required = [RequiredSkill(name="es"), RequiredSkill(name="billing")]
    team = [agent("light", 0, es=1, billing=1), agent("expert", 3, es=5, billing=4),
            agent("expert-light", 2, es=5, billing=4)]
    chosen = choose(PERFORMANCE_BASED, team, required=required)
    assert chosen is not None and chosen.agent_id == "expert-light"
    assert chosen.reason.startswith(
        "PERFORMANCE_BASED: highest score; score 9; load 2/5; skills es 5, billing 4; candidates: light 0/5 score 2, ")
    # Without requirements every score is 0: it balances load, as before skills.
    assert choose(PERFORMANCE_BASED, team).agent_id == "light"


def test_round_robin_turns_among_the_eligible_only():
    team = [agent("a", joined=1, es=2), agent("b", joined=2), agent("c", joined=3, es=3)]
    after_a = choose(ROUND_ROBIN, team, required=SPANISH, last_order=team[0].order)
    assert after_a is not None and after_a.agent_id == "c"
    assert after_a.reason == ("ROUND_ROBIN: next after the last assigned; load 0/5; skills es 3; "
                              "candidates: a 0/5 score 2, c 0/5 score 3")
    # The last assigned was b, who does not qualify: the turn still goes on after it.
    assert choose(ROUND_ROBIN, team, required=SPANISH, last_order=team[1].order).agent_id == "c"
    assert choose(ROUND_ROBIN, team, required=SPANISH, last_order=team[2].order).agent_id == "a"


def test_the_sticky_agent_only_if_it_qualifies():
    team = [agent("a", 0, es=2), agent("sticky", 0, es=1)]
    chosen = choose(LOAD_BALANCING, team, required=SPANISH, sticky_agent_id="sticky")
    assert chosen is not None and chosen.agent_id == "a" and chosen.reason.startswith("LOAD_BALANCING")
    team[1] = agent("sticky", 3, es=4)
    chosen = choose(LOAD_BALANCING, team, required=SPANISH, sticky_agent_id="sticky")
    assert chosen is not None and chosen.reason == "sticky: last had this customer; load 3/5; skills es 4"


def test_ranked_lists_who_may_take_it_in_the_order_the_algorithm_prefers():
    team = [agent("busy-expert", 3, es=5), agent("idle", 0, es=2), agent("none", 0), agent("mid", 1, es=3)]
    assert [c.agent_id for c in ranked(LOAD_BALANCING, team, required=SPANISH)] == ["idle", "mid", "busy-expert"]
    assert [c.agent_id for c in ranked(PERFORMANCE_BASED, team, required=SPANISH)] == ["busy-expert", "mid", "idle"]
    rotation = [agent("a", joined=1, es=2), agent("b", joined=2, es=2), agent("c", joined=3, es=2)]
    assert [c.agent_id for c in ranked(ROUND_ROBIN, rotation, required=SPANISH, last_order=rotation[0].order)] == [
        "b", "c", "a"]
    # Each first is whom choose takes.
    for algorithm in (LOAD_BALANCING, PERFORMANCE_BASED):
        chosen = choose(algorithm, team, required=SPANISH)
        assert chosen is not None and ranked(algorithm, team, required=SPANISH)[0].agent_id == chosen.agent_id
