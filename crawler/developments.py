"""Whether an article that joins a story brings a new development, or repeats its news.

A story's first article is its `FIRST` report. Every later article is either `ALSO`, a
further report of news the story already has (another outlet, a rewrite, a copy), or an
`UPDATE`, a new development of it: the contract awarded after the council vote, the
verdict after the trial opened. Topics with ``updates: developments`` alert again on
updates only (alerts/outbox.py); `newswatch stories` shows every article's role.

The decision compares the article's story terms (crawler/stories.py: named entities
``e:``, figures ``n:``, frequent words ``w:``, each with its weight) with the terms of the
story's earlier articles, as stored in the story term index. An article is an update when
either holds:

- it carries names and figures the story has not reported: at least
  `MIN_NEW_PARTICULARS` of them, and either they make up at least `NEW_PARTICULAR_SHARE`
  of the weight of its own names and figures, or at least `HEADLINE_PARTICULARS` of them
  are in its headline. Another outlet's report of the same news names a few people or
  places of its own (a spokesperson it quoted, a local street) and leads with the news
  the story has; a development is mostly about particulars the story has not had, and
  headlines them (the contractor, the sum);
- it is not near what the story has reported: less than `NEAR_COVERAGE` of its term
  weight is found among the earlier articles' terms.

Copies (exact or near duplicates) are never updates: they are `ALSO` before any terms
are compared (crawler/ingest.py).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from newswatch.crawler import stories
from newswatch.crawler.stories import term_key
from newswatch.store.models import Article, StoryTerm

Role = Literal["first", "also", "update"]
FIRST: Role = "first"
ALSO: Role = "also"
UPDATE: Role = "update"

#: New names or figures an update carries at least...
MIN_NEW_PARTICULARS = 3
#: ...making up at least this share of the weight of its names and figures,
NEW_PARTICULAR_SHARE = 0.65
#: ...or this many of them in its headline.
HEADLINE_PARTICULARS = 2
#: Below this share of its term weight found in the story, an article is news of its own.
NEAR_COVERAGE = 0.3


@dataclass(frozen=True)
class Verdict:
    """The role of a joining article, and why (for logs and tests)."""

    role: Role
    new_particulars: tuple[str, ...]  # names and figures the story had not reported
    coverage: float  # share of the article's term weight the story already carries


def judge(terms: Mapping[str, float], known: Collection[int], headline: Collection[str] = ()) -> Verdict:
    """The role of an article with story `terms` (`headline`: those of them its title
    names, see `headline_terms`) joining a story whose earlier articles carry the term
    keys `known` (`stories.term_key` of each of their terms). Pure."""
    total = sum(terms.values())
    if not terms or not total:
        return Verdict(ALSO, (), 1.0)
    found = {t: term_key(t) in known for t in terms}
    coverage = sum(w for t, w in terms.items() if found[t]) / total
    particulars = {t: w for t, w in terms.items() if t[:2] in ("e:", "n:")}
    new = tuple(sorted(t for t in particulars if not found[t]))
    new_share = sum(particulars[t] for t in new) / (sum(particulars.values()) or 1.0)
    headlined = sum(1 for t in new if t in headline)
    development = ((len(new) >= MIN_NEW_PARTICULARS
                    and (new_share >= NEW_PARTICULAR_SHARE or headlined >= HEADLINE_PARTICULARS))
                   or coverage < NEAR_COVERAGE)
    return Verdict(UPDATE if development else ALSO, new, coverage)


def headline_terms(title: str, terms: Mapping[str, float]) -> set[str]:
    """The names and figures of `terms` (an article's story terms) that its `title` names.
    The title is read as its own body, so that a name it capitalises mid-headline counts
    (headline case is filtered out by keeping only the article's own terms)."""
    return {t for t in stories.terms(title, title) if t[:2] in ("e:", "n:") and t in terms}


def known_terms(session: Session, story_id: int) -> set[int]:
    """The term keys of the story's stored articles (originals: copies have no terms of
    their own, and carry nothing their original does not)."""
    return set(session.scalars(
        select(StoryTerm.term_key).where(
            StoryTerm.article_id.in_(select(Article.id).where(Article.story_id == story_id)))
    ))
