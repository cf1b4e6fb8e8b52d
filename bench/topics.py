"""Benchmark: matching thousands of topics against each new article.

Workload: 10,000 generated topics against 1,000 generated articles. Articles are 25-40
sentences (about 600 words) drawn at random from the real article texts in the repo (the
seeds, tests/pages, tests/site), with most of their capitalised words (names of people,
places, firms) swapped for names from a pool of 4,000 made-up ones, so that articles
differ the way a day's news does. Topics are built like real ones from those names and
the articles' other words: two or three words ANDed, a phrase and a word, an OR group
and a word, a word with a -word or NOT "phrase", a title: word. A newsroom's topics
mostly miss a given article; here an article matches a few dozen of the 10,000.
Everything is seeded, so every run sees the same workload.

Measured, in CPU time: `match_topics` with a `TopicIndex` (built once; only candidate
topics are evaluated), per article, from raw title and text to the list of matches.

Baseline, in the same run: each topic's query compiled once to regular expressions (one
per word or phrase, over the article's words as the query language normalises them) and
tried on each article, the boolean structure evaluated on their results. It runs on the
first BASELINE_SAMPLE articles (a sample keeps the run under two minutes); `identical`
says whether both give the same (topic, article) pairs there. `speedup` is the
baseline's ms per article over ours.

The indexed matcher and the baseline both take the words anywhere in the article
(`focus: anywhere`), so that their matches can be compared. Also measured, each through
its own `TopicIndex`, with speedups over the same regex baseline: the topics under the
default focus (alerts/query.py `Focus`: the terms prominent in the article; it only
narrows), and the topics as the config builds them by default, names having their forms
(`expand`, alerts/expansion.py: a query word that names a country becomes a group of its
forms) under the default focus (regexes of the expanded groups would be slower still).

Run: python -m bench.topics   (last line: one JSON object of the figures)
"""
from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

from newswatch.alerts.expansion import expand
from newswatch.alerts.matcher import Topic, TopicIndex, match_topics
from newswatch.alerts.query import (
    And, Document, Node, Not, Or, Phrase, Query, Term, parse, tokenize,
)

REPO = Path(__file__).resolve().parent.parent
TOPICS = 10_000
ARTICLES = 1_000
BASELINE_SAMPLE = 30
SEED = 6


# --------------------------------------------------------------------------- workload

def _sentences() -> list[str]:
    """Sentences of the real article texts in the repo."""
    from newswatch.corpus.extract import extract

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


def make_names(rng: random.Random, count: int = 4000) -> list[str]:
    """Made-up proper names ("Talvero", "Mirasku"): the people, places and firms of the
    generated news."""
    onsets = "b br c d dr f g gr h k kr l m n p pr r s st t tr v z".split()
    vowels = "a e i o u ai ei ou".split()
    names: set[str] = set()
    while len(names) < count:
        name = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 3)))
        names.add(name.capitalize() + rng.choice(["", "n", "s", "v", "r", "ko", "ia"]))
    return sorted(names)


_CAPITALISED = re.compile(r"(?<=\s)[A-Z][a-z]+")


def make_articles(rng: random.Random, sentences: list[str], names: list[str]
                  ) -> list[tuple[str, str]]:
    def renamed(sentence: str) -> str:
        return _CAPITALISED.sub(
            lambda m: rng.choice(names) if rng.random() < 0.8 else m.group(), sentence)

    articles = []
    for _ in range(ARTICLES):
        title = " ".join(renamed(rng.choice(sentences)).rstrip(".").split()[:10])
        body = " ".join(renamed(s) for s in rng.sample(sentences, rng.randint(25, 40)))
        articles.append((title, body))
    return articles


_OPERATORS = {"or", "and", "not", "near"}


