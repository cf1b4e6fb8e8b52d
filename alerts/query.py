"""Topic query language: parse a query once, match it against an article's title and body.

(Stub: the data types below are the contract other modules use; the parser and matcher
are being written.)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    """A short passage of an article's title or body, with the matched terms located.

    `marks` are (start, end) character offsets into `text`, sorted and non-overlapping.
    """

    text: str
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class QueryMatch:
    """Why a query matched: a score (higher is a better match) and up to three snippets."""

    score: float
    snippets: tuple[Snippet, ...]
