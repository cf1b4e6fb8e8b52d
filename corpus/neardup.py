"""Dedup level 3: near-duplicates, by MinHash over word shingles with LSH banding.

The same article republished with other boilerplate, a new headline or a changed or added
paragraph shares most of its word 3-shingles with the original. Its MinHash signature
(128 permutations, datasketch's "affine32" scheme) estimates that Jaccard similarity; the
first 64 values, cut into 16 bands of 4 rows, give 16 band keys. Two texts with Jaccard J share at least one
band key with probability 1 - (1 - J^4)^16: 0.89 at J = 0.6, 0.99 at J = 0.7, 0.01 at
J = 0.2.

Both live in the database: `neardup_bands` (band key, article id), whose primary key is
the index a lookup uses, and `neardup_signatures` (article id, the 128 values cut to their
low 16 bits: 256 bytes). A new article's candidates are the articles sharing a band key
with it — an index lookup per band, never a scan of the corpus — and a candidate counts
only when the estimated Jaccard of the stored signatures reaches `THRESHOLD`.

Only originals are indexed: a copy of a copy still finds the original, and the index grows
with distinct articles, not with syndication.
"""
from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from newswatch.corpus.dedup import crc32_key
from newswatch.store.models import NearDupBand, NearDupSignature

SHINGLE = 3  # words; small enough that one edited word spoils only three shingles
NUM_PERM = 128
BANDS, ROWS = 16, 4
THRESHOLD = 0.6  # estimated Jaccard from which a candidate is the same article
MIN_SHINGLES = 8  # below this a text is too short to call anything a copy of it

_WORD = re.compile(r"\w+")


# MinHash as datasketch 2 computes it with scheme="affine32" (each 32-bit hash pre-mixed
# by the MurmurHash3 finalizer, then permuted as a * h + b mod 2^32 with a odd, the
# permutations drawn from RandomState(seed)), written out here because importing datasketch
# imports its LSH classes and SciPy with them: tens of MB in every process that computes
# signatures, for a dozen lines of NumPy. tests/test_neardup.py checks the values against
# datasketch's own.
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    random = np.random.RandomState(1)
    a = random.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = random.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def minhash(grams: set[bytes]) -> np.ndarray:
    """The MinHash values (uint32, `NUM_PERM` of them) of a non-empty set of shingles."""
    hv = np.fromiter((zlib.crc32(g) for g in grams), dtype=np.uint32, count=len(grams)).reshape(-1, 1)
    s1, m1, s2, m2, s3 = _FMIX32
    hv ^= hv >> s1
    hv *= m1
    hv ^= hv >> s2
    hv *= m2
    hv ^= hv >> s3
    a, b = _permutations()
    return (hv * a + b).min(axis=0)


def shingles(text: str) -> set[bytes]:
    """The text's word 3-shingles, after case and Unicode folding."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return {" ".join(words[i:i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


@dataclass(frozen=True)
class Signature:
    """A text's MinHash values (uint32, `NUM_PERM` of them), or empty for a text too
    short to compare."""

    values: np.ndarray

    @classmethod
    def of(cls, text: str) -> Signature:
        grams = shingles(text)
        if len(grams) < MIN_SHINGLES:
            return cls(np.zeros(0, dtype=np.uint32))
        return cls(minhash(grams))

    def __bool__(self) -> bool:
        return self.values.size > 0

    def band_keys(self) -> list[int]:
        """One signed 32-bit key per band (band number mixed in, so bands never collide
        with each other); a false match costs one signature comparison, nothing more."""
        keys = []
        for band in range(BANDS):
            rows = self.values[band * ROWS:(band + 1) * ROWS]
            keys.append(crc32_key(rows.tobytes(), band))
        return keys

    def packed(self) -> bytes:
        """The stored form: each value's low 16 bits (two equal values stay equal; two
        different ones collide with probability 1/65536, a negligible bias)."""
        return (self.values & 0xFFFF).astype("<u2").tobytes()


def similarity(packed_a: bytes, packed_b: bytes) -> float:
    """Estimated Jaccard similarity of two stored signatures."""
    a = np.frombuffer(packed_a, dtype="<u2")
    b = np.frombuffer(packed_b, dtype="<u2")
    return float(np.count_nonzero(a == b)) / NUM_PERM


@dataclass(frozen=True)
class NearDuplicate:
    article_id: int
    similarity: float


# Built once: they run for every stored article.
_CANDIDATES = select(NearDupSignature.article_id, NearDupSignature.signature).where(
    NearDupSignature.article_id.in_(
        select(NearDupBand.article_id).where(NearDupBand.band_key.in_(bindparam("keys", expanding=True)))
    )
)
_SIGNATURE = insert(NearDupSignature.__table__)
_BANDS = insert(NearDupBand.__table__)


def find(db: Session | Connection, signature: Signature) -> NearDuplicate | None:
    """The stored original most similar to `signature`, if its estimated Jaccard reaches
    `THRESHOLD`."""
    if not signature:
        return None
    candidates = db.execute(_CANDIDATES, {"keys": signature.band_keys()}).all()
    mine = signature.packed()
    best = max(
        (NearDuplicate(article_id, similarity(mine, packed)) for article_id, packed in candidates),
        key=lambda found: (found.similarity, -found.article_id),
        default=None,
    )
    return best if best is not None and best.similarity >= THRESHOLD else None


def remember(db: Session | Connection, article_id: int, signature: Signature) -> None:
    """Index an original so later copies find it."""
    if not signature:
        return
    db.execute(_SIGNATURE, [{"article_id": article_id, "signature": signature.packed()}])
    db.execute(_BANDS, [{"band_key": key, "article_id": article_id} for key in set(signature.band_keys())])
