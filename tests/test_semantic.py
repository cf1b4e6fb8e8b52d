"""Topics with a `like:` text: matching by meaning with the real embedding model (the
`semantic` extra), its storage and backtest, and the config error without the extra."""
from __future__ import annotations

import pytest

from newswatch.alerts import semantic
from newswatch.alerts.expansion import expand
from newswatch.alerts.matcher import Topic, TopicIndex, match_document
from newswatch.alerts.query import Document, parse
from newswatch.alerts.semantic import Meaning, article_vector
from newswatch.jobs.config import ConfigError, load_config

LIKE = "South Korea sends weapons to Ukraine"
QUERY = "South Korea Ukraine arms"
# Test inputs: (title, body).
ARTICLES = {
    "howitzer-rounds": ("Seoul to ship howitzer rounds to Kyiv",
                        "The defence ministry said it would ship 155mm howitzer rounds to the "
                        "army fighting the invasion, a first since the war began."),
    "troops": ("North Korea sends troops to Russia",
               "Pyongyang has sent several thousand soldiers to Russia, intelligence "
               "officials said."),
    "fashion": ("Seoul fashion week opens",
                "Designers showed their spring lines on the runway in Seoul on Friday."),
    "football": ("Ukraine beat Wales in World Cup qualifier",
                 "Ukraine's football team won 2-1 in the qualifier."),
    "arms": ("South Korea approves arms for Ukraine",
             "South Korea's cabinet approved an arms package for Ukraine on Tuesday."),
}


def topic(match: str) -> Topic:
    return Topic("korea-arms", expand(parse(QUERY)),
                 meaning=Meaning(LIKE, 0.5, require=match == "all"))


def matched(t: Topic, name: str, with_vector: bool = True):
    title, body = ARTICLES[name]
    vector = article_vector(title, body) if with_vector else None
    return match_document(TopicIndex([t]), Document(title, body), vector=vector)


@pytest.mark.parametrize("match,name,expected", [
    ("any", "howitzer-rounds", True),   # none of the query's words or forms: by meaning
    ("any", "fashion", False),
    ("any", "football", False),
    ("any", "arms", True),              # by the query
    ("all", "arms", True),              # both
    ("all", "howitzer-rounds", False),  # the query does not match
    ("all", "troops", False),
])
def test_like_matches_by_meaning(match, name, expected):
    assert bool(matched(topic(match), name)) is expected


def test_a_match_by_meaning_shows_the_most_similar_sentences():
    found = matched(topic("any"), "howitzer-rounds")[0].match
    assert 0.5 <= found.score <= 1
    first = found.snippets[0]
    assert f"similar to “{LIKE}”" in first.text and "the article:" in first.text
    start, end = first.marks[0]
    assert first.text[start:end] in ARTICLES["howitzer-rounds"][0] + ARTICLES["howitzer-rounds"][1]


def test_without_a_vector_like_adds_nothing_and_all_matches_nothing():
    assert matched(topic("any"), "arms", with_vector=False)
    assert not matched(topic("any"), "howitzer-rounds", with_vector=False)
    assert not matched(topic("all"), "arms", with_vector=False)


def test_a_like_topic_without_the_extra_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setattr(semantic, "available", lambda: False)
    semantic.load.cache_clear()
    try:
        path = tmp_path / "newswatch.yaml"
        path.write_text(f"topics:\n  - name: korea-arms\n    query: {QUERY}\n"
                        f"    like: {LIKE}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_config(path)
    finally:
        semantic.load.cache_clear()
    assert str(err.value) == (
        f"{path}: topics[0].like: topic 'korea-arms': like: needs the 'semantic' extra, "
        "which is not installed (pip install 'newswatch[semantic]', after a CPU build of torch)")


@pytest.mark.slow
def test_vectors_are_stored_and_backtested(newswatch, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, (title, body) in ARTICLES.items():
        (inbox / f"{name}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    newswatch.write_config({
        "sources": [{"name": "inbox", "path": str(inbox)}],
        "topics": [{"name": "korea-arms", "query": QUERY, "like": LIKE,
                    "min_similarity": 0.5, "notify": ["out"]}],
        "channels": {"out": ["console://"]},
    })
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    assert "Seoul to ship howitzer rounds to Kyiv" in run.stdout
    assert "Seoul fashion week" not in run.stdout

    backtest = newswatch("match", "--topic", "korea-arms", "--since", "3650d")
    assert backtest.returncode == 0, backtest.stderr
    assert "Seoul to ship howitzer rounds to Kyiv" in backtest.stdout
    assert "South Korea approves arms for Ukraine" in backtest.stdout
    assert "similar to" in backtest.stdout
    assert "Seoul fashion week" not in backtest.stdout
    assert "Batches" not in backtest.stdout + backtest.stderr  # no progress bars
