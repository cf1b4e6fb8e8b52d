"""The development decision (crawler/developments.py): which article that joins a story
is a new development (an update) and which repeats its news."""
from __future__ import annotations

import pytest

from newswatch.crawler import developments, stories
from newswatch.crawler.developments import ALSO, UPDATE, headline_terms, judge
from plantstory import CONTRACT, COURIER_VOTE, GAZETTE_VOTE, HERALD_VOTE

# The story's earlier articles carried these terms.
STORY = {"e:millbrook": 2, "e:ortiz": 2, "e:dunmore": 2, "n:84": 2, "n:7-2": 2,
         "w:council": 1, "w:plant": 1, "w:water": 1, "w:vote": 1, "w:approv": 1}
KNOWN = {stories.term_key(t) for t in STORY}


def article(*new: str, words: int = 0, known: tuple[str, ...] = tuple(STORY)) -> dict[str, float]:
    """Story terms: the `known` ones, the `new` names/figures, `words` new words."""
    terms = {t: STORY[t] for t in known}
    terms.update({t: 2.0 for t in new})
    terms.update({f"w:other{i}": 1.0 for i in range(words)})
    return terms


@pytest.mark.parametrize("case, terms, headline, role", [
    ("the same particulars and words", article(), (), ALSO),
    ("one more name: a spokesperson quoted", article("e:shah"), ("e:shah",), ALSO),
    ("two new names, even in the headline", article("e:shah", "e:tully"), ("e:shah", "e:tully"), ALSO),
    ("three new names, a minority of its particulars, none headlined",
     article("e:shah", "e:tully", "n:12"), (), ALSO),
    ("three new names, one headlined", article("e:shah", "e:tully", "n:12"), ("e:shah",), ALSO),
    ("three new names, two headlined: a development",
     article("e:harlan", "e:pryce", "n:61.5"), ("e:harlan", "n:61.5"), UPDATE),
    ("new particulars are most of its names and figures",
     article("e:harlan", "e:pryce", "n:61.5", "e:oakdale", "e:whitfield", "n:340",
             known=("e:millbrook", "e:ortiz", "w:plant", "w:water")), (), UPDATE),
    ("few of its terms are the story's: not near it",
     article("e:harlan", words=12, known=("e:millbrook", "w:plant")), (), UPDATE),
    ("new words only, and mostly the story's terms", article(words=4), (), ALSO),
    ("no terms at all", {}, (), ALSO),
])
def test_development_decision(case, terms, headline, role):
    assert judge(terms, KNOWN, headline).role == role, case


def test_verdict_says_what_is_new_and_how_near():
    verdict = judge(article("e:harlan", "e:pryce"), KNOWN)
    assert verdict.new_particulars == ("e:harlan", "e:pryce")
    assert verdict.coverage == pytest.approx(15 / 19)  # the story's weight of 15, of 19


def test_headline_terms_are_the_articles_own_names_and_figures_in_its_title():
    terms = stories.terms(CONTRACT.title, "\n\n".join(CONTRACT.paragraphs))
    assert headline_terms(CONTRACT.title, terms) == {"e:pryce", "n:61.5"}
    # Headline case capitalises words that are no names; only the article's terms count.
    assert headline_terms("Council Backs New Millbrook Water Plant", {"e:millbrook": 2.0}) == {"e:millbrook"}


def test_on_the_fixture_storyline_the_contract_is_an_update_and_the_repeats_are_not():
    def terms(report):
        return stories.terms(report.title, "\n\n".join(report.paragraphs))

    def keys(*reports):
        return {stories.term_key(t) for r in reports for t in terms(r)}

    def role(report, *earlier):
        return judge(terms(report), keys(*earlier), headline_terms(report.title, terms(report))).role

    assert role(HERALD_VOTE, GAZETTE_VOTE) == ALSO
    assert role(CONTRACT, GAZETTE_VOTE, HERALD_VOTE) == UPDATE
    assert role(COURIER_VOTE, GAZETTE_VOTE, HERALD_VOTE, CONTRACT) == ALSO


def test_thresholds_are_stated_once():
    assert 0 < developments.NEAR_COVERAGE < developments.NEW_PARTICULAR_SHARE < 1
    assert developments.HEADLINE_PARTICULARS < developments.MIN_NEW_PARTICULARS
