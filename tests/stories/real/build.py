"""Build tests/stories/real/news_cluster.jsonl from the Giveme5W1H news_cluster set.

Usage: python tests/stories/real/build.py GIT_DIR
where GIT_DIR is a clone (or bare mirror) of https://github.com/fhamborg/Giveme5W1H.
Reads Giveme5W1H/examples/datasets/news_cluster/data/*.json at HEAD and writes one JSON
object per line: id, url, outlet, title, text, published, event, storyline, dataset_event.
The rules (see tests/stories/README.md) are applied here, in this order, and counted on
stderr: pages that are not articles, texts under MIN_TEXT characters, outlets dated at
crawl time, exact duplicate texts; then each dataset event is split into developments
wherever DEVELOPMENT_GAP passes without an article of it.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

DATA = "Giveme5W1H/examples/datasets/news_cluster/data"
OUT = Path(__file__).resolve().parent / "news_cluster.jsonl"
MIN_TEXT = 300
# Pages whose extracted text is another page's (a search page, a copyright footer).
NOT_ARTICLES = {"NPR Search : NPR"}
NOT_ARTICLE_TEXT_STARTS = ("Copyright 1995",)
# rt.com pages carry their crawl time as publication time: articles of events a month
# apart (Las Vegas shooting, Equifax breach) share 2017-11-27T12:15.
CRAWL_DATED = {"www.rt.com"}
DEVELOPMENT_GAP = timedelta(days=3)


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True,
                          capture_output=True, text=True).stdout


def main(git_dir: str) -> int:
    paths = git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", DATA).split()
    raw = [json.loads(git(git_dir, "show", f"HEAD:{p}")) for p in paths]
    dropped: dict[str, int] = defaultdict(int)
    kept, texts = [], set()
    for page in sorted(raw, key=lambda p: (p["date_publish"], p["dId"])):
        text = (page["text"] or "").strip()
        cluster = page["newsCluster"]
        if isinstance(cluster, str):
            cluster = ast.literal_eval(cluster)
        if page["title"] in NOT_ARTICLES or text.startswith(NOT_ARTICLE_TEXT_STARTS):
            dropped["not an article"] += 1
        elif len(text) < MIN_TEXT:
            dropped[f"text under {MIN_TEXT} characters"] += 1
        elif page["source_domain"] in CRAWL_DATED:
            dropped["dated at crawl time"] += 1
        elif text in texts:
            dropped["exact duplicate text"] += 1
        else:
            texts.add(text)
            kept.append((page, text, cluster))

    by_event = defaultdict(list)
    for item in kept:
        by_event[item[2]["EventId"]].append(item)
    rows = []
    storylines = 0
    for event_id, items in sorted(by_event.items()):
        development, previous = 0, None
        for page, text, cluster in items:  # in publication order
            at = datetime.fromisoformat(page["date_publish"])
            if previous is not None and at - previous > DEVELOPMENT_GAP:
                development += 1
            previous = at
            rows.append({
                "id": page["dId"][:16], "url": page["url"], "outlet": page["source_domain"],
                "title": page["title"].strip(), "text": text, "published": at.isoformat() + "+00:00",
                "event": f"{event_id}.{development}", "dataset_event": f"{event_id} {cluster['Event']}",
                "storyline": None,
            })
        if development:
            storylines += 1
            for row in rows[-len(items):]:
                row["storyline"] = row["dataset_event"]
    rows.sort(key=lambda r: (r["published"], r["id"]))
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    outlets = defaultdict(set)
    for row in rows:
        outlets[row["event"]].add(row["outlet"])
    print(f"{len(raw)} pages; dropped {dict(dropped)}; kept {len(rows)} articles from "
          f"{len({r['outlet'] for r in rows})} outlets in {len(outlets)} events, "
          f"{sum(len(o) > 1 for o in outlets.values())} told by 2+ outlets; "
          f"{storylines} dataset events split into developments (storylines)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
