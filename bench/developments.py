"""The development decision (corpus/developments.py) on the real labelled story set.

Workload: tests/stories/real/news_cluster.jsonl (real articles by real outlets, labelled
by event, with storylines: events that develop an earlier one), ingested in publication
order through `Corpus.add` into a fresh SQLite store, so every article has its stored
story vector. Then each case is judged against the stored vectors of the articles the
labels say came before:
- same event: every later report of an event against that event's earlier reports (it
  should be `also`: an `update` here is a needless message);
- development: the first report of each later event of a storyline against every report
  of the storyline's earlier events (it should be `update`). The set's storylines are
  split where reports are days apart (3.3 days at the least), so these would mostly start
  stories of their own; the decision does not read times, and they are the set's only
  labelled developments.
Baseline, same run: the plain reading of "it names something the story had not", an
update whenever one name or figure of its vector is new. The last line printed is one
JSON object of the figures. Run as `python -m bench.developments [--features]` (the
latter also prints each case's figures, from which the thresholds were chosen).
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict

from sqlalchemy import select

from newswatch.corpus import developments, stories
from newswatch.corpus.developments import UPDATE, Particulars, judge
from newswatch.corpus.ingest import Corpus
from newswatch.store.db import open_store
from newswatch.store.models import Article

from tests.support.storyset import as_article, real


def cases(items: list[dict]) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """(article, earlier articles) for same-event reports and for developments."""
    events: dict[str, list[str]] = defaultdict(list)
    storylines: dict[str, list[str]] = defaultdict(list)
    for item in items:  # in publication order
        events[item["story"]].append(item["id"])
        if item.get("storyline") and item["story"] not in storylines[item["storyline"]]:
            storylines[item["storyline"]].append(item["story"])
    same = [(a, ids[:n]) for ids in events.values() for n, a in enumerate(ids[1:], 1)]
    developed = []
    for line in storylines.values():
        for n, event in enumerate(line[1:], 1):
            developed.append((events[event][0], [a for e in line[:n] for a in events[e]]))
    return same, developed


def main() -> None:
    started = time.perf_counter()
    items = real()
    same, developed = cases(items)
    with tempfile.TemporaryDirectory(prefix="bench-developments-") as tmp:
        store = open_store(f"sqlite:///{tmp}/developments.db")
        corpus = Corpus(store, [])
        stored = {i["id"]: corpus.add(as_article(i), i["source"]).article_id for i in items}
        ingest_s = time.perf_counter() - started
        with store.session() as session:
            vectors = {}
            for story_id in set(session.scalars(select(Article.story_id))):
                vectors.update(developments.vectors(session, story_id))
        store.close()
    particulars = {i["id"]: Particulars.of(i["title"], stories.terms(i["title"], i["text"])) for i in items}

    def verdict(article: str, earlier: list[str]):
        return judge(vectors.get(stored[article], {}), particulars[article].all, particulars[article].headline,
                     [vectors[stored[a]] for a in earlier if stored[a] in vectors])

    def baseline(article: str, earlier: list[str]) -> bool:
        told = {k for a in earlier for k in vectors.get(stored[a], {})}
        return any(k in particulars[article].all and k not in told for k in vectors.get(stored[article], {}))

    def rate(group, decide) -> float:
        return round(sum(decide(a, e) for a, e in group) / len(group), 3)

    def ours(a, e):
        return verdict(a, e).role == UPDATE

    figures = {
        "articles": len(items), "same_event_cases": len(same), "development_cases": len(developed),
        "same_event_update_rate": rate(same, ours), "development_update_rate": rate(developed, ours),
        "baseline_same_event_update_rate": rate(same, baseline),
        "baseline_development_update_rate": rate(developed, baseline),
        "ingest_s": round(ingest_s, 1),
    }
    print(f"later reports of the same event sent as updates: {figures['same_event_update_rate']:.0%}"
          f" (baseline {figures['baseline_same_event_update_rate']:.0%}) of {len(same)}")
    print(f"developments of a storyline sent as updates: {figures['development_update_rate']:.0%}"
          f" (baseline {figures['baseline_development_update_rate']:.0%}) of {len(developed)}")
    if "--features" in sys.argv:  # each case's figures, for choosing thresholds
        for kind, group in (("same", same), ("dev", developed)):
            for a, e in group:
                v = verdict(a, e)
                print("feature", kind, a, round(v.nearest, 3), v.new_particulars, round(v.new_share, 3), v.headlined)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
