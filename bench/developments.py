"""The development decision (crawler/developments.py) on the hand-labelled story set.

Workload: tests/stories/articles.json (33 short articles in 13 labelled events). Two
kinds of case, each an article judged against earlier articles' story terms:
- same event: every later report of a labelled event against the event's earlier
  reports (it should be `also`; an `update` here is a needless message);
- next event: every article of another event on the same subject (two wildfires, two
  rulings, two launches) against an article of the first (it should be `update`).
Baseline, same run: the plain reading of "it names something the story had not", an
update whenever one name or figure is new. The last line printed is one JSON object.
"""
from __future__ import annotations

import json
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from storyset import labelled  # noqa: E402

from newswatch.crawler import stories  # noqa: E402
from newswatch.crawler.developments import UPDATE, headline_terms, judge  # noqa: E402


def main() -> None:
    started = time.perf_counter()
    items = labelled()
    terms = {i["id"]: stories.terms(i["title"], i["text"]) for i in items}
    headline = {i["id"]: headline_terms(i["title"], terms[i["id"]]) for i in items}
    keys = {k: {stories.term_key(t) for t in v} for k, v in terms.items()}
    events: dict[str, list[str]] = {}
    for item in items:
        events.setdefault(item["story"], []).append(item["id"])
    same = [(a, set().union(*(keys[x] for x in ids[:n])))
            for ids in events.values() for n, a in enumerate(ids[1:], 1)]
    nxt = [(b["id"], keys[a["id"]]) for a, b in combinations(items, 2)
           if a["story"] != b["story"] and a["story"].split("-")[0] == b["story"].split("-")[0]]

    def rate(cases, decide) -> float:
        return sum(decide(a, known) for a, known in cases) / len(cases)

    def ours(a, known):
        return judge(terms[a], known, headline[a]).role == UPDATE

    def baseline(a, known):
        return any(t[:2] in ("e:", "n:") and stories.term_key(t) not in known for t in terms[a])

    figures = {
        "same_event_cases": len(same), "next_event_cases": len(nxt),
        "same_event_update_rate": round(rate(same, ours), 3),
        "next_event_update_rate": round(rate(nxt, ours), 3),
        "baseline_same_event_update_rate": round(rate(same, baseline), 3),
        "baseline_next_event_update_rate": round(rate(nxt, baseline), 3),
    }
    print(f"later reports of the same event sent as updates: {figures['same_event_update_rate']:.0%}"
          f" (baseline {figures['baseline_same_event_update_rate']:.0%}) of {len(same)}")
    print(f"next events on the same subject sent as updates: {figures['next_event_update_rate']:.0%}"
          f" (baseline {figures['baseline_next_event_update_rate']:.0%}) of {len(nxt)}")
    figures["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
