"""Staffing mathematics (domain.staffing): the published Erlang C case, Erlang A against Erlang
C and against its own identities, and the rounding of agents."""

from __future__ import annotations

import math
import time

import pytest

from domain.staffing import (
    agents_for,
    erlang_a,
    erlang_c,
    load_erlangs,
    servers_erlang_a,
    servers_erlang_c,
    servers_of,
)

# The textbook case: 200 contacts an hour (100 in 30 min), 180 s handle time, 80 % in 20 s.
LOAD = load_erlangs(200, 180)


def test_the_published_case() -> None:
    assert pytest.approx(10.0) == LOAD
    needed = servers_erlang_c(LOAD, 180, 20, 0.8)
    assert needed.servers == 14
    assert agents_for(needed.servers, 1, 0) == 14
    assert round(needed.service_level or 0, 3) == 0.888
    assert round(needed.occupancy or 0, 3) == 0.714
    assert round(needed.probability_of_waiting or 0, 3) == 0.174
    assert round(needed.average_wait_seconds or 0, 1) == 7.8
    # One fewer misses the target: 14 is the least.
    assert (erlang_c(13, LOAD, 180, 20).service_level or 0) < 0.8


def test_erlang_c_without_room_has_no_figures() -> None:
    for servers in (0, 9, 10):
        figures = erlang_c(servers, LOAD, 180, 20)
        assert not figures.carries_load
        assert figures.average_wait_seconds is None


def test_no_traffic_needs_nobody() -> None:
    assert servers_erlang_c(0.0, 180, 20, 0.8).servers == 0
    assert servers_erlang_a(0.0, 180, 20, 0.8, 60).servers == 0
    assert agents_for(0, 2.5, 0.3) == 0
    idle = erlang_c(3, 0.0, 180, 20)
    assert (idle.service_level, idle.average_wait_seconds, idle.occupancy) == (1.0, 0.0, 0.0)


def test_capacity_and_shrinkage_round_up() -> None:
    assert agents_for(14, 2, 0) == 7
    assert agents_for(15, 2, 0) == 8
    assert agents_for(14, 1, 0.3) == 20  # 14 / 0.7 is 20, not 21 by floating point
    assert agents_for(15, 1, 0.3) == 22
    assert agents_for(14, 1.5, 0.3) == 15  # ⌈9.33⌉ = 10, then ⌈14.29⌉
    assert servers_of(7, 2) == 14
    assert servers_of(3, 1.5) == 4


def test_a_large_load_is_fast_and_finite() -> None:
    started = time.monotonic()
    needed = servers_erlang_c(1000.0, 180, 20, 0.8)
    patient = servers_erlang_a(1000.0, 180, 20, 0.8, 120)
    assert time.monotonic() - started < 2
    assert 1000 < needed.servers < 1050
    assert patient.servers <= needed.servers
    for figures in (needed, patient):
        assert all(math.isfinite(value) for value in (
            figures.service_level, figures.average_wait_seconds, figures.occupancy,
            figures.probability_of_waiting) if value is not None)
    # Far more servers than load: nobody waits (Erlang B underflows, no overflow).
    assert erlang_a(5000, 10.0, 180, 20, 60).probability_of_waiting == 0.0


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    c = erlang_c(14, LOAD, 180, 20)
    far: list[float] = []
    for patience in (1e3, 1e5, 1e7):
        a = erlang_a(14, LOAD, 180, 20, patience)
        far.append(abs((a.service_level or 0) - (c.service_level or 0)))
        assert a.abandon_fraction is not None and a.abandon_fraction < 10 / patience
    assert far == sorted(far, reverse=True)
    a = erlang_a(14, LOAD, 180, 20, 1e7)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
    assert a.average_wait_seconds == pytest.approx(c.average_wait_seconds, abs=1e-3)
    assert a.probability_of_waiting == pytest.approx(c.probability_of_waiting, abs=1e-5)


def test_a_finite_patience_lets_fewer_agents_meet_the_target() -> None:
    impatient = servers_erlang_a(LOAD, 180, 20, 0.8, 60)
    assert impatient.servers < 14
    assert (impatient.service_level or 0) >= 0.8
    fewer = erlang_a(impatient.servers - 1, LOAD, 180, 20, 60)
    assert (fewer.service_level or 0) < 0.8
    # The needed servers never exceed Erlang C's and rise with patience.
    needed = [servers_erlang_a(LOAD, 180, 20, 0.8, p).servers for p in (30, 60, 180, 600, 1e6)]
    assert needed == sorted(needed) and needed[-1] == 14


def test_erlang_a_agrees_with_littles_law_and_a_simulation() -> None:
    """Abandonment = θ·E[queue] / λ (each waiting customer leaves at rate θ), computed here
    from the chain independently of the module; service level against a seeded simulation
    of M/M/11+M (300,000 arrivals: 0.858)."""
    servers, patience = 11, 60.0
    figures = erlang_a(servers, LOAD, 180, 20, patience)
    lam, mu, theta = LOAD / 180, 1 / 180, 1 / patience
    weights = [1.0]
    for n in range(1, 400):
        weights.append(weights[-1] * lam / (min(n, servers) * mu + max(0, n - servers) * theta))
    total = sum(weights)
    queue = sum((n - servers) * w for n, w in enumerate(weights) if n > servers) / total
    assert figures.abandon_fraction == pytest.approx(theta * queue / lam, rel=1e-9)
    assert figures.probability_of_waiting == pytest.approx(sum(weights[servers:]) / total, rel=1e-9)
    assert figures.service_level == pytest.approx(0.858, abs=0.003)
    assert figures.average_wait_seconds == pytest.approx(5.26, abs=0.1)
