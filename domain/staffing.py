"""Staffing mathematics (SPEC "Service level", Staffing): how many servers a queue's traffic
needs to meet a service-level target, and what a given number of servers would give.

Notation: λ arrivals per second, AHT the average handle time (μ = 1/AHT), A = λ·AHT the load
in Erlangs, N servers (one server is one conversation an agent can hold), t the target in
seconds. Service level is the SPEC's: answered within t / (answered + abandoned after t).

**Erlang C** (M/M/N, nobody abandons), for N > A:
- B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)) (Erlang B, stable: no factorials);
  probability of waiting C = N·B / (N - A·(1 - B));
- service level = 1 - C·exp(-(N - A)·t / AHT); average wait = C·AHT / (N - A); occupancy A/N.
With N <= A the queue grows without bound: no figures.

**Erlang A** (M/M/N+M, patience exponential with mean P, θ = 1/P), any N:
- the number in the system is a birth-death chain: birth λ, death n·μ up to N, then
  N·μ + (n - N)·θ; with x = N·μ/θ and y = λ/θ, π(N+j)/π(N) = Π_{k=1..j} y/(x + k), and the
  states below N add π(N)·(1/B - 1) (Erlang B again);
- an arrival seeing N + j (PASTA) has j ahead; its *virtual wait* (to a server, were it
  patient) is a sum of exponentials of rates θ(x + i), i = 0..j, i.e. -ln(Beta(x, j+1))/θ, so
  P(V > t) = P(NB(x, p) <= j) with p = 1 - e^(-θt) (negative binomial CDF, all terms
  positive); racing its own patience it is answered with probability x / (x + j + 1),
  within t with x / (x + j + 1)·(1 - P(NB(x+1, p) <= j)), and abandons by t with
  1 - e^(-θt)·P(V > t) - (answered within t);
- probability of waiting = Σ_j π(N+j); abandon fraction = Σ_j π(N+j)·(j + 1)/(x + j + 1);
  average wait (of those answered, as time to answer) = E[wait; answered] / P(answered) with
  E[wait | answered, j] = Σ_{i=0..j} 1/(θ(x + i + 1)); occupancy = λ·P(answered)·AHT / N.
As P grows, Erlang A tends to Erlang C; a finite patience never needs more servers.

Agents = ⌈servers ÷ average capacity⌉, then ⌈agents ÷ (1 - shrinkage)⌉.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Sums of the Erlang A chain stop when a term is this small next to the sum (past the mode).
# A chain whose mass lies beyond MAX_TERMS waiting (an overload with a patience long next to
# the time between arrivals) is not computed: no figures, as Erlang C past its load.
EPSILON = 1e-16
MAX_TERMS = 100_000
# A target counts as met within this (so a 100 % target is reachable in floating point).
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Figures:
    """What `servers` servers give. For Erlang C with servers <= load, all but `servers` are
    None (the queue grows without bound); so for Erlang A beyond MAX_TERMS waiting."""

    servers: int
    service_level: float | None
    average_wait_seconds: float | None
    occupancy: float | None
    probability_of_waiting: float | None
    # Erlang A: the fraction of arrivals that abandon (Erlang C: None).
    abandon_fraction: float | None = None

    @property
    def carries_load(self) -> bool:
        return self.service_level is not None


def load_erlangs(arrivals_per_hour: float, handle_seconds: float) -> float:
    return arrivals_per_hour / 3600.0 * handle_seconds


def erlang_c(servers: int, load: float, handle_seconds: float, target_seconds: float) -> Figures:
    if load <= 0:
        return _no_traffic(servers)
    if servers <= load:
        return Figures(servers, None, None, None, None)
    b = _erlang_b(servers, load)
    return _erlang_c_from_b(servers, load, b, handle_seconds, target_seconds)


def _erlang_b(servers: int, load: float) -> float:
    b = 1.0
    for n in range(1, servers + 1):
        b = load * b / (n + load * b)
    return b


def _erlang_c_from_b(n: int, load: float, b: float, handle_seconds: float, target_seconds: float) -> Figures:
    waits = n * b / (n - load * (1 - b))
    return Figures(
        servers=n,
        service_level=1 - waits * math.exp(-(n - load) * target_seconds / handle_seconds),
        average_wait_seconds=waits * handle_seconds / (n - load),
        occupancy=load / n,
        probability_of_waiting=waits,
    )


def _no_traffic(servers: int) -> Figures:
    return Figures(servers, 1.0, 0.0, 0.0, 0.0)


def servers_erlang_c(load: float, handle_seconds: float, target_seconds: float, target: float) -> Figures:
    """The least N > A whose service level reaches `target` (a fraction), with its figures;
    B is carried from one N to the next, so this is O(N)."""
    if load <= 0:
        return _no_traffic(0)
    b = 1.0
    n = 0
    while True:
        n += 1
        b = load * b / (n + load * b)
        if n <= load:
            continue
        figures = _erlang_c_from_b(n, load, b, handle_seconds, target_seconds)
        assert figures.service_level is not None
        if figures.service_level >= target - TOLERANCE:
            return figures


def erlang_a(
    servers: int, load: float, handle_seconds: float, target_seconds: float, patience_seconds: float
) -> Figures:
    if load <= 0:
        return _no_traffic(servers)
    n = servers
    theta = 1.0 / patience_seconds
    mu = 1.0 / handle_seconds
    lam = load * mu
    x = n * mu / theta
    y = lam / theta
    if y - x >= MAX_TERMS:  # the mode of the chain's waiting states, y - x, is beyond reach
        return Figures(n, None, None, None, None)
    # log π(N+j)/π(N) for j = 0, 1, ...: logs, since in an overload they can pass 1e308.
    logs = [0.0]
    log_term, total_max = 0.0, 0.0
    for k in range(1, MAX_TERMS + 1):
        log_term += math.log(y / (x + k))
        logs.append(log_term)
        total_max = max(total_max, log_term)
        if y < x + k and log_term < total_max + math.log(EPSILON):
            break
    else:
        return Figures(n, None, None, None, None)
    inverse_b = 1.0
    for k in range(1, n + 1):
        inverse_b = 1 + inverse_b * k / load
        if math.isinf(inverse_b):
            break
    below = inverse_b - 1  # Σ_{n<N} π(n) / π(N)
    if math.isinf(below):  # nobody ever waits (far more servers than load)
        return Figures(n, 1.0, 0.0, load / n, 0.0, 0.0)
    weights = [math.exp(value - total_max) for value in logs]
    scale = below * math.exp(-total_max) + sum(weights)
    waiting = 0.0
    answered_in_time = 0.0
    abandoned_in_time = 0.0
    abandoned = 0.0
    wait_answered = 0.0
    p = -math.expm1(-theta * target_seconds)
    log_p = math.log(p) if p > 0 else -math.inf
    # Negative binomial CDFs at j, NB(x, p) and NB(x+1, p), accumulated term by term in logs.
    log_nb_x = -x * theta * target_seconds
    log_nb_x1 = -(x + 1) * theta * target_seconds
    cdf_x = cdf_x1 = 0.0
    mean_wait = 0.0  # Σ_{i=0..j} 1/(θ(x+i+1))
    for j, weight in enumerate(weights):
        if j > 0:
            log_nb_x += math.log((x + j - 1) / j) + log_p if x + j - 1 > 0 else -math.inf
            log_nb_x1 += math.log((x + j) / j) + log_p
        cdf_x += math.exp(log_nb_x)
        cdf_x1 += math.exp(log_nb_x1)
        mean_wait += patience_seconds / (x + j + 1)
        share = weight / scale
        served = x / (x + j + 1)
        served_in_time = served * (1 - min(cdf_x1, 1.0))
        waiting += share
        answered_in_time += share * served_in_time
        abandoned += share * (1 - served)
        abandoned_in_time += share * (1 - math.exp(-theta * target_seconds) * min(cdf_x, 1.0) - served_in_time)
        wait_answered += share * served * mean_wait
    answered_at_once = 1 - waiting
    answered = 1 - abandoned
    return Figures(
        servers=n,
        service_level=min(1.0, max(0.0, (answered_at_once + answered_in_time) / (1 - abandoned_in_time))),
        average_wait_seconds=wait_answered / answered if answered > 0 else None,
        occupancy=min(1.0, load * answered / n) if n > 0 else None,
        probability_of_waiting=waiting,
        abandon_fraction=abandoned,
    )


def servers_erlang_a(
    load: float, handle_seconds: float, target_seconds: float, target: float, patience_seconds: float
) -> Figures:
    """The least N whose Erlang A service level reaches `target`, the service level rising
    with N: below Erlang C's answer (abandonment only shortens waits), stepping down 1, 2, 4...
    (near it the chain's sums are short; deep in an overload with a long patience they are
    long), then by bisection."""
    if load <= 0:
        return _no_traffic(0)
    high = servers_erlang_c(load, handle_seconds, target_seconds, target).servers
    best = erlang_a(high, load, handle_seconds, target_seconds, patience_seconds)
    while not _meets(best, target):  # not expected; kept so the answer always meets it
        high += 1
        best = erlang_a(high, load, handle_seconds, target_seconds, patience_seconds)
    step, low = 1, 0  # N = 0 answers nobody
    while high - step > 0:
        figures = erlang_a(high - step, load, handle_seconds, target_seconds, patience_seconds)
        if not _meets(figures, target):
            low = high - step
            break
        high, best = high - step, figures
        step *= 2
    while high - low > 1:
        middle = (low + high) // 2
        figures = erlang_a(middle, load, handle_seconds, target_seconds, patience_seconds)
        if _meets(figures, target):
            high, best = middle, figures
        else:
            low = middle
    return best


def _meets(figures: Figures, target: float) -> bool:
    return figures.service_level is not None and figures.service_level >= target - TOLERANCE


def agents_for(servers: int, capacity: float, shrinkage: float) -> int:
    """⌈servers ÷ capacity⌉, then ⌈that ÷ (1 - shrinkage)⌉ (rounded first, so 14 ÷ 0.7 is 20)."""
    agents = math.ceil(round(servers / capacity, 9))
    return math.ceil(round(agents / (1 - shrinkage), 9))


def servers_of(agents: int, capacity: float) -> int:
    """The servers `agents` agents of that average capacity hold at once."""
    return math.floor(round(agents * capacity, 9))
