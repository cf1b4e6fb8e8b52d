"""How the second draw of bench/data/matching/ was made (topics.json "second_draw").

For each topic that the first draw gave no article about, a seeded random draw
(random.Random(topic name + ":second")) of DRAWN articles among those of the corpus whose
title names one of the topic's countries (any form of the name, as alerts/names.py has
them), whatever the topic's query matches; articles already in the set are left out.
The drawn articles are printed (title and lead) to be labelled by reading, and appended
to articles.jsonl with the same fields as the first draw.

Run: python bench/data/matching/draw_more.py JSONS_DIR
     (JSONS_DIR: data/jsons of github.com/ramybaly/Article-Bias-Prediction, commit ced8111a)
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from newswatch.alerts.expansion import expand
from newswatch.alerts.query import Document, parse

HERE = Path(__file__).resolve().parent
DRAWN = 10
COUNTRIES = {  # the countries the topic's query names
    "israel-palestine": ["Israel", "Palestine"],
    "turkey-coup": ["Turkey"],
    "germany-refugees": ["Germany"],
    "qatar-blockade": ["Qatar", "Saudi Arabia"],
}


def main(jsons: Path) -> None:
    have = {json.loads(line)["id"] for line in
            (HERE / "articles.jsonl").read_text(encoding="utf-8").splitlines() if line}
    corpus = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(jsons.glob("*.json"))]
    with (HERE / "articles.jsonl").open("a", encoding="utf-8") as out:
        for topic, countries in COUNTRIES.items():
            names = [expand(parse(f"title:({c})", focus=None)) for c in countries]
            pool = [a for a in corpus if a["ID"] not in have
                    and any(q.match(Document(a["title"], "")) for q in names)]
            drawn = random.Random(f"{topic}:second").sample(pool, min(DRAWN, len(pool)))
            print(f"=== {topic}: {len(pool)} in the pool")
            for a in drawn:
                have.add(a["ID"])
                print(a["ID"], "|", a["title"], "|", " ".join(a["content"].split()[:60]))
                out.write(json.dumps({
                    "id": a["ID"], "source": a["source"], "url": a["url"], "date": a["date"],
                    "abp_topic": a["topic"], "title": a["title"], "text": a["content"],
                    "drawn_for": topic, "draw": "second"}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
