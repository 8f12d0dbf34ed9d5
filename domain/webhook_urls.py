"""Where webhooks may be sent: http(s) URLs with a host and no credentials, and (unless the
operator allows private networks) only to globally routable addresses. Resolving a name is
the caller's I/O: the API checks when a URL is saved, the courier again when it connects
(services.checked_connect), since a name can point elsewhere by then."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
# Names that are a private address whatever DNS says.
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def url_problem(url: str) -> str | None:
    """Why this URL can never be a webhook's, or None."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"is not a URL: {error}"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (user:password@); authenticate by the signature"
    if port == 0:
        return "must not use port 0"
    return None


def host_of(url: str) -> str:
    hostname = urlsplit(url).hostname
    assert hostname is not None, "checked by url_problem"
    return hostname


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# What the standard library's `is_global` lets through that webhooks must not reach:
# 192.88.99.0/24 (the deprecated 6to4 relay anycast: whoever runs the nearest relay) and
# fec0::/10 (deprecated site-local, still routed inside some networks).
NOT_GLOBAL_AFTER_ALL = (ipaddress.ip_network("192.88.99.0/24"), ipaddress.ip_network("fec0::/10"))
# NAT64's well-known prefix: a gateway forwards 64:ff9b::a.b.c.d to a.b.c.d (DNS64 answers
# these for IPv4-only names on IPv6-only networks).
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_problem(address: str) -> str | None:
    """Why a request must not go to this address, or None. Only globally routable unicast
    addresses are allowed; an IPv6 address that stands for an IPv4 one (IPv4-mapped, NAT64)
    is judged by that IPv4 address, and one that tunnels to IPv4 endpoints (6to4, Teredo's
    server and client) by those too, as the network delivers there."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is not part of it
    translated = _translated_ipv4(ip)
    if translated is None and (kind := _refused_kind(ip)) is not None:
        return f"{address} is a {kind} address"
    for inner in ([translated] if translated is not None else []) + _tunnel_endpoints(ip):
        if (kind := _refused_kind(inner)) is not None:
            return f"{address} embeds {inner}, a {kind} address"
    return None


def _refused_kind(ip: IPAddress) -> str | None:
    """What kind of address this is when webhooks may not go to it (the kind is for the message)."""
    for kind, found in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                        ("private", ip.is_private), ("multicast", ip.is_multicast),
                        ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved)):
        if found:
            return kind
    if not ip.is_global or any(ip in network for network in NOT_GLOBAL_AFTER_ALL):
        return "non-public"
    return None


def _translated_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _tunnel_endpoints(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # (server, client)
    return []


def name_problem(host: str) -> str | None:
    """A host that is private by its name alone."""
    host = host.lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return f"{host} is a loopback name"
    return None


def needs_resolving(host: str) -> bool:
    """Whether `refused_destination` must be told the host's addresses: a name, not a
    literal address, and not refused by its name alone."""
    return name_problem(host) is None and literal_address(host) is None


def refused_destination(host: str, resolved: list[str] | None = None) -> str | None:
    """Why webhooks may not go to `host`: a loopback name, a private literal address, or a
    name that `resolved` to one (the caller resolves, when `needs_resolving`)."""
    if (problem := name_problem(host)) is not None:
        return problem
    if (literal := literal_address(host)) is not None:
        return address_problem(str(literal))
    for address in resolved or []:
        if (problem := address_problem(address)) is not None:
            return f"{host} resolves to a refused address ({problem})"
    return None
