"""Story grouping (corpus/stories.py) scored on real multi-outlet news.

Workload: tests/stories/real/news_cluster.jsonl (real articles by real outlets, labelled
by event; see tests/stories/README.md), fed one by one in publication order through
`Corpus.add` into a fresh SQLite store, as the daemon would. Every pair of articles is
scored "same story" predicted vs labelled (pairwise precision and recall), and each
article's group against its event (B-cubed F1). The same is measured on each half of
the events alone (events split by id parity: each half a corpus of its own, so a
threshold that suits only some events shows as a gap), and on the hand-labelled set
(tests/stories/articles.json: same events told in different words, different events in
the same words).

Baseline, same run: TF-IDF cosine single link — each article joins the story of the
most similar earlier article within the same window if their cosine reaches 0.25
(raw term counts of title and text, IDF over the whole set, known in advance, which
favours it). Also prints the ingest time per article. The last line printed is one JSON
object of the figures.
"""
from __future__ import annotations

import json
import math
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime

from newswatch.corpus.ingest import Corpus
from newswatch.corpus.stories import WINDOW
from newswatch.store.db import open_store

from tests.support.storyset import as_article, bcubed_f1, labelled, pairwise, real

BASELINE_THRESHOLD = 0.25


def grouped(items: list[dict]) -> tuple[dict[str, int], float]:
    """Each item's story id through `Corpus.add`, and the milliseconds per article."""
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        store = open_store(f"sqlite:///{tmp}/stories.db")
        corpus = Corpus(store, [])
        start = time.perf_counter()
        got = {i["id"]: corpus.add(as_article(i), i["source"]).story_id for i in items}
        ms = (time.perf_counter() - start) / len(items) * 1000
        store.close()
    return got, ms


def baseline(items: list[dict]) -> dict[str, str]:
    docs = {i["id"]: Counter(re.findall(r"[^\W\d_]{3,}", f"{i['title']} {i['text']}".lower())) for i in items}
    df = Counter(term for counts in docs.values() for term in counts)
    vectors = {}
    for key, counts in docs.items():
        vector = {t: (1 + math.log(c)) * math.log(len(docs) / df[t]) for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        vectors[key] = {t: w / norm for t, w in vector.items()}
    story: dict[str, str] = {}
    for n, item in enumerate(items):
        at, mine = datetime.fromisoformat(item["published"]), vectors[item["id"]]
        best, best_score = None, BASELINE_THRESHOLD
        for earlier in items[:n]:
            if at - datetime.fromisoformat(earlier["published"]) > WINDOW:
                continue
            theirs = vectors[earlier["id"]]
            score = sum(w * theirs.get(t, 0.0) for t, w in mine.items())
            if score >= best_score:
                best, best_score = earlier["id"], score
        story[item["id"]] = story[best] if best else item["id"]
    return story


def scores(prefix: str, items: list[dict], got: dict) -> dict[str, float]:
    truth = {i["id"]: i["story"] for i in items}
    precision, recall = pairwise(truth, got)
    return {f"{prefix}precision": round(precision, 3), f"{prefix}recall": round(recall, 3),
            f"{prefix}bcubed_f1": round(bcubed_f1(truth, got), 3)}


def main() -> int:
    items = real()
    got, ms = grouped(items)
    figures: dict[str, object] = {
        "articles": len(items),
        "events": len({i["story"] for i in items}),
        "events_2plus_outlets": sum(1 for e in {i["story"] for i in items}
                                    if len({i["outlet"] for i in items if i["story"] == e}) > 1),
        "storylines": len({i["storyline"] for i in items if i["storyline"]}),
        "stories_found": len(set(got.values())),
        **scores("", items, got),
    }
    base = scores("baseline_", items, baseline(items))
    figures["baseline_f1"] = base.pop("baseline_bcubed_f1")
    figures.update(base)
    for half in (0, 1):
        part = [i for i in items if int(i["story"].split(".")[0]) % 2 == half]
        figures.update(scores(f"half{half}_", part, grouped(part)[0]))
    hand = labelled()
    figures.update(scores("hand_", hand, grouped(hand)[0]))
    figures["ingest_ms_per_article"] = round(ms, 1)
    figures["targets_met"] = (figures["precision"] >= 0.92 and figures["recall"] >= 0.90
                              and figures["bcubed_f1"] >= figures["baseline_f1"] + 0.03)
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
