"""Benchmark: `newswatch match` (a backtest) over 100,000 stored articles.

Workload: a SQLite store (the default database) holding 100,000 articles of 15 sentences
(about 300 words) each, generated as in bench/topics.py: sentences of the repo's real
articles, their names swapped for made-up ones. Five queries of the shapes users write
(words, a phrase, OR, NOT, NEAR, title:), from one that matches a handful of articles to
one that matches about 8,000 (8% of the corpus).

Measured: `alerts.backtest.search` for each query over the whole corpus (full-text
prefilter, then the real matcher confirming each candidate), as `newswatch match` runs
it, plus rendering the snippets of the 50 best hits that the command shows.

Baseline, in the same run: what `newswatch match` did before the prefilter: every
stored article tokenised and matched. It runs on a sample of BASELINE_SAMPLE articles and
is scaled to the corpus. `speedup` is the baseline's mean seconds per query over ours.

Run: python -m bench.backtest   (last line: one JSON object of the figures)
"""
from __future__ import annotations

import hashlib
import json
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from bench import topics as topics_bench

from newswatch.alerts.backtest import search, show
from newswatch.alerts.search import SEPARATOR, index_tokens
from newswatch.alerts.query import Document, parse
from newswatch.store.db import open_store
from newswatch.store.models import Article, ArticleTerms, Story

ARTICLES = 100_000
SENTENCES = 15
BASELINE_SAMPLE = 1_000
SHOWN = 50
BATCH = 5_000


def fill(store, rng: random.Random) -> list[str]:
    """Store the articles; return the names used in them (for queries)."""
    gen = topics_bench
    sentences = gen._sentences()
    names = gen.make_names(rng)
    # Renamed sentence variants, tokenised once each: an article's index terms are its
    # sentences' terms in order (they are joined by spaces, which no token spans).
    variants = []
    for _ in range(20_000):
        sentence = gen._CAPITALISED.sub(
            lambda m: rng.choice(names) if rng.random() < 0.8 else m.group(), rng.choice(sentences))
        variants.append((sentence, index_tokens(sentence)))
    now = datetime.now(timezone.utc)
    with store.session() as session:
        session.add(Story(id=1, title="all", first_seen=now))
    for start in range(0, ARTICLES, BATCH):
        articles, terms = [], []
        for i in range(start + 1, min(start + BATCH, ARTICLES) + 1):
            picked = rng.sample(variants, SENTENCES)
            title = " ".join(picked[0][0].rstrip(".").split()[:10])
            body = " ".join(s for s, _ in picked)
            articles.append({
                "id": i, "story_id": 1, "source": f"source{i % 20}", "url": f"https://news.example/{i}",
                "canonical_url": f"https://news.example/{i}", "title": title, "text": body,
                "language": "en", "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                "first_seen": now - timedelta(seconds=ARTICLES - i),
            })
            terms.append({"article_id": i, "terms": " ".join(
                [*index_tokens(title), SEPARATOR, *(t for _, ts in picked for t in ts)])})
        with store.session() as session:
            session.execute(insert(Article), articles)
            session.execute(insert(ArticleTerms), terms)
    return names


def main() -> dict:
    rng = random.Random(6)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        t0 = time.perf_counter()
        names = fill(store, rng)
        print(f"workload: {ARTICLES} articles stored and indexed in {time.perf_counter() - t0:.1f}s")
        queries = [
            f"{names[7]} {names[11]}",
            f'"{names[3]} {names[5]}" OR ({names[8]} -{names[9]})',
            f"{names[1]} NEAR/5 {names[2]}",
            f"title:({names[20]} OR {names[21]} OR {names[22]}) -{names[23]}",
            "wildfire evacuation",
        ]
        ours, counts = [], []
        for text in queries:
            query = parse(text)
            t0 = time.perf_counter()
            with store.session() as session:
                hits = search(session, query)
                show(session, query, hits[:SHOWN])
            ours.append(time.perf_counter() - t0)
            counts.append(len(hits))
            print(f"{ours[-1] * 1000:8.0f} ms  {len(hits):6d} hits  {text}")

        t0 = time.perf_counter()
        with store.session() as session:
            sample = session.execute(select(Article.title, Article.text, Article.source)
                                     .limit(BASELINE_SAMPLE)).all()
            for text in queries:
                query = parse(text)
                for title, body, source in sample:
                    query.match(Document(title, body, source))
        baseline = (time.perf_counter() - t0) / len(queries) * ARTICLES / BASELINE_SAMPLE
        store.close()
    mean = sum(ours) / len(ours)
    figures = {
        "articles": ARTICLES,
        "queries": len(queries),
        "hits": counts,
        "max_s": round(max(ours), 3),
        "mean_s": round(mean, 3),
        "baseline_s_per_query": round(baseline, 1),
        "speedup": round(baseline / mean, 1),
    }
    print(f"ours: mean {mean:.2f}s, max {max(ours):.2f}s per query; baseline (full scan, "
          f"from {BASELINE_SAMPLE} articles): {baseline:.1f}s per query; speedup {figures['speedup']}x")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
