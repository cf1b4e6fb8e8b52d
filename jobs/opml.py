"""OPML subscription lists: read (what `sources import` adds) and written (`sources export`).

Reading uses listparser, which is lenient (it recovers from anything), so the document is
first checked to be well-formed XML with an `<opml>` root and no entity declarations (the
same refusal as for feeds): a file that is not OPML is an error, not an empty list.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

import listparser

from newswatch.crawler.safexml import UnsafeXML, check_xml
from newswatch.crawler.sources import Source


class OPMLError(ValueError):
    """The file is not a readable OPML document; `str()` says why in one line."""


@dataclass(frozen=True)
class Subscription:
    """One feed of an OPML list: its URL and its outline's title (may be empty)."""

    url: str
    title: str


def read_opml(body: bytes) -> list[Subscription]:
    """The feeds of an OPML document, in document order (nested outlines included)."""
    _check_opml(body)
    parsed = listparser.parse(body)  # bytes: parsed as a document, never fetched as a URL
    if parsed.bozo:
        raise OPMLError(str(parsed.bozo_exception))
    return [Subscription(feed.url.strip(), (feed.title or "").strip()) for feed in parsed.feeds
            if feed.url.strip().startswith(("http://", "https://"))]


def _check_opml(body: bytes) -> None:
    try:
        check_xml(body)
    except UnsafeXML as exc:
        raise OPMLError(str(exc)) from None
    parser = expat.ParserCreate()
    roots: list[str] = []
    parser.StartElementHandler = lambda name, _attrs: roots.append(name) if not roots else None
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise OPMLError(f"not well-formed XML: {exc}") from None
    if roots != ["opml"]:
        raise OPMLError(f"not OPML: the root element is <{roots[0] if roots else ''}>, not <opml>")


def write_opml(sources: list[Source], title: str = "newswatch sources") -> bytes:
    """OPML 2.0 of the `feed` sources, one outline each (text and title: the source's name)."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(root, "body")
    for source in sources:
        if source.kind == "feed":
            ElementTree.SubElement(body, "outline", type="rss", text=source.name, title=source.name,
                                   xmlUrl=source.location)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
