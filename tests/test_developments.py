"""The development decision (corpus/developments.py): which article that joins a story
is a new development (an update) and which repeats its news."""
from __future__ import annotations

import math

import pytest

from newswatch.corpus import developments, stories
from newswatch.corpus.developments import ALSO, UPDATE, Particulars, judge
from newswatch.corpus.ingest import Corpus
from newswatch.store.db import open_store
from support.plantstory import CONTRACT, COURIER_VOTE, GAZETTE_VOTE, HERALD_VOTE, PERMIT, PROTEST

# What the story's earlier article said: its terms and their weights.
STORY = {"e:millbrook": 3.0, "e:ortiz": 2.0, "e:dunmore": 2.0, "n:84": 2.0, "n:7-2": 2.0,
         "w:council": 1.0, "w:plant": 1.0, "w:water": 1.0, "w:vote": 1.0, "w:approv": 1.0}


def vector(terms: dict[str, float]) -> dict[int, float]:
    norm = math.sqrt(sum(w * w for w in terms.values())) or 1.0
    return {stories.term_key(t): w / norm for t, w in terms.items()}


def case(new: tuple[str, ...] = (), headlined: tuple[str, ...] = (), known: tuple[str, ...] = tuple(STORY),
         weight: float = 2.0):
    """An article carrying the story's `known` terms and the `new` names/figures (each
    of `weight`), with `headlined` of them in its title: judge's arguments."""
    terms = {**{t: STORY[t] for t in known}, **{t: weight for t in new}}
    particulars = [stories.term_key(t) for t in terms if t[0] in "en"]
    return vector(terms), particulars, [stories.term_key(t) for t in headlined], [vector(STORY)]


@pytest.mark.parametrize("what, args, role", [
    ("the same names, figures and words", case(), ALSO),
    ("one more name: a spokesperson quoted", case(("e:shah",), ("e:shah",)), ALSO),
    ("two new names, both headlined", case(("e:shah", "e:tully"), ("e:shah", "e:tully")), ALSO),
    ("three new names, a minority of its particulars, none headlined",
     case(("e:shah", "e:tully", "n:12")), ALSO),
    ("three new names, one headlined", case(("e:shah", "e:tully", "n:12"), ("e:shah",)), ALSO),
    ("three new names, two headlined: a development",
     case(("e:harlan", "e:pryce", "n:61.5"), ("e:pryce", "n:61.5")), UPDATE),
    ("new names and figures are most of its particulars",
     case(("e:harlan", "e:pryce", "n:61.5", "e:oakdale", "e:whitfield", "n:340"), (),
          known=("e:millbrook", "w:council", "w:plant", "w:water", "w:vote", "w:approv"), weight=3.0),
     UPDATE),
    ("little in common with what the story said",
     case(("e:harlan",), (), known=("w:plant",), weight=1.0), UPDATE),
    ("no vector at all", ({}, [], [], [vector(STORY)]), ALSO),
])
def test_development_decision(what, args, role):
    assert judge(*args).role == role, (what, judge(*args))


def test_verdict_says_what_is_new_and_how_near():
    verdict = judge(*case(("e:harlan", "e:pryce"), ("e:pryce",)))
    assert (verdict.new_particulars, verdict.headlined) == (2, 1)
    assert verdict.new_share == pytest.approx(4 / 15)  # of 3+2+2+2+2 and 2+2
    assert verdict.nearest == pytest.approx(30 / math.sqrt(30 * 38))


def test_headline_particulars_are_the_articles_own_names_and_figures_in_its_title():
    def named(title, terms):
        return Particulars.of(title, terms).headline

    terms = stories.terms(CONTRACT.title, "\n\n".join(CONTRACT.paragraphs))
    assert named(CONTRACT.title, terms) == {stories.term_key(t) for t in ("e:pryce", "n:61.5")}
    # Headline case capitalises words that are no names; only the article's terms count.
    assert named("Council Backs New Millbrook Water Plant", {"e:millbrook": (1.0, 0.0)}) == {
        stories.term_key("e:millbrook")}


def test_on_the_fixture_storyline_developments_are_updates_and_repeats_are_not(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'newswatch.db'}")
    corpus = Corpus(store, [])
    reports = (GAZETTE_VOTE, HERALD_VOTE, CONTRACT, PROTEST, COURIER_VOTE, PERMIT)
    added = [corpus.add(r.article(), r.source) for r in reports]
    store.close()
    assert len({a.story_id for a in added}) == 1
    assert [a.role for a in added] == ["first", ALSO, UPDATE, UPDATE, ALSO, UPDATE]


def test_thresholds_are_stated_once():
    assert 0 < developments.NEAR < developments.NEW_PARTICULAR_SHARE <= 1
    assert developments.HEADLINE_PARTICULARS < developments.MIN_NEW_PARTICULARS
