"""Where webhooks may be sent: http(s) URLs with a host and no credentials, and (unless the
operator allows private networks) only to public addresses. Resolving a name is the
caller's I/O: the API checks when a URL is saved, the courier again before every request,
since a name can point elsewhere by then."""

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


def address_problem(address: str) -> str | None:
    """Why a request must not go to this address (private, loopback, link-local, ...), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, found in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                        ("private", ip.is_private), ("multicast", ip.is_multicast),
                        ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved)):
        if found:
            return f"{address} is a {kind} address"
    return None


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