def make_queries(rng: random.Random, sentences: list[str], names: list[str]) -> list[str]:
    # Topics name things: words whose stem occurs in one sentence, not "said" or "with".
    in_sentences: dict[str, int] = {}
    pairs = set()
    for sentence in sentences:
        plain = [w.strip(".,;:!?()\"'“”‘’").lower() for w in sentence.split()]
        plain = [w for w in plain if w.isalpha() and len(w) >= 4 and w not in _OPERATORS]
        for stem in {t.stem for t in tokenize(" ".join(plain))}:
            in_sentences[stem] = in_sentences.get(stem, 0) + 1
        pairs.update(zip(plain, plain[1:]))

    def rare(word: str) -> bool:
        return all(in_sentences.get(t.stem, 0) <= 1 for t in tokenize(word))

    words = sorted({w for p in pairs for w in p if rare(w)})
    pairs = sorted(p for p in pairs if rare(p[0]) or rare(p[1]))

    def w() -> str:
        if rng.random() < 0.6:
            return rng.choice(names)
        word = rng.choice(words)
        return word.capitalize() if rng.random() < 0.3 else word

    def phrase() -> str:
        if rng.random() < 0.5:
            return '"%s %s"' % (rng.choice(names), rng.choice(names))
        return '"%s %s"' % rng.choice(pairs)

    shapes = [
        (35, lambda: " ".join(w() for _ in range(rng.randint(2, 3)))),
        (20, lambda: f"{phrase()} {w()}"),
        (20, lambda: f"({w()} OR {w()}) {w()}"),
        (10, lambda: f"{w()} {w()} -{w()}"),
        (8, lambda: f"{w()} {w()} NOT {phrase()}"),
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


def _run(index: TopicIndex, articles: list[tuple[str, str]]) -> tuple[set, float]:
    """The (topic, article) pairs `index` matches, and the CPU ms per article it takes."""
    pairs = set()
    t0 = time.process_time()
    for i, (title, body) in enumerate(articles):
        for m in match_topics(index, title, body):
            pairs.add((m.topic.name, i))
    return pairs, (time.process_time() - t0) * 1000 / len(articles)


def _words(text: str) -> str:
    return " ".join(t.stem for t in tokenize(text))


# --------------------------------------------------------------------------- run

def main() -> dict:
    rng = random.Random(SEED)
    started = time.perf_counter()
    sentences = _sentences()
    names = make_names(rng)
    articles = make_articles(rng, sentences, names)
    queries = make_queries(rng, sentences, names)
    topics = [Topic(name=f"topic-{i}", query=parse(q, focus=None)) for i, q in enumerate(queries)]
    index = TopicIndex(topics)
    regex_topics = [RegexTopic(t.name, t.query) for t in topics]
    print(f"workload: {len(topics)} topics, {len(articles)} articles of "
          f"{sum(len(b.split()) for _, b in articles) // len(articles)} words, "
          f"{len(sentences)} source sentences; built in {time.perf_counter() - started:.1f}s")

    for title, body in articles:  # warm the tokenizer's caches once, for both timings
        Document(title, body)
    pairs, ours_ms = _run(index, articles)

    focused = [Topic(t.name, parse(q)) for t, q in zip(topics, queries)]
    focused_pairs, focused_ms = _run(TopicIndex(focused), articles)
    expanded = [Topic(t.name, expand(t.query)) for t in focused]
    expanded_pairs, expanded_ms = _run(TopicIndex(expanded), articles)

    baseline_pairs = set()
    t0 = time.process_time()
    for i, (title, body) in enumerate(articles[:BASELINE_SAMPLE]):
        title_words, body_words = _words(title), _words(body)
        for topic in regex_topics:
            if topic.matches(title_words, body_words):
                baseline_pairs.add((topic.name, i))
    baseline_ms = (time.process_time() - t0) * 1000 / BASELINE_SAMPLE

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
        "focused_matches": len(focused_pairs),
        "focused_ms_per_article": round(focused_ms, 3),
        "focused_speedup": round(baseline_ms / focused_ms, 1),
        "expanded_topics": sum(e.query is not t.query for e, t in zip(expanded, focused)),
        "expanded_matches": len(expanded_pairs),
        "expanded_ms_per_article": round(expanded_ms, 3),
        "expanded_speedup": round(baseline_ms / expanded_ms, 1),
    }
    print(f"indexed matcher: {ours_ms:.2f} ms/article, {len(pairs)} matches "
          f"({len(pairs) / len(articles):.1f} per article)")
    print(f"regex baseline:  {baseline_ms:.1f} ms/article on {BASELINE_SAMPLE} articles, "
          f"{len(baseline_pairs)} matches; identical on them: {figures['identical']}")
    print(f"speedup: {figures['speedup']}x")
    print(f"default focus: {focused_ms:.2f} ms/article, {len(focused_pairs)} matches, "
          f"speedup {figures['focused_speedup']}x")
    print(f"with names' forms ({figures['expanded_topics']} topics expanded): "
          f"{expanded_ms:.2f} ms/article, {len(expanded_pairs)} matches, "
          f"speedup {figures['expanded_speedup']}x")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
