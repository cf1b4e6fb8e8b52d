"""Which addresses newswatch reaches by default: the one classification that the crawl's
guard (`newswatch.crawler.guard`) and `newswatch sources discover` share. Plain Python (no
Twisted), so that a command that only discovers loads none of the crawl."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_private(address: str) -> bool:
    """True for an address newswatch does not reach by default: anything not globally
    routable (loopback, RFC 1918, link-local, CGNAT, unique-local, unspecified,
    documentation and reserved ranges) and multicast, also in IPv6 forms that carry an
    IPv4 address (mapped, compatible, 6to4, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (compatible)
            embedded = ipaddress.IPv4Address(int(ip))
        if embedded is not None:
            return is_private(str(embedded))
    return not ip.is_global or ip.is_multicast


def origin(url: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) URL, the host lower-cased; None for other schemes."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]
