"""Config loading: a bad config is one clear message naming file, key and problem, exit 2."""
from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from newswatch.jobs.config import ConfigError, load_config

pytestmark = pytest.mark.one_backend

GOOD = """
sources:
  - name: seeds
    path: seeds/
    every: 10m
  - name: wire
    feed: https://example.com/rss.xml
    every: "*/10 * * * *"
topics:
  - name: sk-arms
    query: South Korea Ukraine arms
    notify: [local]
channels:
  local:
    - console://
"""


def write(tmp_path, text):
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_config_builds_ready_objects(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert [s.name for s in config.sources] == ["seeds", "wire"]
    assert config.schedules["seeds"].seconds == 600
    assert config.schedules["wire"].cron == "*/10 * * * *"
    assert config.topics[0].channels == ("local",)
    assert config.database == "sqlite:///newswatch.db"
    assert config.channels["local"].endpoints[0].url == "console://"


def test_env_interpolation(tmp_path, monkeypatch):
    monkeypatch.setenv("NW_DB", "sqlite:///x.db")
    config = load_config(write(tmp_path, "database: ${NW_DB}\n"))
    assert config.database == "sqlite:///x.db"


BAD = [
    ("malformed-yaml", "sources: [\n  - name: x\n", "not valid YAML"),
    ("top-level-list", "- a\n- b\n", "top level"),
    ("unknown-key", "databse: sqlite:///x.db\n", "databse: unknown key"),
    ("unknown-channel", GOOD.replace("notify: [local]", "notify: [local, team]"),
     "topics[0].notify[1]: unknown channel 'team'"),
    ("missing-env", GOOD.replace("console://", "json://${NW_SURELY_UNSET_VAR}/hook"),
     "channels.local[0]: environment variable ${NW_SURELY_UNSET_VAR} is not set"),
    ("bad-every", GOOD.replace("every: 10m", "every: often"), "sources[0].every"),
    ("two-kinds", GOOD.replace("path: seeds/", "path: seeds/\n    feed: https://e.com/f"),
     "sources[0]: a source needs exactly one of"),
    ("bad-query", GOOD.replace("South Korea Ukraine arms", "South (Korea Ukraine"), "topics[0].query"),
    ("negative-only-query", GOOD.replace("South Korea Ukraine arms", "-sports"), "topics[0].query"),
    ("unknown-topic-source", GOOD.replace("notify: [local]", "notify: [local]\n    sources: [nope]"),
     "topics[0].sources[0]: unknown source 'nope'"),
    ("bad-language", GOOD.replace("notify: [local]", "notify: [local]\n    languages: [english]"),
     "topics[0].languages[0]"),
    ("negative-min-score", GOOD.replace("notify: [local]", "notify: [local]\n    min_score: -1"),
     "topics[0].min_score"),
    ("missing-query", GOOD.replace("    query: South Korea Ukraine arms\n", ""),
     "topics[0].query: required key is missing"),
    ("duplicate-source", GOOD.replace("name: wire", "name: seeds"), "sources[1].name: duplicate"),
    ("bad-channel-url", GOOD.replace("console://", "notascheme://nothing"), "channels.local"),
    ("bad-updates", GOOD.replace("notify: [local]", "notify: [local]\n    updates: sometimes"),
     "topics[0].updates: Input should be 'developments', 'none' or 'every_article'"),
    ("bad-update-every", GOOD.replace("notify: [local]", "notify: [local]\n    update_every: hourly"),
     "topics[0].update_every: 'hourly' is not a duration"),
    ("every-article-contradicts-updates",
     GOOD.replace("notify: [local]", "notify: [local]\n    every_article: true\n    updates: none"),
     "topics[0]: every_article: true contradicts updates: none"),
    ("memory-database", "database: 'sqlite://'\n", "database: an in-memory SQLite database"),
    ("bad-database", "database: not a url\n", "database: not a database URL"),
]


@pytest.mark.parametrize("text, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_names_file_key_and_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(str(path))
    assert expected in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("case", ["unknown-channel", "missing-env", "malformed-yaml"])
def test_cli_exits_2_before_starting_anything(newswatch, case):
    text = dict((b[0], b[1]) for b in BAD)[case]
    newswatch.write_config(textwrap.dedent(text))
    for command in (["check"], ["run", "--once"]):
        result = newswatch(*command)
        assert result.returncode == 2
        assert "newswatch.yaml" in result.stderr
        assert result.stdout == ""
    assert not (newswatch.workdir / "newswatch.db").exists()


def test_check_accepts_good_config(newswatch):
    newswatch.write_config(GOOD)
    result = newswatch("check")
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_init_writes_a_config_that_checks(newswatch):
    assert newswatch("init").returncode == 0
    assert newswatch.config.exists()
    result = newswatch("check")
    assert result.returncode == 0, result.stderr
    assert newswatch("init").returncode == 1  # never overwrites


def test_check_shows_topic_query_and_caret(newswatch):
    newswatch.write_config(GOOD.replace("South Korea Ukraine arms", "South (Korea Ukraine"))
    for command in (["check"], ["run", "--once"]):
        result = newswatch(*command)
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[0] == ("newswatch.yaml: topics[0].query: topic 'sk-arms': the query does "
                            "not parse: unbalanced parenthesis")
        assert lines[1:3] == ["  South (Korea Ukraine", "        ^"]
    assert not (newswatch.workdir / "newswatch.db").exists()


def test_topic_filters_are_built(tmp_path):
    text = GOOD.replace("notify: [local]", "notify: [local]\n    min_score: 4.5\n"
                        "    sources: [wire]\n    languages: [en, DE]")
    topic = load_config(write(tmp_path, text)).topics[0]
    assert topic.min_score == 4.5
    assert topic.sources == {"wire"} and topic.languages == {"en", "de"}
    assert topic.accepts("wire", "de-AT") and topic.accepts("wire", None)
    assert not topic.accepts("seeds", "en") and not topic.accepts("wire", "fr")


@pytest.mark.parametrize("options, updates, every, update_every", [
    ("", "developments", False, timedelta(hours=1)),
    ("\n    updates: none\n    update_every: 30m", "none", False, timedelta(minutes=30)),
    ("\n    updates: every_article", "every_article", True, timedelta(hours=1)),
    # The older spelling.
    ("\n    every_article: true", "every_article", True, timedelta(hours=1)),
    ("\n    every_article: true\n    updates: every_article", "every_article", True, timedelta(hours=1)),
    ("\n    updates: developments\n    update_every: 2h", "developments", False, timedelta(hours=2)),
])
def test_topic_updates_are_built(tmp_path, options, updates, every, update_every):
    config = load_config(write(tmp_path, GOOD.replace("notify: [local]", "notify: [local]" + options)))
    topic = config.topics[0]
    assert (topic.updates, topic.every_article, topic.update_every) == (updates, every, update_every)
    assert config.update_every == {topic.name: update_every}
