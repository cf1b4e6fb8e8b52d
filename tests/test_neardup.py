"""Near-duplicate signatures: corpus/neardup.py's MinHash gives datasketch's values (its
"affine32" scheme, seed 1, crc32 as the hash), so signatures stored by either compare."""
from __future__ import annotations

import random
import zlib

import numpy as np
import pytest
from datasketch import MinHash

from newswatch.corpus.neardup import NUM_PERM, Signature, minhash, shingles

WORDS = [f"word{i}" for i in range(400)]


def datasketch_values(grams: set[bytes]) -> np.ndarray:
    reference = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=zlib.crc32)
    reference.update_batch(list(grams))
    return reference.hashvalues.astype(np.uint32)


@pytest.mark.parametrize("words", [10, 120, 5000])
def test_minhash_values_are_datasketchs(words):
    rng = random.Random(words)
    grams = shingles(" ".join(rng.choice(WORDS) for _ in range(words)))
    values = minhash(grams)
    assert values.dtype == np.uint32 and values.shape == (NUM_PERM,)
    assert np.array_equal(values, datasketch_values(grams))


def test_a_signature_holds_the_minhash_of_its_shingles():
    text = ("Seoul approved its first package of arms for Ukraine on Monday, officials said, "
            "after weeks of talks with Washington about the shells and air defence it could spare.")
    assert np.array_equal(Signature.of(text).values, datasketch_values(shingles(text)))
