"""Content fingerprints for dedup level 2 (exact content)."""
from __future__ import annotations

import hashlib
import zlib
import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+")


def normalise_text(text: str) -> str:
    """The text as dedup compares it: Unicode-compatible forms folded, case folded, and
    punctuation and whitespace runs reduced to one space, so quotes, dashes and line
    wrapping chosen by a republisher do not make a copy look new."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def crc32_key(data: bytes, seed: int = 0) -> int:
    """CRC-32 of `data` (started from `seed`) as a signed 32-bit integer: what an INTEGER
    column of every backend holds."""
    key = zlib.crc32(data, seed)
    return key - (1 << 32) if key >= 1 << 31 else key
