"""Webhook requests connect to the address that was checked: the host is resolved once, every
address it resolves to is checked (domain.webhook_urls), and the connection is opened to one
of those addresses, never by name. Checking first and letting the HTTP client resolve again
would let a name answer a public address to the check and a private one to the connection
(DNS rebinding).

This sits below the HTTP client, as the network backend of httpcore's connection pool, so
everything above it still uses the URL's host: the Host header, and TLS's server name (SNI)
and certificate verification. A connection kept alive is reused only for the same host, and
was checked when it was opened."""

from __future__ import annotations

import asyncio
import socket
import ssl
import typing

import httpcore
import httpx

from domain.webhook_urls import literal_address, name_problem, refused_destination


class AddressRefused(Exception):
    """The URL's host is (or resolves to) an address webhooks may not reach."""


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks (unless private networks are allowed), then connects to an address."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._sockets = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in await self.checked_addresses(host):
            try:
                return await self._sockets.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error  # the next address may answer, as a client resolving itself would try
        assert failure is not None, "resolve answers at least one address"
        raise failure

    async def checked_addresses(self, host: str) -> list[str]:
        """The addresses to connect to, in the resolver's order of preference; AddressRefused
        if the host is refused by its name or any one of them."""
        if literal_address(host) is not None:
            addresses = [host]
        else:
            if not self._allow_private and (problem := name_problem(host)) is not None:
                raise AddressRefused(problem)  # before asking DNS about it
            addresses = await resolve(host)
        if not self._allow_private and (problem := refused_destination(host, addresses)) is not None:
            raise AddressRefused(problem)
        return addresses

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are not sent over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._sockets.sleep(seconds)


async def resolve(host: str) -> list[str]:
    """The host's addresses, each once, in getaddrinfo's order (RFC 6724's preference)."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise httpcore.ConnectError(f"{host} does not resolve: {error}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no address")
    return addresses


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the connection pool on a CheckedBackend. httpx takes no network
    backend, so the pool it built is replaced by one like it (httpx and httpcore are pinned
    in requirements.lock; tests/integration/test_courier_safety.py fails if this stops
    holding)."""

    def __init__(self, allow_private: bool, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            # What httpx would use (certifi's roots) unless given one: making it reads them all.
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedBackend(allow_private),
        )
