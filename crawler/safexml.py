"""Refusing hostile XML before a parser sees it.

Feeds and sitemaps come from servers we do not control. An entity-expansion bomb
("billion laughs") declares entities in the document's DTD; no feed or sitemap needs
one, so a document that declares any entity is refused outright. The check stops at the
root element's start tag, so it reads only the prolog, however large the document.
"""
from __future__ import annotations

from xml.parsers import expat


class UnsafeXML(ValueError):
    """The document declares entities (a possible entity-expansion bomb)."""


class _Root(Exception):
    pass


def check_xml(body: bytes) -> None:
    """Raise `UnsafeXML` if `body`'s DTD declares an entity; malformed XML passes (the
    caller's lenient parser decides what to make of it)."""
    parser = expat.ParserCreate()

    def entity_declared(name, *_args):
        raise UnsafeXML(f"declares the XML entity {name!r} (entity expansion refused)")

    def root_started(*_args):
        raise _Root

    parser.EntityDeclHandler = entity_declared
    parser.StartElementHandler = root_started
    try:
        parser.Parse(body, True)
    except (_Root, expat.ExpatError):
        return
