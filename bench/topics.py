"""Benchmark: matching thousands of topics against each new article.

Workload: 10,000 generated topics against 1,000 generated articles. Articles are 25-40
sentences (about 600 words) drawn at random from the real article texts in the repo (the
seeds, tests/pages, tests/site); topics are built from those articles' words, mixed like
real ones: two or three words ANDed, a phrase and a word, an OR group and a word, a word
with a -word or NOT "phrase", a title: word. Everything is seeded, so every run sees the
same workload.

Measured: `match_topics` with a `TopicIndex` (built once; only candidate topics are
evaluated), per article, from raw title and text to the list of matches.

Baseline, in the same run: each topic's query compiled once to regular expressions (one
per word or phrase, over the article's words as the query language normalises them) and
tried on each article, the boolean structure evaluated on their results. It runs on the
first BASELINE_SAMPLE articles (it takes about half a second an article); `identical`
says whether both give the same (topic, article) pairs there. `speedup` is the
baseline's ms per article over ours.

Run: python bench/topics.py   (last line: one JSON object of the figures)
"""
from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path

from newswatch.alerts.matcher import Topic, TopicIndex, match_topics
from newswatch.alerts.query import And, Node, Not, Or, Phrase, Query, Term, parse, tokenize

REPO = Path(__file__).resolve().parent.parent
TOPICS = 10_000
ARTICLES = 1_000
BASELINE_SAMPLE = 60
SEED = 6


# --------------------------------------------------------------------------- workload

def _sentences() -> list[str]:
    """Sentences of the real article texts in the repo."""
    from newswatch.crawler.extract import extract

    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    for page in sorted((REPO / "tests" / "pages").glob("*.json")):
        texts.extend(json.loads(page.read_text(encoding="utf-8")).get("paragraphs", []))
    for page in sorted((REPO / "tests" / "site").rglob("*.html")):
        texts.append(extract(page.read_bytes(), page.as_uri(), "text/html").text)
    found = []
    for text in texts:
        found.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text)
                     if len(s.split()) >= 6)
    return sorted(set(found))


def make_articles(rng: random.Random, sentences: list[str]) -> list[tuple[str, str]]:
    articles = []
    for _ in range(ARTICLES):
        title = " ".join(rng.choice(sentences).rstrip(".").split()[:10])
        body = " ".join(rng.sample(sentences, rng.randint(25, 40)))
        articles.append((title, body))
    return articles


_OPERATORS = {"or", "and", "not", "near"}


def make_queries(rng: random.Random, sentences: list[str]) -> list[str]:
    words, pairs = set(), set()
    for sentence in sentences:
        plain = [w.strip(".,;:!?()\"'“”‘’").lower() for w in sentence.split()]
        plain = [w for w in plain if w.isalpha() and len(w) >= 3 and w not in _OPERATORS]
        words.update(w for w in plain if len(w) >= 4)
        pairs.update(zip(plain, plain[1:]))
    words, pairs = sorted(words), sorted(pairs)

    def w() -> str:
        word = rng.choice(words)
        return word.capitalize() if rng.random() < 0.3 else word

    def phrase() -> str:
        return '"%s %s"' % rng.choice(pairs)

    shapes = [
        (35, lambda: " ".join(w() for _ in range(rng.randint(2, 3)))),
        (20, lambda: f"{phrase()} {w()}"),
        (20, lambda: f"({w()} OR {w()}) {w()}"),
        (10, lambda: f"{w()} {w()} -{w()}"),
        (8, lambda: f"{w()} NOT {phrase()}"),
        (7, lambda: f"title:{w()} {w()}"),
    ]
    weights = [s[0] for s in shapes]
    return [rng.choices(shapes, weights)[0][1]() for _ in range(TOPICS)]


# --------------------------------------------------------------------------- baseline

class RegexTopic:
    """A query compiled once to one regular expression per word or phrase, matched on
    the article's normalised words joined by spaces (title and body apart)."""

    def __init__(self, name: str, query: Query):
        self.name = name
        self.tree = self._compile(query.root)

    def _compile(self, node: Node):
        if isinstance(node, (Term, Phrase)):
            stems = (node.stem,) if isinstance(node, Term) else node.stems
            pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(stems)) + r"(?!\S)")
            return ("leaf", pattern, node.in_title)
        if isinstance(node, Not):
            return ("not", self._compile(node.child))
        if isinstance(node, (And, Or)):
            return ("and" if isinstance(node, And) else "or",
                    [self._compile(c) for c in node.children])
        raise ValueError(f"the baseline has no regex for {type(node).__name__}")

    def matches(self, title: str, body: str) -> bool:
        return self._eval(self.tree, title, body)

    def _eval(self, tree, title: str, body: str) -> bool:
        kind = tree[0]
        if kind == "leaf":
            return bool(tree[1].search(title) or (not tree[2] and tree[1].search(body)))
        if kind == "not":
            return not self._eval(tree[1], title, body)
        if kind == "and":
            return all(self._eval(t, title, body) for t in tree[1])
        return any(self._eval(t, title, body) for t in tree[1])


def _words(text: str) -> str:
    return " ".join(t.stem for t in tokenize(text))


# --------------------------------------------------------------------------- run

def main() -> dict:
    rng = random.Random(SEED)
    started = time.perf_counter()
    sentences = _sentences()
    articles = make_articles(rng, sentences)
    queries = make_queries(rng, sentences)
    topics = [Topic(name=f"topic-{i}", query=parse(q)) for i, q in enumerate(queries)]
    index = TopicIndex(topics)
    regex_topics = [RegexTopic(t.name, t.query) for t in topics]
    print(f"workload: {len(topics)} topics, {len(articles)} articles of "
          f"{sum(len(b.split()) for _, b in articles) // len(articles)} words, "
          f"{len(sentences)} source sentences; built in {time.perf_counter() - started:.1f}s",
          file=sys.stderr)

    pairs = set()
    t0 = time.perf_counter()
    for i, (title, body) in enumerate(articles):
        for m in match_topics(index, title, body):
            pairs.add((m.topic.name, i))
    ours_ms = (time.perf_counter() - t0) * 1000 / len(articles)

    baseline_pairs = set()
    t0 = time.perf_counter()
    for i, (title, body) in enumerate(articles[:BASELINE_SAMPLE]):
        title_words, body_words = _words(title), _words(body)
        for topic in regex_topics:
            if topic.matches(title_words, body_words):
                baseline_pairs.add((topic.name, i))
    baseline_ms = (time.perf_counter() - t0) * 1000 / BASELINE_SAMPLE

    ours_on_sample = {p for p in pairs if p[1] < BASELINE_SAMPLE}
    figures = {
        "topics": len(topics),
        "articles": len(articles),
        "matches": len(pairs),
        "identical": ours_on_sample == baseline_pairs,
        "ms_per_article": round(ours_ms, 3),
        "baseline_ms_per_article": round(baseline_ms, 1),
        "baseline_articles": BASELINE_SAMPLE,
        "speedup": round(baseline_ms / ours_ms, 1),
    }
    print(f"indexed matcher: {ours_ms:.2f} ms/article, {len(pairs)} matches "
          f"({len(pairs) / len(articles):.1f} per article)")
    print(f"regex baseline:  {baseline_ms:.1f} ms/article on {BASELINE_SAMPLE} articles, "
          f"{len(baseline_pairs)} matches; identical on them: {figures['identical']}")
    print(f"speedup: {figures['speedup']}x")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
