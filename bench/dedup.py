"""Near-duplicate lookup+insert cost, index size, and accuracy (corpus/neardup.py).

Workload:
- Texts: synthetic articles of 8 paragraphs x 60 words drawn from a Zipf-distributed
  vocabulary of 20,000 words (news-like word frequencies, no shared phrasing by design).
- Cost: a SQLite file store (WAL, synchronous=NORMAL, as newswatch runs it) holding 1,000
  and then 1,000,000 articles' LSH entries; the 1M store is built directly with
  executemany of synthetic band keys (uniform 32-bit keys, as crc32 band keys are) and
  random 256-byte signatures. Then new articles are each looked up (`neardup.find`)
  and inserted (`neardup.remember`) in a transaction of their own, as ingest does; the
  MinHash itself is computed beforehand and timed apart (`minhash_us_per_article`).
  Foreign keys are off in these stores (their articles rows are not built).
- Baseline, same run: the lookup without the index, a numpy scan comparing the new
  signature with every stored one (`scan_us_per_article_1m`, 30 lookups).
- Accuracy: 1,000 originals, 3 perturbed copies of each (boilerplate + new headline;
  one paragraph replaced; one paragraph added and 3% of words changed), and 1,000
  near-misses (distinct articles that reuse 3 of their 8 paragraphs from an original).
  A copy is a true positive when it finds its own original; a near-miss that finds
  anything, or a copy that finds another original, is a false positive.

Repetition: the cost at 1k and at 1M is measured `REPEAT` times, interleaved (on a shared
machine a busy spell would otherwise fall on one size only), each time on `PER_REPEAT`
new articles; figures are medians, with the spread (slowest - fastest) beside them. `growth`
is the median at 1M ÷ the median at 1k; `growth_min`/`growth_max` the range of the
per-repetition ratios. The same figures prefixed `cpu_` count this process's CPU time
instead of wall time: on a shared machine they move less with the others' load (but miss
time spent waiting for the disk).

Targets: growth <= 1.5, index_bytes_per_article <= 300, precision >= 0.99,
recall >= 0.95. The last line printed is one JSON object of the figures.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

from newswatch.corpus import neardup
from newswatch.store.models import NearDupBand, NearDupSignature

VOCABULARY = 20_000
PARAGRAPHS, WORDS = 8, 60
SEED = 5
REPEAT, PER_REPEAT = 5, 500  # repetitions, and new articles timed in each

rng = random.Random(SEED)
_words = [f"w{i}" for i in range(VOCABULARY)]
_cum_weights = list(np.cumsum([1 / (rank + 1) for rank in range(VOCABULARY)]))
_BOILERPLATE = ("Share this article on Facebook Twitter LinkedIn Email Print . Subscribe to our "
                "newsletter for the latest headlines . Read more : Most popular stories this week . "
                "Advertisement . Comments ( 12 ) . Follow us for breaking news alerts .")


def paragraph(rand: random.Random = rng) -> str:
    return " ".join(rand.choices(_words, cum_weights=_cum_weights, k=WORDS))


def article(rand: random.Random = rng) -> list[str]:
    return [paragraph(rand) for _ in range(PARAGRAPHS)]


def perturbed(paragraphs: list[str], how: int) -> str:
    if how == 0:  # other boilerplate and a new headline around the same body
        return "\n\n".join(["Breaking : " + paragraph()[:80], *paragraphs, _BOILERPLATE])
    if how == 1:  # one paragraph rewritten
        changed = list(paragraphs)
        changed[rng.randrange(len(changed))] = paragraph()
        return "\n\n".join(changed)
    words = "\n\n".join([*paragraphs, paragraph()]).split(" ")  # one added, 3% edited
    for i in rng.sample(range(len(words)), k=len(words) * 3 // 100):
        words[i] = rng.choice(_words)
    return " ".join(words)


def near_miss(paragraphs: list[str]) -> str:
    mine = article()
    for i in rng.sample(range(PARAGRAPHS), k=3):
        mine[i] = paragraphs[i]
    return "\n\n".join(mine)


def engine_for(path: Path):
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    NearDupBand.metadata.create_all(engine, tables=[NearDupBand.__table__, NearDupSignature.__table__])
    return engine


def fill(path: Path, count: int) -> None:
    """`count` articles' synthetic LSH entries, bulk-loaded in key order (no journal
    while loading; the timed part runs in WAL mode afterwards)."""
    generator = np.random.default_rng(SEED)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")
    keys = generator.integers(-(1 << 31), 1 << 31, size=count * neardup.BANDS, dtype=np.int64)
    ids = np.repeat(np.arange(1, count + 1, dtype=np.int64), neardup.BANDS)
    order = np.lexsort((ids, keys))
    with connection:
        connection.executemany("INSERT OR IGNORE INTO neardup_bands (band_key, article_id) VALUES (?, ?)",
                               zip(keys[order].tolist(), ids[order].tolist()))
        blobs = generator.integers(0, 256, size=(count, neardup.NUM_PERM * 2), dtype=np.uint8)
        connection.executemany(
            "INSERT INTO neardup_signatures (article_id, signature) VALUES (?, ?)",
            ((i + 1, blobs[i].tobytes()) for i in range(count)),
        )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    # On disk before any timing: else the first checkpoint's fsync in the timed part
    # writes back the whole freshly built file (hundreds of MB at 1M, a few KB at 1k).
    with open(path, "rb+") as built:
        os.fsync(built.fileno())


def bytes_of(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    size = connection.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = ?", (table,)).fetchone()[0]
    connection.close()
    return int(size)


def timed_inserts(path: Path, stored: int, signatures: list[neardup.Signature]) -> tuple[float, float]:
    """Wall and CPU microseconds per article of looking up and inserting `signatures`."""
    engine = engine_for(path)
    sessions = sessionmaker(engine)
    start, cpu = time.perf_counter(), time.process_time()
    for offset, signature in enumerate(signatures):
        with sessions.begin() as session:
            neardup.find(session, signature)
            neardup.remember(session, stored + offset + 1, signature)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return elapsed / len(signatures) * 1e6, cpu / len(signatures) * 1e6


def scan_lookup(path: Path, signatures: list[neardup.Signature]) -> float:
    """The baseline: every stored signature compared with the new one (loaded into
    memory first, uncharged)."""
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT signature FROM neardup_signatures").fetchall()
    connection.close()
    matrix = np.frombuffer(b"".join(r[0] for r in rows), dtype="<u2").reshape(len(rows), -1)
    start = time.perf_counter()
    for signature in signatures:
        mine = np.frombuffer(signature.packed(), dtype="<u2")
        np.count_nonzero(matrix == mine, axis=1).argmax()
    return (time.perf_counter() - start) / len(signatures) * 1e6


def accuracy(workdir: Path) -> tuple[float, float, int]:
    engine = engine_for(workdir / "accuracy.db")
    sessions = sessionmaker(engine)
    originals = [article() for _ in range(1000)]
    with sessions.begin() as session:
        for i, paragraphs in enumerate(originals, start=1):
            neardup.remember(session, i, neardup.Signature.of("\n\n".join(paragraphs)))
    tp = fp = 0
    with sessions.begin() as session:
        for i, paragraphs in enumerate(originals, start=1):
            for how in range(3):
                found = neardup.find(session, neardup.Signature.of(perturbed(paragraphs, how)))
                tp += found is not None and found.article_id == i
                fp += found is not None and found.article_id != i
            if neardup.find(session, neardup.Signature.of(near_miss(paragraphs))) is not None:
                fp += 1
    engine.dispose()
    return (tp / (tp + fp) if tp + fp else 1.0), tp / 3000, fp


def main() -> int:
    new = [neardup.Signature.of("\n\n".join(article())) for _ in range(1000)]
    texts = ["\n\n".join(article()) for _ in range(300)]
    # Each repetition looks up and inserts articles of its own (found in no store yet),
    # drawn apart so that the accuracy sets stay the same whatever REPEAT is.
    others = [random.Random(SEED + r) for r in range(1, REPEAT)]
    batches = [new[:PER_REPEAT]] + [
        [neardup.Signature.of("\n\n".join(article(other))) for _ in range(PER_REPEAT)] for other in others]
    start = time.perf_counter()
    for t in texts:
        neardup.Signature.of(t)
    minhash_us = (time.perf_counter() - start) / len(texts) * 1e6

    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        workdir = Path(tmp)
        warm = workdir / "warm-up.db"  # imports, statement caches: not charged to 1k
        engine_for(warm).dispose()
        timed_inserts(warm, 0, batches[0][:100])
        figures: dict[str, float] = {}
        stores = {}
        for label, count in (("1k", 1_000), ("1m", 1_000_000)):
            path = workdir / f"store-{label}.db"
            engine_for(path).dispose()
            start = time.perf_counter()
            fill(path, count)
            print(f"{label}: store built in {time.perf_counter() - start:.1f}s", file=sys.stderr)
            stores[label] = (path, count)
        path, count = stores["1m"]
        figures["index_bytes_per_article"] = round(bytes_of(path, "neardup_bands") / count, 1)
        figures["signature_bytes_per_article"] = round(bytes_of(path, "neardup_signatures") / count, 1)
        figures["scan_us_per_article_1m"] = round(scan_lookup(path, new[:30]), 1)
        pristine_1k = workdir / "pristine-1k.db"
        shutil.copy(stores["1k"][0], pristine_1k)
        times: dict[str, list[float]] = {"1k": [], "1m": []}
        cpu: dict[str, list[float]] = {"1k": [], "1m": []}
        for rep, batch in enumerate(batches):
            # Interleaved, so that a busy spell of the machine falls on both sizes alike.
            # The 1k store is put back to 1,000 each time; the 1M one grows by 0.1%.
            shutil.copy(pristine_1k, stores["1k"][0])
            with open(stores["1k"][0], "rb+") as copied:
                os.fsync(copied.fileno())
            for label, stored in (("1k", 1_000), ("1m", 1_000_000 + rep * len(batch))):
                wall_us, cpu_us = timed_inserts(stores[label][0], stored, batch)
                times[label].append(wall_us)
                cpu[label].append(cpu_us)
            print(f"repetition {rep + 1}: lookup+insert {times['1k'][-1]:.0f} us/article at 1k "
                  f"({cpu['1k'][-1]:.0f} CPU), {times['1m'][-1]:.0f} at 1M ({cpu['1m'][-1]:.0f} CPU)",
                  file=sys.stderr)
        precision, recall, false_positives = accuracy(workdir)

    for prefix, measured in (("", times), ("cpu_", cpu)):
        for label, values in measured.items():
            figures[f"{prefix}us_per_article_{label}"] = round(statistics.median(values), 1)
            figures[f"{prefix}us_per_article_{label}_spread"] = round(max(values) - min(values), 1)
        growths = [big / small for small, big in zip(measured["1k"], measured["1m"])]
        figures[f"{prefix}growth"] = round(figures[f"{prefix}us_per_article_1m"]
                                           / figures[f"{prefix}us_per_article_1k"], 3)
        figures[f"{prefix}growth_min"] = round(min(growths), 3)
        figures[f"{prefix}growth_max"] = round(max(growths), 3)
    figures["repeat"] = REPEAT
    figures["minhash_us_per_article"] = round(minhash_us, 1)
    figures["scan_over_lsh_1m"] = round(figures["scan_us_per_article_1m"] / figures["us_per_article_1m"], 1)
    figures["precision"] = round(precision, 4)
    figures["recall"] = round(recall, 4)
    figures["false_positives"] = false_positives
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
