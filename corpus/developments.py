"""Whether an article that joins a story brings a new development, or repeats its news.

A story's first article is its `FIRST` report. Every later article is either `ALSO`, a
further report of news the story already has (another outlet, a rewrite, a copy), or an
`UPDATE`, a new development of it: the contract awarded after the council vote, the
verdict after the trial opened. Topics with ``updates: developments`` alert again on
updates only (alerts/outbox.py, alerts/notifier.py); `newswatch stories` shows every
article's role.

The decision compares the article's story vector (corpus/stories.py: TF-IDF weights of its
names ``e:``, figures ``n:`` and words ``w:``, by term key) with the vectors of the
story's earlier articles, as stored in the story term index. An article is an update
when either holds:

- it is not near what the story has reported: its cosine to each earlier article is
  below `NEAR`;
- it carries names and figures the story has not reported: at least
  `MIN_NEW_PARTICULARS` of them, and either they make up at least `NEW_PARTICULAR_SHARE`
  of the weight of its own names and figures, or at least `HEADLINE_PARTICULARS` of them
  are in its headline. Another outlet's report of the same news names a few people or
  places of its own (a spokesperson it quoted, a local street) and leads with the news
  the story has; a development is mostly about particulars the story has not had, and
  headlines them (the contractor, the sum).

Copies (exact or near duplicates) are never updates: they are `ALSO` before any vectors
are compared (corpus/ingest.py). Thresholds are chosen on the real labelled set's
storylines (tests/stories/; figures in bench/developments.py's output).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from newswatch.corpus import stories
from newswatch.store.models import Article, StoryTerm

Role = Literal["first", "also", "update"]
FIRST: Role = "first"
ALSO: Role = "also"
UPDATE: Role = "update"

#: Below this cosine to every earlier article of its story, an article is news of its own.
NEAR = 0.25
#: New names or figures an update carries at least...
MIN_NEW_PARTICULARS = 3
#: ...making up at least this share of the weight of its names and figures,
NEW_PARTICULAR_SHARE = 0.8
#: ...or this many of them in its headline.
HEADLINE_PARTICULARS = 2

Vector = Mapping[int, float]  # term key -> weight in a unit TF-IDF vector


@dataclass(frozen=True)
class Verdict:
    """The role of a joining article, and why (for logs, tests and the benchmark)."""

    role: Role
    nearest: float  # its cosine to the nearest earlier article
    new_particulars: int  # names and figures no earlier article carries
    new_share: float  # their share of the weight of its names and figures
    headlined: int  # how many of them its headline names


def judge(mine: Vector, particulars: Collection[int], headline: Collection[int],
          earlier: Sequence[Vector]) -> Verdict:
    """The role of an article with story vector `mine` joining a story whose earlier
    articles have the vectors `earlier`. `particulars` are the keys of its names and
    figures, `headline` those its title names (see `Particulars`). Pure."""
    if not mine or not earlier:
        return Verdict(ALSO, 1.0, 0, 0.0, 0)
    nearest = max(sum(w * other.get(k, 0.0) for k, w in mine.items()) for other in earlier)
    told = set().union(*earlier)
    own = {k: w for k, w in mine.items() if k in particulars}
    new = [k for k in own if k not in told]
    share = sum(own[k] for k in new) / (sum(own.values()) or 1.0)
    headlined = sum(1 for k in new if k in headline)
    development = nearest < NEAR or (
        len(new) >= MIN_NEW_PARTICULARS
        and (share >= NEW_PARTICULAR_SHARE or headlined >= HEADLINE_PARTICULARS))
    return Verdict(UPDATE if development else ALSO, nearest, len(new), share, headlined)


@dataclass(frozen=True)
class Particulars:
    """An article's names and figures, by term key, and those its headline names."""

    all: frozenset[int]
    headline: frozenset[int]

    @classmethod
    def of(cls, title: str, terms: Mapping[str, object]) -> Particulars:
        """From the article's title and its story terms (`stories.terms`). The title is
        read as its own body, so that a name it capitalises mid-headline counts; headline
        case is filtered out by keeping only the article's own terms."""
        own = {t for t in terms if t[:2] in ("e:", "n:")}
        named = {t for t in stories.terms(title, title) if t in own}
        return cls(frozenset(map(stories.term_key, own)), frozenset(map(stories.term_key, named)))


def role(session: Session, story_id: int, title: str, terms: stories.Terms, mine: Vector) -> Verdict:
    """The verdict on an article (`title`, story `terms`, story vector `mine`) that joins
    story `story_id`, against the story's stored articles (originals: copies carry no
    vector, and nothing their original does not). Call before the article's own vector is
    stored."""
    particulars = Particulars.of(title, terms)
    return judge(mine, particulars.all, particulars.headline, list(vectors(session, story_id).values()))


# Built once: it runs for every article that joins a story.
_STORY_VECTORS = (
    select(StoryTerm.article_id, StoryTerm.term_key, StoryTerm.weight)
    .where(StoryTerm.article_id.in_(select(Article.id).where(Article.story_id == bindparam("story"))))
)


def vectors(session: Session, story_id: int) -> dict[int, dict[int, float]]:
    """The stored story vectors of the story's articles, by article id."""
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for article_id, key, weight in session.execute(_STORY_VECTORS, {"story": story_id}).all():
        found[article_id][key] = weight or 0.0
    return dict(found)
