"""Backtests and backfills: `newswatch match` on a corpus stored by `run --once`, and the
full-text prefilter it rests on (SQLite FTS5 here; PostgreSQL in test_backtest_postgres)."""
from __future__ import annotations

import json
import logging
import sqlite3
import textwrap

import pytest
from sqlalchemy import select

from conftest import Newswatch
from newswatch.alerts.backtest import search, show
from newswatch.alerts.search import index_terms
from newswatch.alerts.matcher import Topic, TopicIndex, match_topics
from newswatch.alerts.query import Document, parse
from newswatch.corpus.extract import Article
from newswatch.corpus.ingest import Corpus
from newswatch.jobs import cli
from newswatch.store.db import open_store
from newswatch.store.models import TopicRecord

# name -> (title, body); plain-text articles: the first line is the title.
ARTICLES = {
    "seoul-arms": ("Seoul approves arms package for Ukraine",
                   "South Korea's cabinet approved an arms package for Ukraine on Tuesday, "
                   "officials in Seoul said.\nThe shipment includes artillery shells."),
    "farms": ("Farm incomes fall across the plains",
              "Farms and ranches reported lower incomes. Drought harms crops, and the "
              "Korean buyers who once bought wheat have gone quiet."),
    "kyiv-talks": ("Zelenskyý meets envoys in Kyiv",
                   "President Zelenskyý met envoys in Kyiv to discuss air defence. "
                   "The talks ran late into the night. An aide said that the meeting was "
                   "useful and that more of them will follow in the new year."),
    "football": ("Ukraine beat Wales in World Cup qualifier",
                 "Ukraine's football team won 2-1 in the qualifier. Fans celebrated "
                 "in Kyiv and Lviv. The coach said that the win was earned and that the "
                 "team will rest before the next match in the spring."),
    "us-politics": ("Senators debate U.S. aid bill",
                    "U.S. senators debated the aid bill. \"Give us time,\" one said of the "
                    "talks on Ukraine."),
}


def write_articles(folder, names):
    folder.mkdir(exist_ok=True)
    for name in names:
        title, body = ARTICLES[name]
        (folder / f"{name}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")


