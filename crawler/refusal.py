"""Requests newswatch refuses to make, whatever a feed, a sitemap or a redirect asks for.

A refusal is not a failure of the page: it is counted apart (`newswatch status` shows
`refused (private address)` and `refused (local file)`) and logged once, by the spider's
errback that receives it.
"""
from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

REFUSED_PRIVATE = "newswatch/refused_private"
REFUSED_FILE = "newswatch/refused_file"

#: Stats key -> how `status` and the run's log line name it.
REFUSALS = {REFUSED_PRIVATE: "refused (private address)", REFUSED_FILE: "refused (local file)"}


class Refused(IgnoreRequest):
    """A request refused for what it would reach; `counter` is the stats key it counts
    under."""

    counter = REFUSED_FILE


class LocalFileRefused(Refused):
    """A `file:` URL outside a `path:` source's folder, or not a regular file."""

    counter = REFUSED_FILE
