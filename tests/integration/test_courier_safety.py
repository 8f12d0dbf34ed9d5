"""The courier checks the destination when it sends, not only when the URL was saved: a
subscription pointing at a private address (saved before the setting changed, or a name
whose DNS changed since) gets no request unless SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE; it
connects to the very address it checked (a name that answers a public address, then
127.0.0.1, gets no request through); and the log keeps only the first 256 bytes of an answer.

Names are answered by a fake patched into socket.getaddrinfo, which every resolver in this
process ends in (asyncio's, so anyio's and httpx's): the tests hold for any way of resolving,
the courier's before this fix included. Connections to a public address are refused by a
patch of httpcore's socket backend: a test reaches no other machine."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import delete, select

from contract.events import for_everyone
from domain.models import utcnow
from services.courier import Courier
from store.db import migrate, session_scope
from store.events_out import NewEvent, publish
from store.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow
from tests.helpers import wait_for
from tests.webhook_receiver import FAST_WEBHOOKS, running_receiver

PUBLIC = "93.184.216.34"


@dataclasses.dataclass
class FakeDns:
    """Answers for some names, each a list of answers given in turn (the last one repeats);
    other names go to the real resolver."""
    answers: dict[str, list[list[str]]]
    asked: list[str] = dataclasses.field(default_factory=list)

    def getaddrinfo(self, host: str | bytes | None, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        self.asked.append(name)
        turns = self.answers[name]
        addresses = turns.pop(0) if len(turns) > 1 else turns[0]
        number = int(port or 0)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, number, 0, 0)) if ":" in address
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, number)) for address in addresses]


REAL_GETADDRINFO = socket.getaddrinfo
REAL_CONNECT = httpcore.AnyIOBackend.connect_tcp


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns({})
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hosts httpcore opens sockets to, in order; those at a public address fail at once."""
    hosts: list[str] = []

    async def connect_tcp(backend: httpcore.AnyIOBackend, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        hosts.append(host)
        with contextlib.suppress(ValueError):
            if not ipaddress.ip_address(host).is_loopback:
                raise httpcore.ConnectError(f"{host}: tests reach no other machine")
        return await REAL_CONNECT(backend, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return hosts


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@contextlib.asynccontextmanager
async def courier_running(engine: Engine, allow_private: bool) -> AsyncIterator[None]:
    courier = Courier(engine, dataclasses.replace(FAST_WEBHOOKS, allow_private=allow_private))
    running = asyncio.create_task(courier.run())
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def one_event_for(engine: Engine, url: str) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(WebhookSubscriptionRow(id=str(uuid.uuid4()), url=url, event_types=[], secret="whsec_" + "C" * 32,
                                           created_at=now, updated_at=now))
    with session_scope(engine) as session:
        publish(session, [NewEvent(source=f"test {uuid.uuid4()}", type="agent.status_changed", at=now,
                                   bodies=for_everyone("agent.status_changed", now, {"agent": {"id": "a"}}))])


async def first_attempt(engine: Engine) -> WebhookAttemptRow:
    def read() -> WebhookAttemptRow | None:
        with session_scope(engine) as session:
            return session.exec(select(WebhookAttemptRow)).first()

    return await wait_for(lambda: asyncio.to_thread(read))


def all_attempts(engine: Engine) -> list[WebhookAttemptRow]:
    with session_scope(engine) as session:
        return list(session.exec(select(WebhookAttemptRow)).all())


async def test_a_private_destination_is_refused_at_send_time(engine: Engine) -> None:
    migrate(engine)
    async with running_receiver() as receiver:
        one_event_for(engine, receiver.url)  # 127.0.0.1: as if saved while private ones were allowed
        async with courier_running(engine, allow_private=False):
            attempt = await first_attempt(engine)
        assert attempt.status_code is None
        assert attempt.error == "address refused: 127.0.0.1 is a loopback address"
        assert receiver.received == []


async def test_with_the_setting_it_is_sent_and_only_a_prefix_of_the_answer_is_kept(engine: Engine) -> None:
    migrate(engine)
    async with running_receiver() as receiver:  # answers 400 bytes
        one_event_for(engine, receiver.url)
        async with courier_running(engine, allow_private=True):
            attempt = await first_attempt(engine)
        assert attempt.status_code == 200 and len(receiver.received) == 1
        assert attempt.response_prefix == ("ok" * 200)[:256]


async def test_the_courier_connects_to_the_address_it_checked(
    engine: Engine, dns: FakeDns, connected: list[str],
) -> None:
    """DNS rebinding: the name answers a public address to the check, then 127.0.0.1 (where
    the receiver listens) to any later look-up. The courier connects to the public address it
    checked and nowhere else; the receiver hears nothing, and no answer of it is logged."""
    migrate(engine)
    async with running_receiver() as receiver:
        dns.answers["hooks.rebinding.example"] = [[PUBLIC], ["127.0.0.1"]]
        one_event_for(engine, f"http://hooks.rebinding.example:{port_of(receiver.url)}/hook")
        async with courier_running(engine, allow_private=False):
            attempt = await first_attempt(engine)
        assert receiver.received == []
        assert [row.response_prefix for row in all_attempts(engine) if row.response_prefix is not None] == []
        assert connected[0] == PUBLIC and "127.0.0.1" not in connected and "hooks.rebinding.example" not in connected
        assert attempt.status_code is None and attempt.error is not None and PUBLIC in attempt.error


@pytest.mark.parametrize("addresses", [
    ["127.0.0.1"], [PUBLIC, "127.0.0.1"], ["100.100.100.200"], ["2002:7f00:1::1"], ["::ffff:127.0.0.1"],
])
async def test_a_name_resolving_to_a_refused_address_is_refused_at_send_time(
    engine: Engine, dns: FakeDns, connected: list[str], addresses: list[str],
) -> None:
    """Every address the name resolves to is checked: one refused address refuses the name,
    and no connection is opened at all."""
    migrate(engine)
    async with running_receiver() as receiver:
        dns.answers["hooks.private.example"] = [addresses]
        one_event_for(engine, f"http://hooks.private.example:{port_of(receiver.url)}/hook")
        async with courier_running(engine, allow_private=False):
            attempt = await first_attempt(engine)
        assert attempt.status_code is None and attempt.error is not None
        assert attempt.error.startswith("address refused: hooks.private.example resolves to a refused address")
        assert connected == [] and receiver.received == []


async def test_with_the_setting_a_name_is_sent_to_its_address_under_its_own_name(
    engine: Engine, dns: FakeDns, connected: list[str],
) -> None:
    """SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE: a name resolving to 127.0.0.1 is delivered to, over
    a connection to the address resolved, with the URL's host in the Host header."""
    migrate(engine)
    async with running_receiver() as receiver:
        host = f"hooks.local.example:{port_of(receiver.url)}"
        dns.answers["hooks.local.example"] = [["127.0.0.1"]]
        one_event_for(engine, f"http://{host}/hook")
        async with courier_running(engine, allow_private=True):
            attempt = await first_attempt(engine)
        assert attempt.status_code == 200, attempt.error
        assert connected == ["127.0.0.1"]
        assert [item.headers["host"] for item in receiver.received] == [host]


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for hooks.tls.example, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=hooks.tls.example", "-addext",
                    "subjectAltName=DNS:hooks.tls.example", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    return certificate, key


async def test_over_tls_the_certificate_is_checked_for_the_urls_host_not_the_address(
    engine: Engine, dns: FakeDns, connected: list[str], tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Connecting to 127.0.0.1, the courier still asks for and verifies hooks.tls.example's
    certificate (SNI and the name check): delivered to that name, refused for another name of
    the same address."""
    certificate, key = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # the courier trusts it, as httpx reads this
    migrate(engine)
    async with running_receiver(tls=(certificate, key)) as receiver:
        port = port_of(receiver.url)
        dns.answers["hooks.tls.example"] = [["127.0.0.1"]]
        dns.answers["other.tls.example"] = [["127.0.0.1"]]
        one_event_for(engine, f"https://other.tls.example:{port}/hook")
        async with courier_running(engine, allow_private=True):
            refused = await first_attempt(engine)
        assert refused.error is not None and "CERTIFICATE_VERIFY_FAILED" in refused.error, refused.error
        assert receiver.received == []
        with session_scope(engine) as session:
            session.exec(delete(WebhookAttemptRow))
            session.exec(delete(WebhookDeliveryRow))
            session.exec(delete(WebhookSubscriptionRow))
        one_event_for(engine, f"https://hooks.tls.example:{port}/hook")
        async with courier_running(engine, allow_private=True):
            attempt = await first_attempt(engine)
        assert attempt.status_code == 200, attempt.error
        assert set(connected) == {"127.0.0.1"}
        assert [item.headers["host"] for item in receiver.received] == [f"hooks.tls.example:{port}"]
