"""The hand-labelled story set (tests/stories/articles.json: 33 short news articles in 13
stories) and how story grouping is scored on it, for tests/test_stories.py and
bench/stories.py."""
from __future__ import annotations

import json
from datetime import datetime
from itertools import combinations
from pathlib import Path

from newswatch.corpus.extract import Article

STORIES = Path(__file__).resolve().parent.parent / "stories" / "articles.json"


def labelled() -> list[dict]:
    """The labelled articles, in publication order."""
    articles = json.loads(STORIES.read_text(encoding="utf-8"))
    return sorted(articles, key=lambda a: a["published"])


def as_article(item: dict) -> Article:
    url = f"https://{item['source']}.example/{item['id']}"
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
