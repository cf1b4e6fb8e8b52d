"""The seeds demo, as DESIGN.md describes it, run as a user runs it."""
from __future__ import annotations

import shutil

import pytest

from conftest import REPO

SEED_000 = "000_5867867d4832e80a.txt"
SEED_004 = "004_9b88c3d1e34566fc.txt"


@pytest.fixture
def seeds_dir(newswatch):
    """A copy of the repo's seeds/ in the working directory, as in a fresh clone."""
    shutil.copytree(REPO / "seeds", newswatch.workdir / "seeds")
    return newswatch.workdir / "seeds"


def test_seeds_demo_alerts_both_seeds_once(newswatch, seeds_dir):
    first = newswatch("run", "--once", "--config", "seeds/newswatch.yaml")
    assert first.returncode == 0, first.stderr

    assert first.stdout.count("south-korea-ukraine-arms") >= 2
    assert SEED_000 in first.stdout
    assert SEED_004 in first.stdout
    assert "South Korea’s Potential Arms Support for Ukraine" in first.stdout

    second = newswatch("run", "--once", "--config", "seeds/newswatch.yaml")
    assert second.returncode == 0, second.stderr
    assert "south-korea-ukraine-arms" not in second.stdout
    assert second.stdout.strip() == ""


def test_sidebar_only_topic_matches_nothing(newswatch, seeds_dir):
    """Seed 004's "Weekly Best Articles" mention a Komodo dragon; the article does not."""
    newswatch.write_config({
        "sources": [{"name": "seeds", "path": "seeds/"}],
        "topics": [
            {"name": "komodo", "query": "Komodo dragon", "notify": ["local"]},
            {"name": "arms", "query": "South Korea Ukraine arms", "notify": ["local"]},
        ],
        "channels": {"local": ["console://"]},
    })
    run = newswatch("run", "--once")
    assert run.returncode == 0, run.stderr
    assert "komodo" not in run.stdout.lower()
    # Both seeds match, and they are one story (corpus/stories.py: the same storyline,
    # undated, sharing its people and places), so one alert lists both.
    assert run.stdout.count("[newswatch] arms:") == 1
    assert SEED_000 in run.stdout and SEED_004 in run.stdout

    backtest = newswatch("match", "Komodo dragon", "--json")
    assert backtest.returncode == 0, backtest.stderr
    assert backtest.stdout.strip().startswith("[")
    assert "Komodo" not in backtest.stdout


def test_stories_json_lists_each_seed(newswatch, seeds_dir):
    assert newswatch("run", "--once", "--config", "seeds/newswatch.yaml").returncode == 0
    import json

    listed = newswatch("stories", "--json", "--config", "seeds/newswatch.yaml")
    assert listed.returncode == 0, listed.stderr
    stories = json.loads(listed.stdout)
    urls = sorted(a["url"].rsplit("/", 1)[-1] for s in stories for a in s["articles"])
    assert urls == [SEED_000, SEED_004]
    for story in stories:
        assert set(story) >= {"id", "title", "articles"}
        assert all({"url", "title", "source"} <= set(a) for a in story["articles"])
        assert all(a["source"] == "seeds" for a in story["articles"])
