"""The delivery rules that need no I/O: the schedule, what an answer means, Retry-After, and
which URLs and addresses a webhook may use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.conversation import EventType
from domain.events_out import (
    EVENT_TYPES,
    MAX_RETRY_AFTER,
    Outcome,
    conversation_event_type,
    next_attempt,
    outcome_of,
    parse_retry_after,
    parse_retry_schedule,
)
from domain.webhook_urls import address_problem, name_problem, url_problem

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SCHEDULE = parse_retry_schedule("5s,5m,30m")


def test_every_timeline_event_has_a_dotted_lower_case_type() -> None:
    assert conversation_event_type(EventType.BOT_STARTED) == "conversation.bot_started"
    expected = {"conversation.created", "conversation.closed", "message.created", "agent.status_changed"}
    assert expected <= set(EVENT_TYPES)
    assert len(EVENT_TYPES) == len(EventType) + 2


def test_the_default_schedule_is_the_specs() -> None:
    assert parse_retry_schedule("5s,5m,30m,2h,5h,10h,10h") == tuple(
        timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000)
    )
    assert parse_retry_schedule(" 500ms , 1.5s ") == (timedelta(milliseconds=500), timedelta(seconds=1.5))


@pytest.mark.parametrize("text", ["", "5", "5d", "-5s", "5s,,5m", "five"])
def test_a_schedule_that_is_not_durations_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_retry_schedule(text)


@pytest.mark.parametrize(("status", "outcome"), [
    (200, Outcome.DELIVERED), (204, Outcome.DELIVERED), (None, Outcome.RETRY), (500, Outcome.RETRY),
    (503, Outcome.RETRY), (408, Outcome.RETRY), (429, Outcome.RETRY), (410, Outcome.GONE),
    (400, Outcome.FAILED), (404, Outcome.FAILED), (301, Outcome.FAILED),
])
def test_what_an_answer_means(status: int | None, outcome: Outcome) -> None:
    assert outcome_of(status) is outcome


def test_retries_follow_the_schedule_then_give_up() -> None:
    assert next_attempt(500, 1, NOW, SCHEDULE).at == NOW + timedelta(seconds=5)
    assert next_attempt(None, 3, NOW, SCHEDULE).at == NOW + timedelta(minutes=30)
    assert next_attempt(500, 4, NOW, SCHEDULE).outcome is Outcome.FAILED
    assert next_attempt(200, 4, NOW, SCHEDULE).outcome is Outcome.DELIVERED


def test_retry_after_replaces_the_schedules_delay_up_to_a_bound() -> None:
    assert next_attempt(429, 1, NOW, SCHEDULE, timedelta(seconds=42)).at == NOW + timedelta(seconds=42)
    assert next_attempt(429, 1, NOW, SCHEDULE, timedelta(days=3)).at == NOW + MAX_RETRY_AFTER


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Sat, 28 Nov 2026 12:01:00 GMT", NOW) == timedelta(minutes=1)
    assert parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/switchboard", "http://example.com:8080/a?b=c", "http://127.0.0.1:9000/hook",
])
def test_http_urls_with_a_host_are_webhook_urls(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(("url", "says"), [
    ("file:///etc/passwd", "http or https"), ("ftp://example.com/", "http or https"),
    ("http://", "host"), ("https:///path", "host"), ("http://user:pw@example.com/", "credentials"),
    ("http://user@example.com/", "credentials"), ("http://example.com:99999/", "not a URL"),
    ("http://example.com/" + "a" * 3000, "at most"),
])
def test_other_urls_are_refused_with_the_reason(url: str, says: str) -> None:
    problem = url_problem(url)
    assert problem is not None and says in problem


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1%eth0",
    "fc00::1", "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1",
])
def test_private_addresses_are_refused(address: str) -> None:
    assert address_problem(address) is not None


@pytest.mark.parametrize(("address", "says"), [
    ("100.100.100.200", "non-public"),  # shared address space (100.64.0.0/10): a cloud metadata address
    ("100.64.0.1", "non-public"),
    ("192.88.99.1", "non-public"),  # 6to4 relay anycast
    ("fec0::1", "non-public"),  # site-local
    ("2002:7f00:1::1", "embeds 127.0.0.1"),  # 6to4 to a loopback IPv4 address
    ("2002:a00:1::1", "embeds 10.0.0.1"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "private"),  # Teredo, client 127.0.0.1
    ("2001:0:a00:1:8000:63bf:3fff:fdd2", "private"),  # Teredo, server 10.0.0.1
    ("64:ff9b::7f00:1", "embeds 127.0.0.1"),  # NAT64 to a loopback IPv4 address
    ("::ffff:100.100.100.200", "embeds 100.100.100.200"),
    ("224.0.1.1", "multicast"), ("ff0e::1", "multicast"), ("::7f00:1", "reserved"), ("192.0.2.1", "private"),
])
def test_addresses_the_network_does_not_route_publicly_are_refused(address: str, says: str) -> None:
    problem = address_problem(address)
    assert problem is not None and says in problem, problem


@pytest.mark.parametrize("address", [
    "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1", "8.8.8.8", "2001:4860:4860::8888",
    "::ffff:93.184.216.34", "2002:5db8:d822::1", "64:ff9b::5db8:d822",  # each carrying a public IPv4 address
    "100.128.0.1", "192.88.100.1",  # just outside the refused networks
])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_problem(address) is None


def test_loopback_names_are_refused_whatever_dns_says() -> None:
    assert name_problem("localhost") is not None
    assert name_problem("LOCALHOST.") is not None
    assert name_problem("api.localhost") is not None
    assert name_problem("example.com") is None
