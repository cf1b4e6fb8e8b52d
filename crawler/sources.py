"""What a source is to the crawler: a name, a kind, and where to look."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["feed", "path"]


@dataclass(frozen=True)
class Source:
    """A configured source. `location` is an http(s) URL for `feed`, an absolute folder
    path for `path`."""

    name: str
    kind: SourceKind
    location: str
