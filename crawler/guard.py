"""Refusing private addresses: no feed, sitemap, listing page, redirect or robots.txt
makes newswatch reach loopback, RFC 1918, link-local (the cloud metadata address),
CGNAT, unique-local, multicast or unspecified addresses, unless the config admits them
(`crawl: {allow_private: true}` for every source; `allow_private: true` on a source for
its own URL's host and port).

Two checks, so that neither a name nor a redirect nor DNS rebinding gets past:

- `GuardedResolver` is the reactor's name resolver. Every connection Scrapy opens
  (HostnameEndpoint) takes its addresses from it, and it hands on only the addresses
  admitted for the host and port asked for. The check is on the very addresses the
  connection is made to (not on an earlier lookup that a rebinding DNS server could
  answer differently), for literal IPs and names alike (`localhost`, `2130706433`).
- `PrivateAddressMiddleware` (a downloader middleware, before robots.txt's) knows the
  request's source: it refuses a private literal address, or a name that another
  source's `allow_private` admits, for a source that is not admitted; and it turns the
  resolver's refusals into `PrivateAddressRefused`, counted as `refused (private
  address)` and logged once by the spider (never retried).
"""
from __future__ import annotations

import logging
from typing import Iterable

from scrapy.exceptions import CannotResolveHostError
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

from newswatch.crawler.addresses import is_private, origin
from newswatch.crawler.refusal import REFUSED_PRIVATE, Refused
from newswatch.crawler.sources import Source

log = logging.getLogger(__name__)



class PrivateAddressRefused(Refused):
    counter = REFUSED_PRIVATE


def admitted_origin(source: Source) -> tuple[str, int] | None:
    """The host and port a source's `allow_private` admits: its own URL's."""
    return origin(source.location) if source.allow_private else None


@implementer(IHostnameResolver)
class GuardedResolver:
    """A name resolver that passes on only admitted addresses (see the module's doc).
    `allow_all` admits every private address; `admit(source)` admits its own origin."""

    def __init__(self, resolver: IHostnameResolver, allow_all: bool = False):
        self._resolver = resolver
        self.allow_all = allow_all
        self.admitted: set[tuple[str, int]] = set()
        #: (host, port) -> the private addresses its last resolution held back.
        self.refusals: dict[tuple[str, int], list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler, reactor) -> GuardedResolver:
        """As `TWISTED_DNS_RESOLVER`, which a `CrawlerProcess` installs when it starts."""
        return cls(reactor.nameResolver, crawler.settings.getbool("NEWSWATCH_ALLOW_PRIVATE"))

    def install_on_reactor(self) -> None:
        from twisted.internet import reactor

        reactor.installNameResolver(self)

    def admit(self, sources: Iterable[Source]) -> None:
        self.admitted.update(o for o in map(admitted_origin, sources) if o is not None)

    def admits(self, host: str, port: int, address: str) -> bool:
        return self.allow_all or (host.lower(), port) in self.admitted or not is_private(address)

    def resolveHostName(self, resolutionReceiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        guard, held_back = self, []

        @provider(IResolutionReceiver)
        class Admitted:
            @staticmethod
            def resolutionBegan(resolution):
                resolutionReceiver.resolutionBegan(resolution)

            @staticmethod
            def addressResolved(address):
                if guard.admits(hostName, portNumber, address.host):
                    resolutionReceiver.addressResolved(address)
                else:
                    held_back.append(address.host)

            @staticmethod
            def resolutionComplete():
                key = (hostName.lower(), portNumber)
                if held_back:
                    guard.refusals[key] = held_back
                else:
                    guard.refusals.pop(key, None)
                resolutionReceiver.resolutionComplete()

        return self._resolver.resolveHostName(Admitted(), hostName, portNumber, addressTypes,
                                              transportSemantics)


def install(allow_all: bool) -> GuardedResolver:
    """The reactor's `GuardedResolver` (installed around its resolver on first use)."""
    from twisted.internet import reactor

    current = reactor.nameResolver
    if not isinstance(current, GuardedResolver):
        current = GuardedResolver(current)
        reactor.installNameResolver(current)
    current.allow_all = allow_all
    return current


class PrivateAddressMiddleware:
    """The per-source check before a request (placed before robots.txt's middleware, so
    a refused host's robots.txt is not fetched either)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.allow_all = crawler.settings.getbool("NEWSWATCH_ALLOW_PRIVATE")
        self.guard = install(self.allow_all)
        self.source: Source | None = getattr(crawler.spider, "source", None)
        if self.source is not None:
            self.guard.admit([self.source])

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        where = origin(request.url)
        if where is None or self.allow_all:
            return None
        if self.source is not None and admitted_origin(self.source) == where:
            return None
        host, port = where
        try:
            private = is_private(host)
        except ValueError:  # a name: the resolver checks what it resolves to...
            if where not in self.guard.admitted:
                return None
            # ...except where another source's allow_private admits it: resolved here.
            private = any(map(is_private, await _addresses(self.guard, host, port)))
        if private:
            raise PrivateAddressRefused(f"{host} is a private address (see allow_private)")
        return None


class PrivateAddressErrors:
    """The resolver's refusals made `PrivateAddressRefused`. Placed after the retry
    middleware, so that it sees them first on the way back: a refusal is not retried."""

    def __init__(self, crawler):
        self.guard = install(crawler.settings.getbool("NEWSWATCH_ALLOW_PRIVATE"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_exception(self, request, exception, spider=None):
        where = origin(request.url)
        # What Twisted says when the resolver handed on no address (Scrapy's name for it).
        if isinstance(exception, (CannotResolveHostError, DNSLookupError)) and where in self.guard.refusals:
            held = ", ".join(self.guard.refusals[where])
            raise PrivateAddressRefused(f"{where[0]} resolves to a private address ({held})")
        return None


async def _addresses(guard: GuardedResolver, host: str, port: int) -> list[str]:
    """Every address `host` resolves to (unfiltered: the caller judges them)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet.defer import Deferred

    found: list[str] = []
    done: Deferred = Deferred()

    @provider(IResolutionReceiver)
    class Collect:
        @staticmethod
        def resolutionBegan(resolution):
            pass

        @staticmethod
        def addressResolved(address):
            found.append(address.host)

        @staticmethod
        def resolutionComplete():
            done.callback(found)

    guard._resolver.resolveHostName(Collect(), host, port)
    return await maybe_deferred_to_future(done)