def config(topics):
    return {
        "sources": [{"name": "inbox", "path": "drop/"}],
        "topics": [{"name": n, "query": q, "notify": ["local"]} for n, q in topics.items()],
        "channels": {"local": ["console://"]},
    }


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store filled by `run --once` over every article above (shared: tests only read)."""
    newswatch = Newswatch(tmp_path_factory.mktemp("stored"))
    write_articles(newswatch.workdir / "drop", ARTICLES)
    newswatch.write_config(config({"arms": "South Korea Ukraine arms"}))
    result = newswatch("run", "--once")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(newswatch.workdir / "newswatch.db") as db:
        db.execute("UPDATE articles SET first_seen = datetime('now', '-10 days')"
                   " WHERE url LIKE '%/farms.txt'")
    return newswatch


@pytest.fixture(autouse=True)
def _keep_log_levels():
    """`cli.main` in this process sets library loggers' levels (as the command does);
    put them back so later tests see the logging they expect."""
    saved = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    root = logging.root.level
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    logging.root.setLevel(root)


def matched(capsys, *args) -> list[str]:
    """The article file names `newswatch match ... --json` lists. The command runs in this
    process (in the working directory the test chdirs to): a subprocess each is slow."""
    assert cli.main(["match", *args, "--json"]) == 0
    return sorted(hit["url"].rsplit("/", 1)[-1].removesuffix(".txt")
                  for hit in json.loads(capsys.readouterr().out))


# (query, extra arguments, the articles it catches, why)
BACKTESTS = [
    ("South Korea Ukraine arms", [], ["seoul-arms"], "all four words, in one article"),
    ("arms", [], ["seoul-arms"], "farms and harms are other words"),
    ("Ukraine -football", [], ["kyiv-talks", "seoul-arms", "us-politics"],
     "NOT drops the match report (Kyiv stands for Ukraine)"),
    ("Ukraine NOT title:Wales", [], ["kyiv-talks", "seoul-arms", "us-politics"],
     "NOT of a title word"),
    ("Kyiv OR Kiev", [], ["football", "kyiv-talks"], "either spelling"),
    ("Zelenskyy", [], ["kyiv-talks"], "diacritics folded"),
    ("U.S.", [], ["us-politics"], "the abbreviation"),
    ("us -U.S.", [], [], "the pronoun alone is in no article without U.S."),
    ('"arms package"', [], ["seoul-arms"], "a phrase"),
    ('"Seoul cabinet"', [], [], "both words, never adjacent"),
    ('"officials in Seoul said"', [], ["seoul-arms"], "a phrase across punctuation"),
    ("Korea NEAR/2 arms", [], [], "three words between Korea's and arms"),
    ("Korea NEAR/3 arms", [], ["seoul-arms"], "... within three"),
    ("Ukraine source:inbox", [], ["football", "kyiv-talks", "seoul-arms", "us-politics"],
     "source:"),
    ("Ukraine", ["--source", "elsewhere"], [], "--source narrows"),
    ("Korean", [], [], "first seen ten days ago: before the default --since 7d"),
    ("Korean", ["--since", "30d"], ["farms"], "... within 30 days; korean is not korea"),
]


def test_match_backtests_the_stored_corpus(stored, monkeypatch, capsys):
    """One stored corpus, many queries: each lists exactly what it would have caught."""
    monkeypatch.chdir(stored.workdir)
    failures = []
    for query, extra, expected, why in BACKTESTS:
        got = matched(capsys, query, *extra)
        if got != expected:
            failures.append(f"{query!r} {extra}: got {got}, expected {expected} ({why})")
    assert not failures, "\n".join(failures)


def test_match_prints_snippets_with_marks(stored):
    result = stored("match", "Korea NEAR/5 arms")
    assert result.returncode == 0, result.stderr
    assert "Seoul approves arms package for Ukraine" in result.stdout
    assert "South «Korea's» cabinet approved an «arms» package" in result.stdout
    assert result.stdout.rstrip().endswith("1 articles matched")


def test_backfill_of_an_every_article_topic_queues_each_article(newswatch, monkeypatch, capsys):
    write_articles(newswatch.workdir / "drop", ["kyiv-talks", "football"])
    topics = config({"arms": "South Korea Ukraine arms"})
    newswatch.write_config(topics)
    assert newswatch("run", "--once").returncode == 0
    topics["topics"].append({"name": "kyiv", "query": "Kyiv OR Kiev", "notify": ["local"], "every_article": True})
    newswatch.write_config(topics)

    monkeypatch.chdir(newswatch.workdir)
    assert cli.main(["match", "--topic", "kyiv", "--backfill"]) == 0
    assert capsys.readouterr().out.strip() == "kyiv: 2 articles matched, 2 alerts queued"
    sent = newswatch("run", "--once")
    assert "Zelenskyý meets envoys" in sent.stdout and "Ukraine beat Wales" in sent.stdout, sent.stderr


def test_new_topic_alerts_only_on_new_articles_unless_backfilled(newswatch, monkeypatch, capsys):
    drop = newswatch.workdir / "drop"
    write_articles(drop, ["seoul-arms", "kyiv-talks"])
    newswatch.write_config(config({"arms": "South Korea Ukraine arms"}))
    first = newswatch("run", "--once")
    assert first.returncode == 0, first.stderr
    assert "Seoul approves arms package" in first.stdout
    assert "Kyiv" not in first.stdout

    # A topic added later: the article already stored does not alert, a new one does.
    newswatch.write_config(config({"arms": "South Korea Ukraine arms", "kyiv": "Kyiv OR Kiev"}))
    write_articles(drop, ["football"])
    second = newswatch("run", "--once")
    assert second.returncode == 0, second.stderr
    assert "Ukraine beat Wales" in second.stdout
    assert "Zelenskyý meets envoys" not in second.stdout

    # The topic's back catalogue, on request: the older article, queued once.
    monkeypatch.chdir(newswatch.workdir)
    assert matched(capsys, "--topic", "kyiv") == ["football", "kyiv-talks"]
    assert cli.main(["match", "--topic", "kyiv", "--backfill"]) == 0
    assert capsys.readouterr().out.strip() == "kyiv: 2 articles matched, 1 alerts queued"
    third = newswatch("run", "--once")
    assert "Zelenskyý meets envoys" in third.stdout
    assert "Ukraine beat Wales" not in third.stdout, "already alerted: never twice"
    assert cli.main(["match", "--topic", "kyiv", "--backfill"]) == 0
    assert capsys.readouterr().out.strip() == "kyiv: 2 articles matched, 0 alerts queued"

    # When each topic first appeared is kept across runs.
    store = open_store(newswatch.database_url, migrate=False)
    with store.session() as session:
        added = dict(session.execute(select(TopicRecord.name, TopicRecord.added)).all())
    store.close()
    assert set(added) == {"arms", "kyiv"} and added["arms"] < added["kyiv"]


def test_match_usage_errors(stored, monkeypatch, capsys):
    monkeypatch.chdir(stored.workdir)
    for args, message in [
        ([], "give a QUERY or --topic NAME"),
        (["arms", "--topic", "arms"], "give a QUERY or --topic NAME"),
        (["arms", "--backfill"], "--backfill needs --topic NAME"),
        (["--topic", "nope"], "no topic named 'nope'"),
        (["(Kyiv OR Kiev"], "query does not parse: unbalanced parenthesis\n  (Kyiv OR Kiev\n  ^\n"),
    ]:
        assert cli.main(["match", *args]) == 2, args
        assert message in capsys.readouterr().err


def test_topic_filters_apply_to_live_matching_and_backtests(newswatch, monkeypatch, capsys):
    write_articles(newswatch.workdir / "drop", ["kyiv-talks", "football"])
    newswatch.write_config(textwrap.dedent("""
        sources:
          - name: inbox
            path: drop/
        topics:
          - name: kyiv-strong
            query: Kyiv
            min_score: 4
            notify: [local]
          - name: kyiv-in-french
            query: Kyiv
            sources: [inbox]
            languages: [fr]
            notify: [local]
        channels:
          local: [console://]
    """))
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    # Kyiv in the title and the body (6.2) scores higher than in the body alone (2.6).
    assert "Zelenskyý meets envoys" in run.stdout
    assert "Ukraine beat Wales" not in run.stdout
    assert "kyiv-in-french" not in run.stdout
    monkeypatch.chdir(newswatch.workdir)
    assert matched(capsys, "Kyiv") == ["football", "kyiv-talks"]
    assert matched(capsys, "--topic", "kyiv-strong") == ["kyiv-talks"]
    assert matched(capsys, "--topic", "kyiv-in-french") == []


# --------------------------------------------------------------------------- in-process

def _corpus_articles():
    for i, (name, (title, body)) in enumerate(ARTICLES.items()):
        yield Article(url=f"https://example.org/{name}", canonical_url=f"https://example.org/{name}",
                      title=title, text=body, published=None, language="en", author=None), \
            "wire" if i % 2 else "inbox"


PREFILTER_QUERIES = [q for q, extra, _, _ in BACKTESTS if not extra] + [
    "title:Ukraine", '"South Korea" OR (Kyiv -Lviv)', "(Kyiv OR Seoul) NEAR/9 (envoys OR cabinet)",
    "Ukraine -source:inbox", "us", "2-1", "Zelenskyý OR U.S.",
]


def check_search_finds_what_matching_finds(store):
    """For each query, search (prefilter + matcher) returns exactly the stored articles
    that the matcher alone accepts when run over all of them."""
    corpus = Corpus(store, [])
    for article, source in _corpus_articles():
        corpus.add(article, source)
    with store.session() as session:
        from newswatch.store.models import Article as Stored
        everything = session.query(Stored).all()
        for text in PREFILTER_QUERIES:
            query = parse(text)
            expected = sorted(a.id for a in everything
                              if query.match(Document(a.title, a.text, a.source)))
            hits = search(session, query)
            assert sorted(hit.article_id for hit in hits) == expected, text
            # Scores from the stored terms are the scores from the text.
            for article, found in show(session, query, hits):
                assert found.score == next(h.score for h in hits if h.article_id == article.id)
                assert found.snippets


def test_sqlite_search_equals_matching_everything(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        check_search_finds_what_matching_finds(store)
    finally:
        store.close()


def test_fts_index_follows_the_articles_table(tmp_path):
    """Rows written by ingest are indexed in the same transaction; articles stored
    without terms (before the index existed) are indexed by the next search."""
    store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    corpus = Corpus(store, [])
    (article, source), *_ = _corpus_articles()
    corpus.add(article, source)
    fts = "SELECT count(*) FROM article_terms_fts WHERE article_terms_fts MATCH 'seoul'"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql(fts).scalar() == 1
        conn.exec_driver_sql("DELETE FROM article_terms")
        conn.commit()
        assert conn.exec_driver_sql(fts).scalar() == 0, "the delete trigger unindexes"
    with store.session() as session:
        assert [h.article_id for h in search(session, parse("Seoul"))] == [1]
    store.close()


def test_index_terms_are_single_tokens():
    terms = index_terms("U.S. aid", "Zelenskyý's 3.5% Korea-Ukraine 1,000th Киев")
    assert terms.split() == ["x752e73", "aid", "x", "zelenskyy", "x332e35", "korea", "ukrain",
                             "1000th", "x" + "киев".encode().hex()]
    assert index_terms("Xi", "") == "x" + "xi".encode().hex() + " x", "x-words are encoded"


# (query, title, text, source, language) cases where the index must agree with the loop
INDEX_CASES = [
    ("South Korea Ukraine arms", "", "South Korea sends arms to Ukraine", None, None),
    ("(Kyiv OR Kiev) talks", "Kiev talks", "", None, None),
    ('"the Hague" -Netherlands', "", "court in the Hague", None, None),
    ("title:Seoul arms", "Seoul", "arms", None, None),
    ("Ukraine source:wire", "", "Ukraine", "wire", None),
    ("Korea NEAR/2 arms", "", "Korea sends arms", None, None),
]


def test_topic_index_matches_what_a_loop_over_all_topics_matches():
    topics = [Topic(f"t{i}", parse(q)) for i, (q, *_) in enumerate(INDEX_CASES)]
    topics.append(Topic("strict", parse("Ukraine"), min_score=100))
    topics.append(Topic("french", parse("Ukraine"), languages=frozenset({"fr"})))
    topics.append(Topic("wire-only", parse("Ukraine"), sources=frozenset({"wire"})))
    index = TopicIndex(topics)
    for _, title, text, source, language in INDEX_CASES:
        looped = [m.topic.name for m in match_topics(topics, title, text, source, language)]
        indexed = [m.topic.name for m in match_topics(index, title, text, source, language)]
        assert looped == indexed
        assert looped, (title, text)
        assert len(index.candidates(Document(title, text))) < len(topics)
    assert match_topics(index, "", "Ukraine", "inbox", "en") == [], "every filter applies"
    assert [m.topic.name for m in match_topics(index, "", "Ukraine", "wire", None)] == [
        "t4", "french", "wire-only"]


def test_register_topics_keeps_when_a_topic_first_appeared(tmp_path):
    from datetime import timedelta

    from newswatch.alerts.matcher import register_topics

    store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    (old,) = register_topics(store, [Topic("old", parse("arms"))])
    old_again, new = register_topics(store, [Topic("old", parse("tanks")), Topic("new", parse("x"))])
    store.close()
    assert old_again.added == old.added < new.added
    assert not new.alerts_on(new.added - timedelta(seconds=1)), "the back catalogue"
    assert new.alerts_on(new.added) and Topic("unregistered", parse("x")).alerts_on(old.added)
