"""The story sets and how story grouping is scored on them, for tests/test_stories.py and
bench/stories.py: the hand-labelled set (tests/stories/articles.json: 33 short news
articles in 13 stories) and the real one (tests/stories/real/news_cluster.jsonl: full-text
articles by real outlets, labelled by event; see tests/stories/README.md)."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from itertools import combinations
from pathlib import Path

from newswatch.corpus.extract import Article

STORIES = Path(__file__).resolve().parent.parent / "stories" / "articles.json"
REAL = Path(__file__).resolve().parent.parent / "stories" / "real" / "news_cluster.jsonl"


def labelled() -> list[dict]:
    """The labelled articles, in publication order."""
    articles = json.loads(STORIES.read_text(encoding="utf-8"))
    return sorted(articles, key=lambda a: a["published"])


def real() -> list[dict]:
    """The real articles, in publication order, each with `source` (its outlet) and
    `story` (its event label) as in `labelled()`."""
    with REAL.open(encoding="utf-8") as lines:
        articles = [json.loads(line) for line in lines]
    for article in articles:
        article["source"], article["story"] = article["outlet"], article["event"]
    return sorted(articles, key=lambda a: (a["published"], a["id"]))


def as_article(item: dict) -> Article:
    url = item.get("url") or f"https://{item['source']}.example/{item['id']}"
    return Article(url=url, canonical_url=url, title=item["title"], text=item["text"],
                   published=datetime.fromisoformat(item["published"]), language="en", author=None)


def pairwise(truth: dict[str, str], got: dict[str, object]) -> tuple[float, float]:
    """Precision and recall of "same story" over every pair of articles."""
    tp = fp = fn = 0
    for a, b in combinations(sorted(truth), 2):
        same, grouped = truth[a] == truth[b], got[a] == got[b]
        tp += same and grouped
        fp += grouped and not same
        fn += same and not grouped
    return (tp / (tp + fp) if tp + fp else 1.0), tp / (tp + fn)


def bcubed_f1(truth: dict[str, str], got: dict[str, object]) -> float:
    """B-cubed F1: per article, precision and recall of the articles grouped with it
    (itself included), averaged over the articles."""
    labelled, found = defaultdict(set), defaultdict(set)
    for item, label in truth.items():
        labelled[label].add(item)
        found[got[item]].add(item)
    precision = recall = 0.0
    for item in truth:
        mine, theirs = found[got[item]], labelled[truth[item]]
        precision += len(mine & theirs) / len(mine)
        recall += len(mine & theirs) / len(theirs)
    precision, recall = precision / len(truth), recall / len(truth)
    return 2 * precision * recall / (precision + recall)
